//! HTTP by resource: each module serves one kind of thing and exposes its `router()`;
//! [`router`] merges them and puts the guards in front. Handlers read the request, call
//! `services`, and answer; they hold no domain rules of their own.

pub mod assets;
mod avatars;
mod files;
mod guards;
mod health;
mod icons;
pub mod origin;
mod pages;
mod provisioning;
pub mod serve;
pub mod sockets;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::Router;
use http::{header, Extensions, HeaderMap, StatusCode, Version};
use tower::Layer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Where avatars are uploaded (a multipart form), and where another system provisions people.
pub const AVATAR_UPLOAD_PATH: &str = "/api/avatar";
pub const SYNC_PATH: &str = "/api/admin/users/sync";

/// Every route of the chat, behind the guards: bodies bounded, cross-site posts refused,
/// server-function errors given their own status, redirects made real `303`s, and the security
/// headers on every answer, and text compressed. Trailing slashes are stripped before
/// routing, so `/chat/room/x/` and `/chat/room/x` (and the same for sockets) reach one handler.
pub fn app(state: AppState) -> App {
    let router = Router::new()
        .merge(assets::router())
        .merge(avatars::router())
        .merge(files::router())
        .merge(provisioning::router())
        .merge(sockets::router())
        .merge(health::router())
        .merge(icons::router())
        .merge(worker::router())
        .merge(pages::router(&state))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::same_origin_posts))
        .layer(axum::middleware::from_fn(pages::server_fn_status))
        .layer(axum::middleware::from_fn(pages::real_redirects))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::limit_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::security_headers))
        .layer(compression())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// Every log line of a request (and of a socket it opened) carries its id, method and path (the
/// query is left out: it may hold a one-time token). The id is also the answer's
/// `X-Request-Id`; one a proxy set is kept.
fn request_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let id = request.headers().get("x-request-id").and_then(|id| id.to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
}

/// Pages and the answers of server functions and the API go out compressed, brotli or gzip as
/// the client asks (brotli at a quality that costs about as much as gzip's default). Files
/// are not: the bundle is compressed at build time, images and uploads are sent as stored.
fn compression() -> CompressionLayer<impl Predicate> {
    let textual = |_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| ["text/html", "application/json", "text/plain"].iter().any(|kind| t.starts_with(kind)))
    };
    CompressionLayer::new().quality(CompressionLevel::Precise(4)).compress_when(DefaultPredicate::new().and(textual))
}

/// Request ids: this process's random prefix and a count, unique across instances and restarts.
#[derive(Clone)]
struct RequestIds {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self { prefix: rand::random(), next: Arc::new(AtomicU64::new(1)) }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        http::HeaderValue::from_str(&format!("{:08x}-{n}", self.prefix)).ok().map(RequestId::new)
    }
}

/// The whole app as one service.
pub type App = tower_http::normalize_path::NormalizePath<Router>;
