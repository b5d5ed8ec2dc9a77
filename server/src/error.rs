//! The HTTP layer's error: what a client is told (status and a sentence that says what to do),
//! with internals logged and never shown.

use app::error::AppError;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("log in first: this needs a signed-in session")]
    Unauthorized,
    #[error("that token is not valid (it may have been revoked): ask an operator for a new one")]
    BadToken,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no such room, or you do not have access to it")]
    NotFound,
    #[error("the request body is too large: the limit is {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error(
        "you have {0} sockets open, as many as one person may: close a tab or another device's chat, then try again"
    )]
    TooManySockets(u32),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for Error {
    fn from(error: crate::store::StoreError) -> Self {
        Error::Internal(error.into())
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized | Error::BadToken => StatusCode::UNAUTHORIZED,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManySockets(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let text = match &self {
            Error::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                "something went wrong on our side; please try again in a moment".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (self.status(), text).into_response();
        if let Error::TooManySockets(_) = self {
            // A tab closing frees a place at once; a minute is a guess at when one will have.
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("60"));
        }
        response
    }
}

/// A store error as the person is told it: what they can act on (a name or an email in use),
/// else `Internal`, with the cause logged.
impl From<crate::store::StoreError> for AppError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            StoreError::UsernameTaken => AppError::UsernameTaken,
            StoreError::EmailTaken => AppError::EmailTaken,
            other => {
                tracing::error!(error = %other, "storage error");
                AppError::Internal
            }
        }
    }
}

/// A message that could not be posted, as the poster is told it.
impl From<crate::services::committer::PostError> for AppError {
    fn from(error: crate::services::committer::PostError) -> Self {
        use crate::services::committer::PostError;
        match error {
            PostError::NotMember => AppError::NotAllowed("join the room to post in it".into()),
            PostError::RoomGone => AppError::NotFound,
            PostError::NoSuchReply => AppError::Invalid(error.to_string()),
            PostError::TooFast(wait) => AppError::TooManyAttempts(wait.as_secs().max(1) as u32),
            PostError::Store(error) => error.into(),
        }
    }
}

/// A change to a message that was not made, as the person who asked is told it.
impl From<crate::services::changes::ChangeError> for AppError {
    fn from(error: crate::services::changes::ChangeError) -> Self {
        use crate::services::changes::ChangeError;
        match error {
            ChangeError::NoSuchMessage => AppError::Invalid(error.to_string()),
            ChangeError::NotMember
            | ChangeError::NotYours
            | ChangeError::NotYoursToDelete
            | ChangeError::TooManyReactions => AppError::NotAllowed(error.to_string()),
            ChangeError::TooFast(wait) => AppError::TooManyAttempts(wait.as_secs().max(1) as u32),
            ChangeError::Store(error) => error.into(),
        }
    }
}

impl From<crate::auth::HashError> for AppError {
    fn from(error: crate::auth::HashError) -> Self {
        tracing::error!(%error, "internal error");
        AppError::Internal
    }
}
