//! Account server functions at stable endpoints (`/api/signup`, `/api/login`, `/api/logout`,
//! `/api/me`): plain HTML forms, bots and tests post to them as well as the hydrated app.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::CurrentUser;

#[server(endpoint = "me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    crate::api::request::respond(crate::api::request::current_user().await)
}

#[server(endpoint = "signup")]
pub async fn signup(
    username: String,
    password: String,
    email: Option<String>,
    next: Option<String>,
) -> Result<CurrentUser, AppError> {
    use crate::api::request::*;
    use crate::backend::NewAccount;
    use crate::domain::{Email, Password, Username};

    let result = async {
        let account = NewAccount {
            username: Username::parse(&username).map_err(AppError::Invalid)?,
            password: Password::parse(&password).map_err(AppError::Invalid)?,
            email: Email::parse_optional(email.as_deref().unwrap_or_default()).map_err(AppError::Invalid)?,
        };
        let session = backend()?.signup(&request_headers(), client_address(), account).await?;
        set_cookie(session.set_cookie);
        Ok(session.user)
    }
    .await;
    let next = next.unwrap_or_default();
    let email = email.unwrap_or_default();
    // A new person is asked who they are first, unless they came for a particular page.
    let welcome = if next.is_empty() { url::WELCOME.to_owned() } else { safe_next(Some(&next)) };
    finish_form(result, &welcome, url::SIGNUP, &[("username", &username), ("email", &email), ("next", &next)])
}

#[server(endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<CurrentUser, AppError> {
    use crate::api::request::*;

    let result = async {
        let session = backend()?.login(&request_headers(), client_address(), &username, &password).await?;
        set_cookie(session.set_cookie);
        Ok(session.user)
    }
    .await;
    let next = next.unwrap_or_default();
    finish_form(result, &safe_next(Some(&next)), url::LOGIN, &[("username", &username), ("next", &next)])
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async {
        let clear = backend()?.logout(&request_headers()).await?;
        set_cookie(clear);
        Ok(())
    }
    .await;
    finish_form(result, url::LOGIN, url::LOGIN, &[])
}

/// Changes the signed-in person's password; every other session of theirs ends.
#[server(endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::Password;

    let result = async {
        let new = Password::parse(&new_password).map_err(AppError::Invalid)?;
        backend()?.change_password(&request_headers(), &current_password, new).await
    }
    .await;
    finish_form(result, "/settings?changed=password", url::SETTINGS, &[])
}

/// Ends every session of the signed-in person, on every device, this one included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async {
        let clear = backend()?.sign_out_everywhere(&request_headers()).await?;
        set_cookie(clear);
        Ok(())
    }
    .await;
    finish_form(result, url::LOGIN, url::SETTINGS, &[])
}

/// The signed-in person's live sessions (browser and system, address, signed in, last seen),
/// this browser's marked.
#[server(endpoint = "sessions")]
pub async fn my_sessions() -> Result<Vec<crate::model::SessionInfo>, AppError> {
    use crate::api::request::*;
    respond(async { backend()?.sessions(&request_headers()).await }.await)
}

/// Ends one of the signed-in person's other sessions: that browser is signed out and its open
/// sockets close at once.
#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use crate::api::request::*;
    let result = backend()?.end_session(&request_headers(), id.trim()).await;
    finish_form(result, "/settings?changed=session", url::SETTINGS, &[])
}

/// Changes (or, when empty, removes) the signed-in person's email, after checking their
/// password. Emails are unique.
#[server(endpoint = "change_email")]
pub async fn change_email(email: String, current_password: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::Email;

    let result = async {
        let email = Email::parse_optional(&email).map_err(AppError::Invalid)?;
        backend()?.change_email(&request_headers(), email, &current_password).await
    }
    .await;
    finish_form(result, "/settings?changed=email", url::SETTINGS, &[])
}

/// Deletes the signed-in person's account after checking their password. Their messages stay
/// in rooms, shown as from "deleted user".
#[server(endpoint = "delete_account")]
pub async fn delete_account(current_password: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async {
        let clear = backend()?.delete_account(&request_headers(), &current_password).await?;
        set_cookie(clear);
        Ok(())
    }
    .await;
    finish_form(result, "/login?deleted=1", url::SETTINGS, &[])
}

/// Who a one-time set-password link is for (`NotFound` once it is used or expired).
#[server(endpoint = "password_link")]
pub async fn password_link(token: String) -> Result<String, AppError> {
    use crate::api::request::*;

    respond(async { backend()?.password_link(&token).await }.await)
}

/// Uses a one-time link: sets the password, ends every other session, and signs in.
#[server(endpoint = "set_password")]
pub async fn set_password(token: String, new_password: String) -> Result<CurrentUser, AppError> {
    use crate::api::request::*;
    use crate::domain::Password;

    let result = async {
        let password = Password::parse(&new_password).map_err(AppError::Invalid)?;
        let session = backend()?.set_password(&request_headers(), client_address(), &token, password).await?;
        set_cookie(session.set_cookie);
        Ok(session.user)
    }
    .await;
    finish_form(result, "/", "/set-password", &[("token", &token)])
}
