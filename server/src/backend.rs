//! The server's implementation of `app::backend::Backend`: what server functions call.

use app::backend::{Backend, NewAccount, NewSession};
use app::domain::{MessageBody, Password, RoomName};
use app::error::AppError;
use app::model::{CurrentUser, RoomPage, ROOM_PAGE_MESSAGES};
use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};

use crate::auth;
use crate::error::to_app_error;
use crate::state::AppState;
use crate::store::{NewUser, Room, User};

fn current(user: &User) -> CurrentUser {
    CurrentUser { id: user.id, username: user.username.clone(), display_name: user.shown_name() }
}

fn internal(error: anyhow::Error) -> AppError {
    tracing::error!(error = format!("{error:#}"), "internal error");
    AppError::Internal
}

impl AppState {
    /// Starts a session for `user`, ending the one the request carried: a new token at every
    /// login, so a token planted before login is worthless after it.
    async fn start_session(&self, headers: &HeaderMap, user: &User) -> Result<NewSession, AppError> {
        self.end_session(headers).await?;
        let token = auth::new_session_token();
        let expires_at = crate::store::now_ms() + auth::SESSION_DAYS * 24 * 60 * 60 * 1000;
        self.store.create_session(&auth::token_hash(&token), user.id, expires_at).await.map_err(to_app_error)?;
        Ok(NewSession { user: current(user), set_cookie: auth::session_cookie(&token, self.config.secure_cookies) })
    }

    async fn end_session(&self, headers: &HeaderMap) -> Result<(), AppError> {
        if let Some(token) = auth::session_token(headers) {
            self.store.delete_session(&auth::token_hash(&token)).await.map_err(to_app_error)?;
        }
        Ok(())
    }

    async fn visible_room(&self, name: &str) -> Result<Room, AppError> {
        let name = RoomName::parse(name).ok_or(AppError::NotFound)?;
        self.store.room_by_name(name.as_str()).await.map_err(to_app_error)?.ok_or(AppError::NotFound)
    }

    async fn user(&self, user: &CurrentUser) -> Result<User, AppError> {
        self.store.user_by_id(user.id).await.map_err(to_app_error)?.ok_or(AppError::Unauthorized)
    }
}

#[async_trait]
impl Backend for AppState {
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<CurrentUser>, AppError> {
        Ok(self.user_from_headers(headers).await.map_err(to_app_error)?.as_ref().map(current))
    }

    async fn signup(&self, headers: &HeaderMap, account: NewAccount) -> Result<NewSession, AppError> {
        let hash = auth::hash_password(account.password.expose().to_owned()).await.map_err(internal)?;
        let user = self
            .store
            .create_user(NewUser {
                username: account.username.as_str(),
                email: account.email.as_ref().map(|e| e.as_str()),
                password_hash: &hash,
            })
            .await
            .map_err(to_app_error)?;
        tracing::info!(user = %user.username, "account created");
        self.start_session(headers, &user).await
    }

    async fn login(&self, headers: &HeaderMap, login: &str, password: &str) -> Result<NewSession, AppError> {
        // Longer than any password we accept: refuse without spending a hash on it.
        if login.len() > 254 || password.chars().count() > Password::MAX_CHARS {
            return Err(AppError::WrongCredentials);
        }
        let user = self.store.find_user_by_login(login).await.map_err(to_app_error)?;
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let valid = auth::verify_password(password.to_owned(), hash).await.map_err(internal)?;
        match user {
            Some(user) if valid => {
                tracing::info!(user = %user.username, "logged in");
                self.start_session(headers, &user).await
            }
            _ => Err(AppError::WrongCredentials),
        }
    }

    async fn logout(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError> {
        self.end_session(headers).await?;
        Ok(auth::clear_session_cookie(self.config.secure_cookies))
    }

    async fn room_page(&self, _user: &CurrentUser, room: &str) -> Result<RoomPage, AppError> {
        let room = self.visible_room(room).await?;
        let messages = self.store.latest_messages(&room, ROOM_PAGE_MESSAGES).await.map_err(to_app_error)?;
        Ok(RoomPage {
            online: self.hub.online_count(room.id),
            messages: messages.into_iter().map(|m| m.into_wire(&room.name)).collect(),
            name: room.name,
            title: room.title,
        })
    }

    async fn post_message(&self, user: &CurrentUser, room: &str, body: MessageBody) -> Result<(), AppError> {
        let room = self.visible_room(room).await?;
        let author = self.user(user).await?;
        AppState::post_message(self, &room, &author, &body).await.map_err(to_app_error)?;
        Ok(())
    }
}
