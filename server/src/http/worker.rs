//! The service worker (`/sw.js`), written for the build it is served by: it keeps the page's
//! files (by their hashed names) and the last copy of each page visited, so the chat opens
//! offline, showing what it last showed, and goes back to the network for everything as soon
//! as there is one. A new build is a new worker (its text names new files), which drops the
//! old caches. Signing out drops the kept pages.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/sw.js", get(worker))
}

async fn worker(State(state): State<AppState>) -> Response {
    let assets = &state.assets;
    let files = serde_json::json!([
        format!("/pkg/{}", assets.js),
        format!("/pkg/{}", assets.wasm),
        format!("/pkg/{}", assets.css),
        "/favicon.svg",
        "/manifest.webmanifest",
    ]);
    // The pages loaded on demand: kept once fetched (a page opened before opens offline too),
    // not fetched ahead, so installing the worker costs a first visit nothing.
    let on_demand: Vec<String> = assets.on_demand.iter().map(|name| format!("/pkg/{name}")).collect();
    let on_demand = serde_json::json!(on_demand);
    let version = &assets.wasm;
    let script = format!(
        "const VERSION = {version:?};\nconst FILES = {files};\nconst ON_DEMAND = {on_demand};\n{}",
        include_str!("worker.js")
    );
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            // Browsers check for a new worker on every visit.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // The worker fetches from this site (other answers get `default-src 'none'`).
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'")),
        ],
        script,
    )
        .into_response()
}
