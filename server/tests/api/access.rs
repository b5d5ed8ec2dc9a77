//! Who may see which room: member / non-member / signed out × public group room, private group
//! room, one-to-one chat × page, socket and history function. A room someone may not see
//! answers exactly like a room that does not exist.

use reqwest::StatusCode;

use crate::helpers::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Seen {
    /// The page renders, the socket opens, the history function answers.
    Readable,
    /// 404 everywhere, as for a room that does not exist.
    Hidden,
    /// Signed out: the page sends to the login page, the socket and function answer 401.
    LogIn,
}

async fn seen_as(app: &TestApp, room: &str, user: Option<&TestUser>) -> Seen {
    let page = app.get(&format!("/chat/room/{room}/"), user.map(|u| u.cookie.as_str())).await;
    let socket = app.open_socket(room, user.map(|u| u.cookie.as_str()), None).await.map(|_| ()).err();
    let history = app.call("history", &[("room", room), ("before", "1000")], user).await.status();
    let seen = match (page.status(), socket, history) {
        (StatusCode::OK, None, StatusCode::OK) => Seen::Readable,
        (StatusCode::NOT_FOUND, Some(StatusCode::NOT_FOUND), StatusCode::NOT_FOUND) => Seen::Hidden,
        (StatusCode::SEE_OTHER, Some(StatusCode::UNAUTHORIZED), StatusCode::UNAUTHORIZED) => {
            let location = page.headers()["location"].to_str().unwrap();
            assert!(location.starts_with("/login?next="), "{location}");
            Seen::LogIn
        }
        other => panic!("{room} as {:?}: inconsistent answers {other:?}", user.map(|u| &u.username)),
    };
    seen
}

#[tokio::test]
async fn the_access_table_holds_for_every_kind_of_room() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let cleo = app.signup("cleo").await;
    let public = app.create_room(&ana, "Open house", "public").await;
    let private = app.create_room(&ana, "Secret plans", "private").await;
    let direct = app.direct_room(&ana, "bob").await;

    // Bob is a member of the one-to-one chat only; Cleo of nothing.
    for (room, member, outsider) in [(&public, &ana, &cleo), (&private, &ana, &cleo), (&direct, &bob, &cleo)] {
        assert_eq!(seen_as(&app, room, Some(member)).await, Seen::Readable, "{room} as a member");
        assert_eq!(seen_as(&app, room, None).await, Seen::LogIn, "{room} signed out");
        let expected = if room == &public { Seen::Readable } else { Seen::Hidden };
        assert_eq!(seen_as(&app, room, Some(outsider)).await, expected, "{room} as a non-member");
    }
    assert_eq!(seen_as(&app, &private, Some(&bob)).await, Seen::Hidden);
    assert_eq!(seen_as(&app, "no-such-room", Some(&cleo)).await, Seen::Hidden);
}

#[tokio::test]
async fn a_private_room_is_indistinguishable_from_a_missing_one() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let cleo = app.signup("cleo").await;
    let private = app.create_room(&ana, "Secret plans", "private").await;
    let direct = app.direct_room(&ana, "cleo").await;
    let dan = app.signup("dan").await;
    for function in ["history", "room", "room_settings", "join_room", "leave_room"] {
        let missing = app
            .call(function, &[("room", "no-such-room"), ("name", "no-such-room"), ("before", "5")], Some(&dan))
            .await;
        let (missing_status, missing_body) = (missing.status(), missing.text().await.unwrap());
        for room in [&private, &direct] {
            let hidden = app.call(function, &[("room", room), ("name", room), ("before", "5")], Some(&dan)).await;
            assert_eq!(hidden.status(), missing_status, "{function} {room}");
            assert_eq!(hidden.text().await.unwrap(), missing_body, "{function} {room}");
        }
        assert_eq!(missing_status, StatusCode::NOT_FOUND, "{function}");
    }
    // Posting into a room you cannot see, with or without JavaScript, is the same 404.
    let post = app.call("send_message", &[("room", &private), ("body", "let me in")], Some(&cleo)).await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.stored_messages(&private).await, 0);
}

#[tokio::test]
async fn reading_a_public_room_is_open_but_posting_needs_joining() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let cleo = app.signup("cleo").await;
    let room = app.create_room(&ana, "Open house", "public").await;

    let page = app.room_html(&room, &cleo).await;
    assert!(page.contains("Join room"), "a preview offers to join");
    assert!(!page.contains("action=\"/api/attach\""), "and no message box");

    let mut socket = app.socket(&room, &cleo).await;
    assert_eq!(next_count(&mut socket).await, 1);
    send_body(&mut socket, "hello?").await;
    match next_event(&mut socket).await {
        app::protocol::ServerEvent::Error { code, message, .. } => {
            assert_eq!(code, app::protocol::ErrorCode::NotMember);
            assert!(message.contains("join"), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let form = app.call("send_message", &[("room", &room), ("body", "hello?")], Some(&cleo)).await;
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.stored_messages(&room).await, 0);

    // After joining, the same open socket posts.
    let _: () = app.call_ok("join_room", &[("room", &room)], &cleo).await;
    send_body(&mut socket, "hello!").await;
    assert!(matches!(next_event(&mut socket).await, app::protocol::ServerEvent::Message(m) if m.body == "hello!"));
    assert!(app.room_html(&room, &cleo).await.contains("action=\"/api/attach\""));
}
