//! The HTTP layer's error: what a client is told (status and a sentence that says what to do),
//! with internals logged and never shown.

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
        (self.status(), text).into_response()
    }
}

/// Turns a store error into the app layer's error, logging what the person will not see.
pub fn to_app_error(error: crate::store::StoreError) -> app::error::AppError {
    use crate::store::StoreError;
    match error {
        StoreError::UsernameTaken => app::error::AppError::UsernameTaken,
        StoreError::EmailTaken => app::error::AppError::EmailTaken,
        other => {
            tracing::error!(error = %other, "storage error");
            app::error::AppError::Internal
        }
    }
}
