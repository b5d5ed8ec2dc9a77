//! The chat's icon, as the tab shows it (`/favicon.svg`; `/favicon/<n>.svg` with a badge of `n`
//! unread messages, which the page switches to), and the web app manifest that lets a browser
//! install the chat (`/manifest.webmanifest`). All drawn here, as SVG: nothing to build.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use crate::state::AppState;

/// A speech bubble on the accent colour.
const BUBBLE: &str = r##"<rect width="64" height="64" rx="14" fill="#3451c7"/><path d="M16 18h32a4 4 0 0 1 4 4v16a4 4 0 0 1-4 4H30l-9 8v-8h-5a4 4 0 0 1-4-4V22a4 4 0 0 1 4-4z" fill="#fff"/>"##;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/favicon.svg", get(|| async { svg(icon(None)) }))
        .route("/favicon.ico", get(|| async { svg(icon(None)) }))
        .route("/favicon/{badge}", get(badged))
        .route("/manifest.webmanifest", get(manifest))
}

/// `/favicon/<n>.svg`: the icon with a red badge saying `n` (`99+` above 99).
async fn badged(Path(badge): Path<String>) -> Response {
    match badge.strip_suffix(".svg").and_then(|n| n.parse::<u32>().ok()) {
        Some(0) => svg(icon(None)),
        Some(n) => svg(icon(Some(n))),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn icon(unread: Option<u32>) -> String {
    let badge = unread.map_or(String::new(), |n| {
        let text = if n > 99 { "99+".to_owned() } else { n.to_string() };
        let size = if text.len() > 2 { 20 } else { 26 };
        format!(
            r##"<circle cx="46" cy="18" r="18" fill="#e03131" stroke="#fff" stroke-width="3"/><text x="46" y="18" dy=".35em" text-anchor="middle" font-family="system-ui, sans-serif" font-weight="700" font-size="{size}" fill="#fff">{text}</text>"##
        )
    });
    format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">{BUBBLE}{badge}</svg>"#)
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            // The same URL always draws the same icon.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        body,
    )
        .into_response()
}

/// What an installed chat is called and how it opens: on its own, at the directory.
async fn manifest() -> Response {
    let manifest = serde_json::json!({
        "name": "Chat",
        "short_name": "Chat",
        "description": "Rooms, people and one-to-one chats, live.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#3451c7",
        "icons": [
            { "src": "/favicon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any" },
        ],
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        manifest.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::icon;

    #[test]
    fn the_badge_says_how_many_up_to_99() {
        assert!(!icon(None).contains("<circle"));
        assert!(icon(Some(3)).contains(">3</text>"));
        assert!(icon(Some(100)).contains(">99+</text>"));
    }
}
