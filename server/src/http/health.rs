//! `/healthz` (the process answers) and `/readyz` (it can serve: the database and, with
//! several instances, Redis answer), for a load balancer.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::StatusCode;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(readyz))
}

/// `200 ready` while the database answers (within 2 seconds), `503` with what is wrong
/// otherwise, so traffic goes to instances that can serve it.
async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => match &state.bus {
            Some(bus) if !bus.is_ready().await => {
                (StatusCode::SERVICE_UNAVAILABLE, "not ready: Redis does not answer").into_response()
            }
            _ => "ready".into_response(),
        },
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database fails");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database is too slow to answer").into_response(),
    }
}
