//! The security headers, on a page, an API answer, a file and a socket upgrade.

use reqwest::header::{
    HeaderMap, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use reqwest::StatusCode;

use crate::helpers::{http, spawn_app, spawn_app_with};

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

fn assert_hardened(headers: &HeaderMap, what: &str) {
    assert_eq!(header(headers, X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(header(headers, X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(header(headers, REFERRER_POLICY), "same-origin", "{what}");
    assert!(header(headers, CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"), "{what}");
}

#[tokio::test]
async fn a_page_allows_only_its_own_scripts_and_the_inline_ones_it_signed() {
    let app = spawn_app().await;
    let page = app.get("/login", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_hardened(page.headers(), "a page");
    let policy = header(page.headers(), CONTENT_SECURITY_POLICY).to_owned();
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the header's nonce");
    // Every inline script carries it.
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap();
        assert!(tag.contains("src=") || tag.contains(&format!("nonce=\"{nonce}\"")), "<script{tag}>");
    }
    // A new response, a new nonce.
    let again = app.get("/login", None).await;
    assert!(!header(again.headers(), CONTENT_SECURITY_POLICY).contains(&nonce));
}

#[tokio::test]
async fn api_answers_files_and_socket_upgrades_are_hardened_too() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let api = app.call("me", &[], Some(&ana)).await;
    assert_hardened(api.headers(), "a server function");
    assert_eq!(header(api.headers(), CONTENT_SECURITY_POLICY), "default-src 'none'; frame-ancestors 'none'");
    let health = http().get(app.url("/healthz")).send().await.unwrap();
    assert_hardened(health.headers(), "/healthz");
    let refused = http()
        .get(app.url("/ws/chat/"))
        .header("Origin", "http://evil.example")
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_hardened(refused.headers(), "a refused socket upgrade");
    assert!(api.headers().get(STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS without HTTPS");
}

#[tokio::test]
async fn https_sites_ask_browsers_to_stay_on_https() {
    let app = spawn_app_with(|config| config.secure_cookies = true).await;
    let page = http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(header(page.headers(), STRICT_TRANSPORT_SECURITY), "max-age=31536000");
}
