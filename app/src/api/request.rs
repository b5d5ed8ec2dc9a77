//! What every server function uses on the server: the backend, the request's headers, the
//! signed-in person, the session cookie, and the fallback for plain HTML form posts made
//! without JavaScript.

use http::{header, HeaderMap, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::backend::SharedBackend;
use crate::error::AppError;
use crate::model::CurrentUser;
pub use crate::url::{self, safe_next};

pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::Internal)
}

pub fn request_headers() -> HeaderMap {
    use_context::<http::request::Parts>().map(|parts| parts.headers).unwrap_or_default()
}

pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    backend()?.current_user(&request_headers()).await
}

pub async fn require_user() -> Result<CurrentUser, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

pub fn set_cookie(value: HeaderValue) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// Whether this request is a plain browser form post (or navigation) rather than a call from
/// the hydrated app: the same test leptos_axum uses to decide between a real redirect and a
/// client-side one.
fn is_plain_form_post() -> bool {
    request_headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Ends a server function that a form may have posted. On success the browser goes to
/// `success_path`. On error, the hydrated app gets the error back to show beside the form, and a
/// plain form post is sent back to `form_path` with the error in the query string, where the
/// page shows the same message.
pub fn finish_form<T>(
    result: Result<T, AppError>,
    success_path: &str,
    form_path: &str,
    keep: &[(&str, &str)],
) -> Result<T, AppError> {
    match &result {
        Ok(_) => leptos_axum::redirect(success_path),
        Err(error) if is_plain_form_post() => {
            let mut query = vec![("error", error.code().to_owned())];
            if let Some(detail) = error.detail() {
                query.push(("detail", detail));
            }
            query.extend(keep.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, (*v).to_owned())));
            leptos_axum::redirect(&format!("{form_path}?{}", encode_query(&query)));
        }
        Err(_) => return respond(result),
    }
    result
}

/// Gives a failed server function the HTTP status of its error (Leptos answers 500 for every
/// error otherwise), so that bots and scripts can tell a wrong password from an outage.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let (Err(error), Some(response)) = (&result, use_context::<ResponseOptions>()) {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
        if let AppError::TooManyAttempts(seconds) = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*seconds));
        }
    }
    result
}

/// The address the request came from (the connection's peer, or with `TRUST_FORWARDED_FOR`
/// the proxy's `X-Forwarded-For`): what limits per client count by.
pub fn client_address() -> Option<std::net::IpAddr> {
    use_context::<http::request::Parts>()?.extensions.get::<crate::backend::ClientAddress>().map(|a| a.0)
}

fn encode_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", crate::url::percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query(&[("error", "invalid".into()), ("detail", "a b&c=d".into())]),
            "error=invalid&detail=a%20b%26c%3Dd"
        );
    }
}
