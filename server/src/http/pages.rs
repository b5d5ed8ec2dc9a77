//! The pages (rendered by Leptos, then hydrated), the server functions they call under
//! `/api/`, and the avatars they show under `/avatars/`.

use std::sync::{Arc, LazyLock};

use app::backend::SharedBackend;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos::server_fn::redirect::REDIRECT_HEADER;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, AxumRouteListing, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::services::Services;
use crate::state::AppState;

/// The app's routes, worked out once per process. Leptos suppresses resource loading
/// process-wide while it walks the app to list them, so a page rendering at that moment (say,
/// on another server in the same test binary) would wait forever (leptos#4773).
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(app::App));

pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(Services(state.clone()));
    let provide_backend = move || provide_context(backend.clone());
    let (assets, fallback_assets) = (state.assets.clone(), state.assets.clone());
    // Avatar files never change under a name (a new upload gets a new one): cache for a year.
    let avatar_files =
        Router::new().fallback_service(ServeDir::new(state.avatars.dir())).layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));

    let pages = Router::new()
        .route("/api/{*fn_name}", post(server_fn_handler))
        .leptos_routes_with_context(state, ROUTES.clone(), provide_backend, move || app::shell(&assets))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(move |_| app::shell(&fallback_assets)));
    pages.nest_service("/avatars", avatar_files)
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    let backend: SharedBackend = Arc::new(Services(state));
    handle_server_fns_with_context(move || provide_context(backend.clone()), request).await
}

/// Makes every redirect one that any client follows. Leptos answers a page's redirect with
/// `302` when the request accepts HTML, and otherwise with `200` (or the status of an error met
/// on the way, such as `401` for "log in first") plus a `Location` that only a browser heeds.
/// Pages, and server functions posted by plain forms, get `303 See Other` with the `Location`
/// (and any cookie set on the way) and no body. A server function called by the hydrated app is
/// marked by Leptos's redirect header and keeps its answer: the app reads it and goes there
/// itself.
pub async fn real_redirects(request: Request, next: axum::middleware::Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let marked = response.headers().contains_key(REDIRECT_HEADER);
    if !response.headers().contains_key(header::LOCATION)
        || (status.is_redirection() && status != StatusCode::FOUND)
        || (is_server_fn && marked)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::SEE_OTHER;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(REDIRECT_HEADER);
    Response::from_parts(parts, Body::empty())
}

/// Leptos answers 500 for an error raised before a server function's body runs (a missing or
/// mistyped argument). Such errors are `AppError`s too: give them their own status (422 for
/// bad input), so that clients are told the request, not the server, was wrong.
pub async fn server_fn_status(request: Request, next: axum::middleware::Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.map(|b| b.to_bytes()).unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
