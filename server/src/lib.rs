//! The chat server. `Application::build` wires configuration, storage, the hub and the HTTP
//! routes; `main` only parses the command line and calls it. Integration tests build the same
//! application on port 0.

pub mod admin;
pub mod auth;
mod avatar_routes;
pub mod avatars;
mod backend;
pub mod config;
mod error;
mod http_guards;
pub mod messaging;
pub mod origin;
pub mod provisioning;
pub mod realtime;
pub mod state;
pub mod store;

use std::sync::{Arc, LazyLock};

use app::backend::SharedBackend;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::avatars::Avatars;
use crate::config::Config;
use crate::messaging::Committer;
use crate::realtime::hub::Hub;
use crate::realtime::{redis, sockets};
use crate::state::AppState;
use crate::store::Store;

/// Where avatars are uploaded (a multipart form), and where another system provisions people.
pub const AVATAR_UPLOAD_PATH: &str = "/api/avatar";
pub const SYNC_PATH: &str = "/api/admin/users/sync";

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        let listener = TcpListener::bind(config.site_addr).await?;
        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .build();
        let avatars = Avatars::new(config.data_dir.join("avatars"));
        let hub = Hub::new();
        let bus = match &config.redis_url {
            Some(url) => Some(redis::start(&hub, url, &config.redis_prefix, config.presence_ttl)?),
            None => None,
        };
        tokio::spawn(hub.clone().run_flusher());
        tokio::spawn(messaging::serve_reloads(store.clone(), hub.clone()));
        let committer = Committer::start(store.clone(), hub.clone());
        let state = AppState { store, hub, committer, config: Arc::new(config), avatars, bus, leptos_options };
        let router = router(state.clone());
        Ok(Self { listener, router, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Strip trailing slashes before routing, so `/chat/room/x/` and `/chat/room/x` (and the
        // same for sockets) reach one handler.
        let service = NormalizePathLayer::trim_trailing_slash().layer(self.router);
        let watcher = tokio::spawn(self.state.clone().watch_suspensions());
        // Small frames go out at once: with Nagle's algorithm a frame written while the last is
        // unacknowledged waited for the peer's delayed ACK (p99 35 ms at 20 messages a second).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, axum::ServiceExt::<Request>::into_make_service(service))
            .with_graceful_shutdown(shutdown_signal())
            .await;
        watcher.abort();
        served
    }
}

/// The app's routes, worked out once per process. Leptos suppresses resource loading
/// process-wide while it walks the app to list them, so a page rendering at that moment (say,
/// on another server in the same test binary) would wait forever (leptos#4773).
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(app::App));

fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(state.clone());
    let provide_backend = move || provide_context(backend.clone());
    let pkg_dir = state.config.site_root.join("pkg");
    let options = state.leptos_options.clone();

    let assets = Router::new().fallback_service(ServeDir::new(pkg_dir)).layer(SetResponseHeaderLayer::overriding(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    ));

    // Avatar files never change under a name (a new upload gets a new one): cache for a year.
    let avatar_files =
        Router::new().fallback_service(ServeDir::new(state.avatars.dir())).layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));

    Router::new()
        .route(
            AVATAR_UPLOAD_PATH,
            post(avatar_routes::upload).layer(DefaultBodyLimit::max(avatar_routes::UPLOAD_BODY_BYTES)),
        )
        .route("/api/avatar/remove", post(avatar_routes::remove))
        .route(SYNC_PATH, post(provisioning::sync_handler).layer(DefaultBodyLimit::max(http_guards::SYNC_BODY_BYTES)))
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route("/ws/chatroom/{name}", get(sockets::room::upgrade))
        .route("/ws/chat", get(sockets::user::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .leptos_routes_with_context(&state, ROUTES.clone(), provide_backend, move || app::shell(options.clone()))
        .nest_service("/pkg", assets)
        .nest_service("/avatars", avatar_files)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn_with_state(state.clone(), http_guards::same_origin_posts))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn(http_guards::limit_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// For a load balancer: `200 ready` while the database answers (within 2 seconds), `503` with
/// what is wrong otherwise, so traffic goes to instances that can serve it.
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    match tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => match &state.bus {
            Some(bus) if !bus.is_ready().await => {
                (http::StatusCode::SERVICE_UNAVAILABLE, "not ready: Redis does not answer").into_response()
            }
            _ => "ready".into_response(),
        },
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database fails");
            (http::StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer").into_response()
        }
        Err(_) => {
            (http::StatusCode::SERVICE_UNAVAILABLE, "not ready: the database is too slow to answer").into_response()
        }
    }
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    let backend: SharedBackend = Arc::new(state);
    handle_server_fns_with_context(move || provide_context(backend.clone()), request).await
}

/// Leptos answers 500 for an error raised before a server function's body runs (a missing or
/// mistyped argument). Such errors are `AppError`s too: give them their own status (422 for
/// bad input), so that clients are told the request, not the server, was wrong.
async fn server_fn_status(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.map(|b| b.to_bytes()).unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
