//! The browser's files under `/pkg/`: the WASM bundle, its JavaScript glue, the stylesheet,
//! and the chunks of the pages loaded on demand with their loader.
//! The build names each by its content (`chat.<hash>.wasm`, see `scripts/assets.mjs`) and
//! writes a brotli and a gzip copy beside it, so each is sent compressed the way the browser
//! asks and kept for a year (a new build is a new name). Nothing else under `pkg/` is served.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::state::AppState;

const FOREVER: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

/// The names `scripts/assets.mjs` gave the files, from `pkg/assets.json`. A site that was not
/// built that way (or not built at all) gets the unhashed names, and a warning: pages render,
/// but nothing loads until the site is built.
pub fn load(site_root: &Path) -> app::Assets {
    let path = site_root.join("pkg/assets.json");
    match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(assets) => assets,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "no asset names: build the site (scripts/lib.sh build_site)");
            app::Assets::default()
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/pkg/{name}", get(asset))
}

/// One of the files named in `assets.json` (earlier builds' names are gone with their files).
async fn asset(State(state): State<AppState>, UrlPath(name): UrlPath<String>, request: Request) -> Response {
    let assets = &state.assets;
    if ![&assets.js, &assets.wasm, &assets.css].contains(&&name) && !assets.on_demand.contains(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path: PathBuf = state.config.site_root.join("pkg").join(&name);
    let served = ServeFile::new(path).precompressed_br().precompressed_gzip().oneshot(request).await;
    let mut response = match served {
        Ok(response) => response.into_response(),
        Err(error) => match error {},
    };
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            if is_hashed(&name) { FOREVER } else { HeaderValue::from_static("no-cache") },
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether a name carries its content's hash (`chat.0123456789abcdef.css`): only then may a
/// browser keep it without asking again.
fn is_hashed(name: &str) -> bool {
    let mut parts = name.split('.');
    parts.next();
    parts.next().is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn only_names_with_a_content_hash_are_kept_for_a_year() {
        assert!(is_hashed("chat.0123456789abcdef.wasm"));
        assert!(!is_hashed("chat.css"));
        assert!(!is_hashed("chat_bg.wasm"));
        assert!(!is_hashed("chat.0123456789abcdeg.js"));
    }
}
