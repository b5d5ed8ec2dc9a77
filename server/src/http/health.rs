//! `/healthz` (the process answers) and `/readyz` (it can serve: the database and, with
//! several instances, Redis answer), for a load balancer; `/metrics` for Prometheus, to the
//! addresses in `METRICS_ALLOW` only.

use std::time::Duration;

use app::backend::ClientAddress;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use http::{header, StatusCode};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The Prometheus text format, to the configured addresses; anyone else gets `403`.
async fn metrics(State(state): State<AppState>, client: Option<Extension<ClientAddress>>) -> Response {
    let allowed = client.is_some_and(|Extension(ClientAddress(address))| {
        let address = address.to_canonical();
        state.config.metrics_allow.iter().any(|allowed| allowed.to_canonical() == address)
    });
    if !allowed {
        return (StatusCode::FORBIDDEN, "metrics are served only to the addresses in METRICS_ALLOW").into_response();
    }
    let bus = state.bus.as_ref().map(|bus| bus.is_listening());
    let text = state.metrics.render(state.store.pool_use(), bus);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
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
