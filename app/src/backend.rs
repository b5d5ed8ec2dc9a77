//! The server's side of the edge. Server functions in this crate validate their input into
//! domain types and then call this trait; the `server` crate implements it with the database,
//! the fan-out hub and the session store. Nothing here touches a database.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue};

use crate::domain::{Email, MessageBody, Password, Username};
use crate::error::AppError;
use crate::model::{CurrentUser, RoomPage};

/// A new account, validated.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub email: Option<Email>,
}

/// A freshly created session: the user, and the `Set-Cookie` value that carries it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: CurrentUser,
    pub set_cookie: HeaderValue,
}

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in person, from the session cookie in `headers`.
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<CurrentUser>, AppError>;

    /// Creates the account and signs it in, ending any session `headers` carried.
    async fn signup(&self, headers: &HeaderMap, account: NewAccount) -> Result<NewSession, AppError>;

    /// Checks the password of the account named by `login` (a username or an email) and starts
    /// a new session, ending any session `headers` carried.
    async fn login(&self, headers: &HeaderMap, login: &str, password: &str) -> Result<NewSession, AppError>;

    /// Ends the session in `headers`; gives the `Set-Cookie` value that clears the cookie.
    async fn logout(&self, headers: &HeaderMap) -> Result<HeaderValue, AppError>;

    /// The room and its latest messages, for a person allowed to see it.
    async fn room_page(&self, user: &CurrentUser, room: &str) -> Result<RoomPage, AppError>;

    /// Stores a message and delivers it to everyone in the room, exactly as the socket does.
    async fn post_message(&self, user: &CurrentUser, room: &str, body: MessageBody) -> Result<(), AppError>;
}

/// How the server provides its backend to server functions (through Leptos context).
pub type SharedBackend = Arc<dyn Backend>;
