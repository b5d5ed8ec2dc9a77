//! Accounts and sessions: signup, login, logout, and who the cookie belongs to.

use std::net::IpAddr;

use app::backend::{Accounts, NewAccount, NewSession};
use app::domain::{Email, Password};
use app::error::AppError;
use app::model::{CurrentUser, SessionInfo};
use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};

use super::{current, presence, sessions, throttle, Services};
use crate::auth;
use crate::state::AppState;
use crate::store::{NewUser, SessionOrigin, Store, StoreError, User};

/// Starts a session for `user`, ending the one the request carried: a new token at every
/// login, so a token planted before login is worthless after it. The browser's user agent and
/// the client's address are kept for the person's list of sessions.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    user: &User,
) -> Result<NewSession, AppError> {
    end_session(state, headers).await?;
    let token = auth::new_session_token();
    let expires_at = crate::store::now_ms() + auth::SESSION_DAYS * 24 * 60 * 60 * 1000;
    let address = client.map(|address| address.to_canonical().to_string());
    let origin = SessionOrigin {
        user_agent: headers.get(http::header::USER_AGENT).and_then(|agent| agent.to_str().ok()),
        address: address.as_deref(),
    };
    state.store.create_session(&auth::token_hash(&token), user.id, expires_at, origin).await?;
    Ok(NewSession { user: current(user), set_cookie: auth::session_cookie(&token, state.config.secure_cookies) })
}

/// The person signed in by `headers`, if `password` is theirs: what account changes ask.
async fn checked_user(state: &AppState, headers: &HeaderMap, password: &str) -> Result<User, AppError> {
    let user = signed_in(state, headers).await?.ok_or(AppError::Unauthorized)?;
    let valid = password.chars().count() <= Password::MAX_CHARS
        && auth::verify_password(password.to_owned(), Some(user.password_hash.clone())).await?;
    if !valid {
        return Err(AppError::Invalid("your current password is not right: nothing was changed".into()));
    }
    Ok(user)
}

/// Deletes an account for good: the avatar file, then the row (sessions, roles, memberships
/// and links go with it; messages stay without an author), then every open socket.
pub(crate) async fn remove_account(state: &AppState, user: &User) -> Result<(), AppError> {
    // Said while their roles still say who may see them: afterwards nobody could be told.
    if state.hub.is_online(user.id) {
        presence::announce(state, user, false).await;
    }
    state.store.delete_user(user.id).await?;
    if let Some(file) = &user.avatar {
        state.avatars.remove(file).await;
    }
    state.hub.end_sockets_of(user.id);
    tracing::info!(user = %user.username, "account deleted");
    Ok(())
}

async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    if let Some(token) = auth::session_token(headers) {
        state.store.delete_session(&auth::token_hash(&token)).await?;
    }
    Ok(())
}

/// The signed-in person, from the session cookie in `headers`.
pub async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, StoreError> {
    match auth::session_token(headers) {
        Some(token) => state.store.session_user(&auth::token_hash(&token)).await,
        None => Ok(None),
    }
}

/// A new one-time set-password link for a person, starting with `base_url`.
pub async fn password_link(store: &Store, base_url: &str, user_id: i64) -> Result<String, StoreError> {
    let token = auth::new_session_token();
    store.create_password_link(user_id, &auth::token_hash(&token), auth::password_link_expiry()).await?;
    Ok(format!("{base_url}{}", auth::password_link_path(&token)))
}

#[async_trait]
impl Accounts for Services {
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<CurrentUser>, AppError> {
        Ok(signed_in(self, headers).await?.as_ref().map(current))
    }

    async fn signup(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        account: NewAccount,
    ) -> Result<NewSession, AppError> {
        if let Some(address) = client {
            throttle::spend(self, throttle::signup_address_key(address), self.config.limits.signups_per_address)
                .await?;
        }
        let hash = auth::hash_password(account.password.expose().to_owned()).await?;
        let user = self
            .store
            .create_user(NewUser {
                username: account.username.as_str(),
                email: account.email.as_ref().map(|e| e.as_str()),
                password_hash: &hash,
                role: &self.config.default_role,
            })
            .await?;
        tracing::info!(user = %user.username, "account created");
        start_session(self, headers, client, &user).await
    }

