//! `GET /chat/<username>/`: one private room per pair, however it is reached, and the other
//! person is told on their own socket.

use app::model::{RoomKind, RoomPage, RoomSummary};
use app::protocol::UserEvent;
use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn fifty_simultaneous_starts_from_both_sides_make_one_room() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let starts = (0..50).map(|i| {
        let (app, from, to) = if i % 2 == 0 { (&app, &ana, "bob") } else { (&app, &bob, "ANA") };
        async move { app.start_chat(from, to).await }
    });
    let answers = futures_util::future::join_all(starts).await;
    let first = answers[0].1.clone().expect("a redirect");
    assert!(first.starts_with("/chat/room/dm-"), "{first}");
    for (status, location) in &answers {
        assert_eq!(*status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_ref(), Some(&first), "every start leads to the same room");
    }
    for user in [&ana, &bob] {
        let rooms: Vec<RoomSummary> = app.call_ok("my_rooms", &[], user).await;
        assert_eq!(rooms.iter().filter(|r| r.kind == RoomKind::Direct).count(), 1);
    }
}

#[tokio::test]
async fn yourself_leads_to_the_directory_and_a_stranger_is_a_404() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    assert_eq!(app.start_chat(&ana, "Ana").await, (StatusCode::SEE_OTHER, Some("/profiles/".to_owned())));
    let (status, _) = app.start_chat(&ana, "nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let signed_out = app.get("/chat/ana/", None).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert!(signed_out.headers()["location"].to_str().unwrap().starts_with("/login?next=/chat/ana"));
}

#[tokio::test]
async fn the_other_person_sees_the_chat_appear_and_it_is_named_after_them() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    app.state.store.set_display_name(app.user_id("ana").await, Some("Ana María")).await.unwrap();
    let mut bob_tab = app.user_socket(&bob).await;

    let room = app.direct_room(&ana, "bob").await;
    match next_user_event(&mut bob_tab).await {
        UserEvent::RoomAdded { room: added } => {
            assert_eq!(added.name, room);
            assert_eq!(added.kind, RoomKind::Direct);
            assert_eq!(added.title, "Ana María", "Bob's sidebar names the chat after Ana");
            assert_eq!(added.other.unwrap().username, "ana");
        }
        other => panic!("expected room_added, got {other:?}"),
    }
    // Opening it again tells nobody anything new. (The first opening's badge for the new room,
    // an unread count of 0, comes at the hub's next flush and may arrive meanwhile.)
    app.direct_room(&bob, "ana").await;
    let quiet_until = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(event) = tokio::time::timeout_at(quiet_until, next_user_event(&mut bob_tab)).await {
        match event {
            UserEvent::Unread { room: badge, count: 0 } if badge == room => {}
            other => panic!("opening the chat again told Bob something new: {other:?}"),
        }
    }

    let page: RoomPage = app.call_ok("room", &[("name", &room)], &bob).await;
    assert_eq!(page.room.title, "Ana María");
    assert!(page.is_member && !page.is_owner);
    let html = app.room_html(&room, &bob).await;
    assert!(html.contains("<h1>Ana María</h1>"), "the header shows the other person");

    // And it is a real room: messages flow both ways.
    let mut a = app.socket(&room, &ana).await;
    next_count(&mut a).await;
    send_body(&mut a, "hi bob").await;
    assert!(matches!(next_event(&mut a).await, app::protocol::ServerEvent::Message(m) if m.body == "hi bob"));
    assert_eq!(app.stored_messages(&room).await, 1);
}

#[tokio::test]
async fn a_link_from_another_site_asks_before_starting_a_chat() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    app.signup("bob").await;
    let direct_rooms = |rooms: Vec<RoomSummary>| rooms.iter().filter(|r| r.kind == RoomKind::Direct).count();

    // What a browser sends when a page elsewhere links (or redirects) to the chat URL.
    let page = http()
        .get(app.url("/chat/bob/"))
        .header("Cookie", &ana.cookie)
        .header("Accept", "text/html")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Sec-Fetch-Mode", "navigate")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "no redirect: nothing was started");
    let html = page.text().await.unwrap();
    assert!(html.contains("data-testid=\"confirm-chat\"") && html.contains("Start the chat"), "{html}");
    assert_eq!(direct_rooms(app.call_ok("my_rooms", &[], &ana).await), 0);

    // Confirming (a same-site form post) starts it and goes there.
    let confirmed = app.post_browser_form("/api/open_chat", &[("username", "bob")], Some(&ana.cookie)).await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert!(confirmed.headers()["location"].to_str().unwrap().starts_with("/chat/room/dm-"));
    assert_eq!(direct_rooms(app.call_ok("my_rooms", &[], &ana).await), 1);

    // The confirmation itself cannot be posted from another site.
    let forged = http()
        .post(app.url("/api/open_chat"))
        .header("Cookie", &ana.cookie)
        .header("Origin", "https://evil.example")
        .form(&[("username", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}
