//! `POST /api/avatar` (a multipart form with an `avatar` file field and an optional `next`)
//! and `POST /api/avatar/remove`. A browser's plain form post (`Accept: text/html`) is
//! redirected back to `next` (with `?avatar_error=` on failure, which the page shows); anything else
//! gets JSON `{"avatar": "/avatars/<file>"}` or a status with a sentence that says what to do.

use app::error::AppError;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use http::{header, HeaderMap, StatusCode};

use super::AVATAR_UPLOAD_PATH;
use crate::avatars::{self, AvatarError};
use crate::services::accounts::signed_in;
use crate::services::throttle;
use crate::state::AppState;
use crate::store::StoreError;

/// How many avatars are decoded at once: each takes a core for up to a second, so a burst of
/// uploads queues here instead of starving everything else of CPU.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The largest upload request read to the end (so a too-large file gets a clear answer, not a
/// reset connection); bigger requests are refused by their `Content-Length`.
pub const UPLOAD_BODY_BYTES: usize = 5 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(AVATAR_UPLOAD_PATH, post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)))
        .route("/api/avatar/remove", post(remove))
}

enum Failure {
    SignIn,
    /// Too many uploads: wait this many seconds.
    TooMany(u32),
    Avatar(AvatarError),
    Internal,
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "storage error");
        Failure::Internal
    }
}

async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut next = None;
    let result = async {
        let user = signed_in(&state, &headers).await?.ok_or(Failure::SignIn)?;
        let mut multipart = multipart.map_err(|_| Failure::Avatar(AvatarError::Missing))?;
        let mut bytes = None;
        while let Some(mut field) = multipart.next_field().await.map_err(|_| Failure::Avatar(AvatarError::Missing))? {
            match field.name() {
                Some("next") => next = field.text().await.ok(),
                Some("avatar") => {
                    // Read to the end even past the limit, keeping only what fits.
                    let mut kept = Vec::new();
                    let mut too_large = false;
                    while let Some(chunk) = field.chunk().await.map_err(|_| Failure::Avatar(AvatarError::TooLarge))? {
                        too_large |= kept.len() + chunk.len() > avatars::MAX_BYTES;
                        if !too_large {
                            kept.extend_from_slice(&chunk);
                        }
                    }
                    if too_large {
                        return Err(Failure::Avatar(AvatarError::TooLarge));
                    }
                    bytes = Some(kept);
                }
                _ => {}
            }
        }
        let bytes = bytes.ok_or(Failure::Avatar(AvatarError::Missing))?;
        let key = throttle::avatars_by_key(user.id);
        throttle::spend(&state, key, state.config.limits.avatars_per_hour).await.map_err(|error| match error {
            AppError::TooManyAttempts(seconds) => Failure::TooMany(seconds),
            _ => Failure::Internal,
        })?;
        let _turn = DECODING.acquire().await.map_err(|_| Failure::Internal)?;
        let png = tokio::task::spawn_blocking(move || avatars::process(&bytes))
            .await
            .map_err(|_| Failure::Internal)?
            .map_err(Failure::Avatar)?;
        let name = state.avatars.store(user.id, png).await.map_err(|error| {
            tracing::error!(%error, "could not write an avatar");
            Failure::Internal
        })?;
        match state.store.set_avatar(user.id, Some(&name)).await {
            Ok(old) => {
                if let Some(old) = old {
                    state.avatars.remove(&old).await;
                }
                tracing::info!(user = %user.username, "avatar changed");
                Ok(app::url::avatar(&name))
            }
            Err(error) => {
                tracing::error!(%error, "could not save an avatar");
                state.avatars.remove(&name).await;
                Err(Failure::Internal)
            }
        }
    }
    .await;
    answer(&headers, next.as_deref(), result)
}

async fn remove(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let user = signed_in(&state, &headers).await?.ok_or(Failure::SignIn)?;
        let old = state.store.set_avatar(user.id, None).await?;
        if let Some(old) = old {
            state.avatars.remove(&old).await;
        }
        Ok(String::new())
    }
    .await;
    answer(&headers, None, result)
}

fn answer(headers: &HeaderMap, next: Option<&str>, result: Result<String, Failure>) -> Response {
    let browser_form = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let next = app::url::safe_next(next.filter(|n| !n.is_empty()).or(Some(app::url::SETTINGS)));
    let (status, message) = match &result {
        Ok(url) if browser_form => return Redirect::to(&next).into_response(),
        Ok(url) => return axum::Json(serde_json::json!({ "avatar": url })).into_response(),
        Err(Failure::SignIn) if browser_form => {
            return Redirect::to(&app::url::login_then(app::url::SETTINGS)).into_response()
        }
        Err(Failure::SignIn) => (StatusCode::UNAUTHORIZED, "log in first: this needs a signed-in session".to_owned()),
        Err(Failure::Avatar(error)) => (
            match error {
                AvatarError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                AvatarError::NotAnImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            error.to_string(),
        ),
        Err(Failure::TooMany(seconds)) => {
            let message = AppError::TooManyAttempts(*seconds).to_string();
            if !browser_form {
                let mut refused = (StatusCode::TOO_MANY_REQUESTS, message).into_response();
                refused.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*seconds));
                return refused;
            }
            (StatusCode::TOO_MANY_REQUESTS, message)
        }
        Err(Failure::Internal) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong on our side; please try again in a moment".into())
        }
    };
    if browser_form {
        let separator = if next.contains('?') { '&' } else { '?' };
        let detail = app::url::percent_encode(&message);
        return Redirect::to(&format!("{next}{separator}avatar_error={detail}")).into_response();
    }
    (status, message).into_response()
}