    async fn login(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        login: &str,
        password: &str,
    ) -> Result<NewSession, AppError> {
        // Longer than any password we accept: refuse without spending a hash on it.
        if login.len() > 254 || password.chars().count() > Password::MAX_CHARS {
            return Err(AppError::WrongCredentials);
        }
        let user = self.store.find_user_by_login(login).await?;
        let limits = &self.config.limits;
        let account = match &user {
            Some(user) => throttle::account_key(user.id),
            None => throttle::unknown_login_key(login),
        };
        let mut keys = vec![(account, limits.login_failures_per_account)];
        if let Some(address) = client {
            keys.push((throttle::login_address_key(address), limits.login_failures_per_address));
        }
        // While blocked, even the right password is refused the same way, without a hash.
        let names: Vec<String> = keys.iter().map(|(key, _)| key.clone()).collect();
        throttle::check(self, &names).await?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let valid = auth::verify_password(password.to_owned(), hash).await?;
        if !valid {
            tracing::info!(login = %login.trim(), "wrong password");
            throttle::count(self, &keys).await?;
            return Err(AppError::WrongCredentials);
        }
        // A right password forgives the account's failures (not the address's).
        self.store.throttle_clear(&names[..1]).await?;
        match user {
            Some(user) if user.is_suspended() => {
                tracing::info!(user = %user.username, "suspended account refused at login");
                Err(AppError::Suspended)
            }
            Some(user) => {
                tracing::info!(user = %user.username, "logged in");
                start_session(self, headers, client, &user).await
            }
            // Nothing verifies without an account (the check ran against a dummy hash).
            None => Err(AppError::WrongCredentials),
        }
    }

    async fn logout(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError> {
        end_session(self, headers).await?;
        Ok(auth::clear_session_cookie(self.config.secure_cookies))
    }

    async fn change_email(&self, headers: &HeaderMap, email: Option<Email>, password: &str) -> Result<(), AppError> {
        let user = checked_user(self, headers, password).await?;
        self.store.set_email(user.id, email.as_ref().map(Email::as_str)).await?;
        tracing::info!(user = %user.username, "email changed");
        Ok(())
    }

    async fn change_password(&self, headers: &HeaderMap, current: &str, new: Password) -> Result<(), AppError> {
        let user = checked_user(self, headers, current).await?;
        let hash = auth::hash_password(new.expose().to_owned()).await?;
        self.store.set_password_hash(user.id, &hash).await?;
        let keep = auth::session_token(headers).map(|token| auth::token_hash(&token));
        let ended = self.store.delete_sessions_of(user.id, keep.as_deref()).await?;
        self.hub.end_sockets_of(user.id);
        tracing::info!(user = %user.username, other_sessions_ended = ended, "password changed");
        Ok(())
    }

    async fn sign_out_everywhere(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError> {
        let user = signed_in(self, headers).await?.ok_or(AppError::Unauthorized)?;
        let ended = self.store.delete_sessions_of(user.id, None).await?;
        self.hub.end_sockets_of(user.id);
        tracing::info!(user = %user.username, sessions_ended = ended, "signed out everywhere");
        Ok(auth::clear_session_cookie(self.config.secure_cookies))
    }

    async fn delete_account(&self, headers: &HeaderMap, password: &str) -> Result<HeaderValue, AppError> {
        let user = checked_user(self, headers, password).await?;
        remove_account(self, &user).await?;
        Ok(auth::clear_session_cookie(self.config.secure_cookies))
    }

    async fn sessions(&self, headers: &HeaderMap) -> Result<Vec<SessionInfo>, AppError> {
        let user = signed_in(self, headers).await?.ok_or(AppError::Unauthorized)?;
        let current = auth::session_token(headers).map(|token| auth::token_hash(&token));
        let rows = self.store.sessions_of(user.id, current.as_deref()).await?;
        Ok(rows.into_iter().map(sessions::describe).collect())
    }

    async fn end_session(&self, headers: &HeaderMap, id: &str) -> Result<(), AppError> {
        let user = signed_in(self, headers).await?.ok_or(AppError::Unauthorized)?;
        let current = auth::session_token(headers).map(|token| auth::token_hash(&token));
        let listed = self.store.sessions_of(user.id, current.as_deref()).await?;
        match listed.iter().find(|session| session.handle == id) {
            None => return Err(AppError::NotFound),
            Some(session) if session.current => {
                return Err(AppError::NotAllowed("this is the session you are using: log out instead".into()))
            }
            Some(_) => {}
        }
        if self.store.delete_session_by_handle(user.id, id).await? {
            // Every socket of theirs closes; the tabs of their other sessions find they are
            // still signed in and reconnect at once, the ended one's stop.
            self.hub.end_sockets_of(user.id);
            tracing::info!(user = %user.username, "a session ended from settings");
        }
        Ok(())
    }

    async fn password_link(&self, token: &str) -> Result<String, AppError> {
        let user = self.store.password_link_user(&auth::token_hash(token)).await?;
        user.map(|user| user.username).ok_or(AppError::NotFound)
    }

    async fn set_password(
        &self,
        headers: &HeaderMap,
        client: Option<IpAddr>,
        token: &str,
        password: Password,
    ) -> Result<NewSession, AppError> {
        let hash = auth::hash_password(password.expose().to_owned()).await?;
        let user = self.store.use_password_link(&auth::token_hash(token), &hash).await?.ok_or_else(|| {
            AppError::Invalid("this link has expired or was used already: ask an admin for a new one".into())
        })?;
        self.hub.end_sockets_of(user.id);
        tracing::info!(user = %user.username, "password set with a one-time link");
        start_session(self, headers, client, &user).await
    }
}
