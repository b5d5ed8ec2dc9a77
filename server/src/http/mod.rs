//! HTTP by resource: each module serves one kind of thing and exposes its `router()`;
//! [`router`] merges them and puts the guards in front. Handlers read the request, call
//! `services`, and answer; they hold no domain rules of their own.

mod avatars;
mod guards;
mod health;
pub mod origin;
mod pages;
mod provisioning;
pub mod serve;
pub mod sockets;

use axum::Router;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Where avatars are uploaded (a multipart form), and where another system provisions people.
pub const AVATAR_UPLOAD_PATH: &str = "/api/avatar";
pub const SYNC_PATH: &str = "/api/admin/users/sync";

/// Every route of the chat, behind the guards: bodies bounded, cross-site posts refused,
/// server-function errors given their own status, redirects made real `303`s, and the security
/// headers on every answer. Trailing slashes are stripped before
/// routing, so `/chat/room/x/` and `/chat/room/x` (and the same for sockets) reach one handler.
pub fn app(state: AppState) -> App {
    let router = Router::new()
        .merge(avatars::router())
        .merge(provisioning::router())
        .merge(sockets::router())
        .merge(health::router())
        .merge(pages::router(&state))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::same_origin_posts))
        .layer(axum::middleware::from_fn(pages::server_fn_status))
        .layer(axum::middleware::from_fn(pages::real_redirects))
        .layer(axum::middleware::from_fn(guards::limit_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guards::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// The whole app as one service.
pub type App = tower_http::normalize_path::NormalizePath<Router>;
