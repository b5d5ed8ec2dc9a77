//! What an operator sees of a running server: `/metrics` (Prometheus text, to the configured
//! addresses only) and structured logs (`LOG_FORMAT=json`) that tie each line to its request.

use std::time::Duration;

use app::protocol::{ErrorCode, ServerEvent};
use reqwest::StatusCode;

use crate::helpers::*;

/// The value of one sample line (`name{labels} value`) of a scrape.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_tell_what_the_server_did() {
    let app = spawn_app_with(|config| {
        config.limits.messages_per_second = 1;
        config.limits.message_burst = 2;
    })
    .await;
    let ana = app.signup("ana").await;
    let mut room = app.socket("public-chat", &ana).await;
    let _tab = app.user_socket(&ana).await;
    for n in 0..3 {
        send_body(&mut room, &format!("message {n}")).await;
    }
    let (mut stored, mut refused) = (0, 0);
    while stored + refused < 3 {
        match next_event(&mut room).await {
            ServerEvent::Message(_) => stored += 1,
            ServerEvent::Error { code: ErrorCode::RateLimited, .. } => refused += 1,
            _ => {}
        }
    }
    assert_eq!((stored, refused), (2, 1));

    let scrape = app.get("/metrics", None).await;
    assert_eq!(scrape.status(), StatusCode::OK);
    assert!(scrape.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(scrape.headers().contains_key("x-request-id"), "every answer names its request");
    let text = scrape.text().await.unwrap();
    assert_eq!(sample(&text, "chat_sockets_open{kind=\"room\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "chat_sockets_open{kind=\"user\"}"), Some(1.0));
    assert_eq!(sample(&text, "chat_messages_stored_total"), Some(2.0));
    assert_eq!(sample(&text, "chat_rate_limited_total{limit=\"messages\"}"), Some(1.0));
    assert_eq!(sample(&text, "chat_post_seconds_count{stage=\"stored\"}"), Some(2.0));
    assert_eq!(sample(&text, "chat_post_seconds_count{stage=\"fanned_out\"}"), Some(2.0));
    assert!(sample(&text, "chat_deliveries_total").unwrap() >= 2.0, "the two messages went out");
    assert!(sample(&text, "chat_connections_open").unwrap() >= 3.0, "two sockets and this request");
    assert!(sample(&text, "chat_db_connections{state=\"idle\"}").is_some());
    assert!(!text.contains("chat_bus_connected"), "no bus without Redis");

    // A wrong password is counted under its limit once it makes the account wait.
    let app_limits = spawn_app_with(|config| config.limits.login_failures_per_account = 1).await;
    app_limits.signup("bob").await;
    for _ in 0..3 {
        app_limits.post_form("/api/login", &[("username", "bob"), ("password", "guess")], None).await;
    }
    let text = app_limits.get("/metrics", None).await.text().await.unwrap();
    assert!(sample(&text, "chat_rate_limited_total{limit=\"account\"}").unwrap() >= 1.0, "{text}");
}

#[tokio::test]
async fn metrics_are_only_for_the_configured_addresses() {
    let app = spawn_app_with(|config| config.metrics_allow = vec!["10.9.8.7".parse().unwrap()]).await;
    let refused = app.get("/metrics", None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("METRICS_ALLOW"));
}

#[tokio::test]
async fn json_logs_tie_each_line_to_its_request() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let server = app.spawn_instance_with(&[("LOG_FORMAT", "json")]);
    let made = http()
        .post(server.url("http", "/api/create_room"))
        .header("Cookie", &ana.cookie)
        .header("Origin", server.url("http", ""))
        .form(&[("title", "Logged"), ("visibility", "public")])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::OK);
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    let mut line = None;
    for _ in 0..100 {
        line = server.log.lock().unwrap().iter().find(|line| line.contains("room created")).cloned();
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let line: serde_json::Value = serde_json::from_str(&line.expect("the room was logged")).expect("a JSON line");
    assert_eq!(line["fields"]["message"], "room created");
    assert_eq!(line["span"]["id"], id.as_str(), "{line}");
    assert_eq!(line["span"]["path"], "/api/create_room");
    assert!(!line.to_string().contains("chat_session"), "no cookie in the log");
}
