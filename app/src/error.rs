//! The one error type of the app layer: what server functions return and pages show. Every
//! variant's text is written for the person using the app; internals are logged by the server
//! and arrive here only as `Internal`.

use serde::{Deserialize, Serialize};
use server_fn_error::*;

// Re-exported through leptos; kept in a private module so the imports read cleanly.
mod server_fn_error {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A field did not pass validation; the text says what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("that username is taken: choose another one")]
    UsernameTaken,
    #[error("that email is already used by another account: log in instead, or use another address")]
    EmailTaken,
    /// Deliberately the same for an unknown user and a wrong password.
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("please log in to continue")]
    Unauthorized,
    /// Only said to someone who gave the right password.
    #[error("this account is suspended: ask an admin of this chat if you think it is a mistake")]
    Suspended,
    /// Signed in, allowed to see this, but not to do it; the text says why and what to do.
    #[error("{0}")]
    NotAllowed(String),
    #[error("this page does not exist, or you do not have access to it")]
    NotFound,
    /// Too many tries of something strangers repeat (a password, a sign-up): the number is how
    /// many seconds to wait.
    #[error("too many attempts: wait {} and try again", wait_text(*.0))]
    TooManyAttempts(u32),
    #[error("could not reach the server: check your connection and try again")]
    Network,
    #[error("something went wrong on our side; please try again in a moment")]
    Internal,
}

/// "12 seconds", "1 minute", "15 minutes".
fn wait_text(seconds: u32) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

impl AppError {
    /// A short stable code, used in redirect URLs when a plain HTML form (no JavaScript) gets
    /// an error back: the page reads it from `?error=` and shows the same message.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::UsernameTaken => "username_taken",
            AppError::EmailTaken => "email_taken",
            AppError::WrongCredentials => "wrong_credentials",
            AppError::Unauthorized => "unauthorized",
            AppError::Suspended => "suspended",
            AppError::NotAllowed(_) => "not_allowed",
            AppError::NotFound => "not_found",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::Network => "network",
            AppError::Internal => "internal",
        }
    }

    /// The HTTP status a server function answers with when it fails with this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::UsernameTaken | AppError::EmailTaken => 409,
            AppError::WrongCredentials | AppError::Unauthorized => 401,
            AppError::NotAllowed(_) | AppError::Suspended => 403,
            AppError::NotFound => 404,
            AppError::TooManyAttempts(_) => 429,
            AppError::Network => 503,
            AppError::Internal => 500,
        }
    }

    /// The text a redirect carries beside the code, for the variants that have one.
    pub fn detail(&self) -> Option<String> {
        match self {
            AppError::Invalid(text) | AppError::NotAllowed(text) => Some(text.clone()),
            AppError::TooManyAttempts(seconds) => Some(seconds.to_string()),
            _ => None,
        }
    }

    /// The inverse of [`AppError::code`]; `detail` carries the text of `Invalid` and `NotAllowed`.
    pub fn from_code(code: &str, detail: Option<String>) -> Option<Self> {
        Some(match code {
            "invalid" => AppError::Invalid(detail.unwrap_or_else(|| "please check the form and try again".into())),
            "username_taken" => AppError::UsernameTaken,
            "email_taken" => AppError::EmailTaken,
            "wrong_credentials" => AppError::WrongCredentials,
            "unauthorized" => AppError::Unauthorized,
            "suspended" => AppError::Suspended,
            "not_allowed" => AppError::NotAllowed(detail.unwrap_or_else(|| "that is not allowed here".into())),
            "not_found" => AppError::NotFound,
            "too_many_attempts" => AppError::TooManyAttempts(detail.and_then(|d| d.parse().ok()).unwrap_or(60)),
            "network" => AppError::Network,
            "internal" => AppError::Internal,
            _ => return None,
        })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::Network,
            // The form was missing a field or had one of the wrong type.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid("the form was incomplete: reload the page and try again".into())
            }
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for error in [
            AppError::Invalid("x".into()),
            AppError::UsernameTaken,
            AppError::EmailTaken,
            AppError::WrongCredentials,
            AppError::Unauthorized,
            AppError::Suspended,
            AppError::NotAllowed("y".into()),
            AppError::NotFound,
            AppError::TooManyAttempts(42),
            AppError::Network,
            AppError::Internal,
        ] {
            let detail = error.detail();
            assert_eq!(AppError::from_code(error.code(), detail), Some(error));
        }
        assert_eq!(AppError::from_code("nonsense", None), None);
    }

    #[test]
    fn a_wait_is_said_in_words() {
        assert_eq!(AppError::TooManyAttempts(1).to_string(), "too many attempts: wait a second and try again");
        assert_eq!(AppError::TooManyAttempts(32).to_string(), "too many attempts: wait 32 seconds and try again");
        assert_eq!(AppError::TooManyAttempts(900).to_string(), "too many attempts: wait 15 minutes and try again");
    }

    #[test]
    fn internal_errors_do_not_leak_details() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::ServerError("SQL: no such table users".into()));
        assert_eq!(error, AppError::Internal);
        assert!(!error.to_string().contains("SQL"));
    }
}
