use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::*;

/// A provisioning token made the way an operator makes one.
fn create_token(app: &TestApp, name: &str) -> String {
    let (ok, said) = app.admin_cli(&["create-token", name]);
    assert!(ok, "{said}");
    said.rsplit("Bearer ").next().unwrap().trim().to_owned()
}

async fn sync(app: &TestApp, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = http().post(app.url("/api/admin/users/sync")).header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request.body(body.to_owned()).send().await.unwrap()
}

#[tokio::test]
async fn a_sync_creates_people_with_one_time_links_and_updates_roles() {
    let app = spawn_app().await;
    app.signup("ana").await;
    let token = create_token(&app, "property-system");
    let body = json!({"type": "all_users", "users": [
        {"username": "ana", "email": "ana@example.org", "role": "landlord"},
        {"username": "tom", "email": "tom@example.org", "role": "tenant", "first_name": "Tom"},
        {"username": "x y", "role": "tenant"},
        {"username": "sue", "email": "not-an-email", "role": "tenant"},
        {"username": "kim", "role": "two words"},
        {"username": "TOM", "role": "tenant"},
        {"username": "lee", "email": "TOM@example.org", "role": "tenant"},
    ]});
    let response = sync(&app, Some(&token), &body.to_string()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["created"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["created"][0]["username"], "tom");
    assert_eq!(report["updated"], json!([{"username": "ana", "roles": ["landlord"]}]));
    let rejected: Vec<(i64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_i64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [2, 3, 4, 5, 6], "{report}");
    assert!(rejected[0].1.contains("letters, digits"));
    assert!(rejected[3].1.contains("more than once"));
    assert!(rejected[4].1.contains("email is already used"));

    // Tom exists, has no password, and his link sets one.
    assert!(app.log_in("tom", "").await.is_err());
    let url = report["created"][0]["set_password_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/set-password?token=", app.address)), "{url}");
    let link_token = url.rsplit("token=").next().unwrap();
    let set =
        app.post_form("/api/set_password", &[("token", link_token), ("new_password", "toms-password")], None).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert!(app.log_in("tom@example.org", "toms-password").await.is_ok());
    assert_eq!(app.state.store.roles_of(app.user_id("tom").await).await.unwrap(), ["tenant"]);

    // The same sync again changes nothing.
    let again: Value = sync(&app, Some(&token), &body.to_string()).await.json().await.unwrap();
    assert!(again["created"].as_array().unwrap().is_empty() && again["updated"].as_array().unwrap().is_empty());
    assert_eq!(again["unchanged"], json!(["ana", "tom"]));
}

#[tokio::test]
async fn a_token_name_is_used_by_one_live_token_at_a_time() {
    let app = spawn_app().await;
    create_token(&app, "hr");
    let (ok, said) = app.admin_cli(&["create-token", "HR"]);
    assert!(!ok && said.contains("revoke it first"), "{said}");
    let (ok, said) = app.admin_cli(&["revoke-token", "hr"]);
    assert!(ok, "{said}");
    create_token(&app, "hr");
}

#[tokio::test]
async fn a_sync_without_a_live_token_or_with_malformed_json_changes_nothing() {
    let app = spawn_app().await;
    let token = create_token(&app, "hr");
    let good = json!({"type": "all_users", "users": [{"username": "tom", "role": "tenant"}]}).to_string();

    let none = sync(&app, None, &good).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.text().await.unwrap().contains("admin create-token"));
    let wrong = sync(&app, Some("not-a-token"), &good).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    for malformed in [
        "{not json",
        r#"{"type":"some_users","users":[]}"#,
        r#"{"type":"all_users","users":{"username":"tom"}}"#,
        r#"{"type":"all_users","users":[{"username":"tom","role":"tenant"},{"email":"x@y.z","role":"tenant"}]}"#,
    ] {
        let response = sync(&app, Some(&token), malformed).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{malformed}");
        let text = response.text().await.unwrap();
        assert!(text.contains("nothing was changed") && text.contains("all_users"), "{text}");
    }
    assert!(app.state.store.find_user_by_login("tom").await.unwrap().is_none(), "nothing was created");

    let (ok, said) = app.admin_cli(&["list-tokens"]);
    assert!(ok && said.lines().nth(1).unwrap().starts_with("hr "), "{said}");
    let (ok, said) = app.admin_cli(&["revoke-token", "hr"]);
    assert!(ok, "{said}");
    let revoked = sync(&app, Some(&token), &good).await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED, "a revoked token opens nothing");
    assert!(app.state.store.find_user_by_login("tom").await.unwrap().is_none());
    let (ok, said) = app.admin_cli(&["revoke-token", "hr"]);
    assert!(!ok && said.contains("no live token"), "{said}");
}

#[tokio::test]
async fn the_same_sync_works_on_a_socket_opened_with_a_token() {
    let app = spawn_app().await;
    let token = create_token(&app, "hr");
    let url = format!("ws://127.0.0.1:{}/ws/chat/", app.port);

    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_static("Bearer nope"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("a bad token must be refused, got {:?}", other.map(|_| ())),
    }

    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the token opens the socket");
    send_text(&mut socket, r#"{"type":"all_users","users":[{"username":"tom","role":"tenant"}]}"#).await;
    let reply: Value = serde_json::to_value(next_user_event(&mut socket).await).unwrap();
    assert_eq!(reply["type"], "sync_result");
    assert_eq!(reply["created"][0]["username"], "tom");
    assert!(app.state.store.find_user_by_login("tom").await.unwrap().is_some());

    send_text(&mut socket, "{broken").await;
    let reply: Value = serde_json::to_value(next_user_event(&mut socket).await).unwrap();
    assert_eq!(reply["type"], "error");
    assert!(reply["message"].as_str().unwrap().contains("nothing was changed"));

    // Revoked while open: the next sync closes the socket instead.
    assert!(app.admin_cli(&["revoke-token", "hr"]).0);
    send_text(&mut socket, r#"{"type":"all_users","users":[{"username":"amy","role":"tenant"}]}"#).await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.unwrap();
    assert!(matches!(next, None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))));
    assert!(app.state.store.find_user_by_login("amy").await.unwrap().is_none());
}
