//! `POST /api/admin/users/sync` with `Authorization: Bearer <token>`: a provisioning sync
//! (see `services::provisioning`), answered with its report as JSON.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{HeaderMap, StatusCode};

use super::guards::SYNC_BODY_BYTES;
use super::SYNC_PATH;
use crate::auth::bearer_token;
use crate::services::provisioning::{check_token, parse, sync, SyncError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(SYNC_PATH, post(sync_handler).layer(DefaultBodyLimit::max(SYNC_BODY_BYTES)))
}

impl IntoResponse for SyncError {
    fn into_response(self) -> Response {
        let status = match &self {
            SyncError::NoToken | SyncError::BadToken => StatusCode::UNAUTHORIZED,
            SyncError::Malformed(_) | SyncError::TooMany => StatusCode::BAD_REQUEST,
            SyncError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.public_message()).into_response()
    }
}

async fn sync_handler(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let token = check_token(&state, bearer_token(&headers)).await?;
        let request = parse(&body)?;
        let report = sync(&state, request, &state.config.base_url(Some(&headers))).await?;
        tracing::info!(
            token,
            created = report.created.len(),
            updated = report.updated.len(),
            rejected = report.rejected.len(),
            "people provisioned"
        );
        Ok::<_, SyncError>(report)
    }
    .await;
    match result {
        Ok(report) => axum::Json(report).into_response(),
        Err(error) => error.into_response(),
    }
}
