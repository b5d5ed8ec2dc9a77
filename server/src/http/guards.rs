//! Guards in front of every route: request bodies are bounded, state-changing requests from
//! other sites are refused, and every response carries the security headers.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method};

use super::origin::{check_origin, OriginCheck};
use crate::error::Error;
use crate::state::AppState;

/// The largest request body accepted: forms and server-function calls are small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest provisioning sync accepted (tens of thousands of people).
pub const SYNC_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The body limit of a path: small everywhere but the routes that take files or lists.
pub fn body_limit(path: &str, max_upload_bytes: u64) -> usize {
    match path.trim_end_matches('/') {
        super::AVATAR_UPLOAD_PATH => super::avatars::UPLOAD_BODY_BYTES,
        super::SYNC_PATH => SYNC_BODY_BYTES,
        app::url::ATTACH => super::files::attach_body_limit(max_upload_bytes),
        _ => MAX_BODY_BYTES,
    }
}

pub async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = body_limit(request.uri().path(), state.config.max_upload_bytes);
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Error::PayloadTooLarge { limit }.into_response();
    }
    // Bodies without a declared length are cut off at the same limit while being read.
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// SameSite=Lax already keeps the session cookie off cross-site posts; this refuses them
/// outright, with a message, so nothing is changed by a page on another site.
pub async fn same_origin_posts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && check_origin(request.headers(), &state.config.allowed_origins) == OriginCheck::Foreign {
        return Error::Forbidden("cross-site request refused: use the chat's own pages to do this").into_response();
    }
    next.run(request).await
}

/// What answers that are not pages may do in a browser: nothing (pages set their own policy,
/// with the nonce of their inline scripts: `app::page_policy`).
const NOTHING_POLICY: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// The headers every response carries: a Content-Security-Policy (unless the page set its own),
/// no MIME sniffing, never framed (also for browsers without `frame-ancestors`), the referrer
/// only within the site, and, when the site is served over HTTPS (`SECURE_COOKIES=true`), HSTS.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(NOTHING_POLICY);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.config.secure_cookies {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
