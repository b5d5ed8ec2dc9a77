use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn the_public_room_exists_and_its_url_variants_serve_the_same_page() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    for path in ["/chat/room/public-chat/", "/chat/room/public-chat", "/chat/room/public-chat/send/"] {
        let response = app.get(path, Some(&ana.cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = markup(&response.text().await.unwrap());
        assert!(html.contains("<h1>Public chat</h1>"), "{path}");
        assert!(html.contains("action=\"/api/attach\""), "{path}: the no-JS form (multipart, files and text)");
        assert!(html.contains("enctype=\"multipart/form-data\""), "{path}: it can carry files");
    }
    for path in ["/", "/profiles/"] {
        let response = app.get(path, Some(&ana.cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.text().await.unwrap().contains("<h1>People</h1>"), "{path} is the directory");
    }
}

#[tokio::test]
async fn an_unknown_room_is_a_404_page() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let response = app.get("/chat/room/no-such-room/", Some(&ana.cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Not found"));
}

#[tokio::test]
async fn the_page_shows_the_last_20_messages_oldest_first() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let mut socket = app.socket("public-chat", &ana).await;
    next_count(&mut socket).await;
    for i in 1..=25 {
        send_body(&mut socket, &format!("message number {i}")).await;
        next_event(&mut socket).await;
    }
    let html = app.room_html("public-chat", &ana).await;
    assert!(!html.contains("message number 5<"), "older than the last 20");
    let positions: Vec<usize> = (6..=25)
        .map(|i| html.find(&format!("message number {i}<")).unwrap_or_else(|| panic!("message {i} is in the HTML")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "oldest at the top");
}

#[tokio::test]
async fn a_message_posted_by_a_plain_form_is_stored_and_broadcast() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let mut bob_socket = app.socket("public-chat", &bob).await;
    next_count(&mut bob_socket).await;

    let response = app
        .post_browser_form(
            "/api/send_message",
            &[("room", "public-chat"), ("body", "  sent without JavaScript  ")],
            Some(&ana.cookie),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/chat/room/public-chat/");
    match next_event(&mut bob_socket).await {
        app::protocol::ServerEvent::Message(message) => {
            assert_eq!(message.body, "sent without JavaScript");
            assert_eq!(message.author.username, "ana");
        }
        other => panic!("expected the message, got {other:?}"),
    }
    assert!(app.room_html("public-chat", &ana).await.contains("sent without JavaScript"));

    let empty = app
        .post_browser_form("/api/send_message", &[("room", "public-chat"), ("body", "   ")], Some(&ana.cookie))
        .await;
    assert!(empty.headers()["location"].to_str().unwrap().contains("error=invalid"));
}

#[tokio::test]
async fn a_signed_out_form_post_stores_nothing() {
    let app = spawn_app().await;
    let response = app.post_form("/api/send_message", &[("room", "public-chat"), ("body", "hello")], None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.stored_messages("public-chat").await, 0);
}
