use app::protocol::{ErrorCode, ServerEvent};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use std::time::Duration;

use crate::helpers::*;

fn message(event: ServerEvent) -> app::protocol::ChatMessage {
    match event {
        ServerEvent::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_reaches_everyone_in_the_room_once_stored() {
    let app = spawn_app().await;
    let (_ana, bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;

    send_body(&mut a, "hello bob").await;
    let to_ana = message(next_event(&mut a).await);
    let to_bob = message(next_event(&mut b).await);
    assert_eq!(to_ana, to_bob, "the same id, seq and body for both");
    assert_eq!(to_ana.seq, 1);
    assert_eq!(to_ana.room, "public-chat");
    assert_eq!(to_ana.author.username, "ana");
    assert!(chrono_like(&to_ana.created_at), "{}", to_ana.created_at);

    send_body(&mut b, "hi ana").await;
    let reply = message(next_event(&mut a).await);
    assert_eq!(reply.seq, 2, "seq counts up by one per room");
    assert_eq!(message(next_event(&mut b).await), reply);

    // A reload shows both, in the server-rendered HTML.
    let html = app.room_html("public-chat", &bob).await;
    assert!(html.find("hello bob").unwrap() < html.find("hi ana").unwrap());
}

fn chrono_like(value: &str) -> bool {
    value.len() == 24 && value.ends_with('Z') && value.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn the_online_count_counts_people_not_tabs() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;

    // Ana's second tab: it learns the count, nobody else hears a change.
    let mut a2 = app.socket("public-chat", &ana).await;
    assert_eq!(next_count(&mut a2).await, 2);
    assert_quiet(&mut b).await;
    a2.close(None).await.unwrap();
    assert_quiet(&mut b).await;

    b.close(None).await.unwrap();
    assert_eq!(next_count(&mut a).await, 1);
    let html = app.room_html("public-chat", &ana).await;
    assert!(html.contains(">1 online"), "the page shows the live count");
}

#[tokio::test]
async fn the_upgrade_checks_session_origin_and_room() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    assert_eq!(app.open_socket("public-chat", None, None).await.unwrap_err(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.open_socket("public-chat", Some("chat_session=forged"), None).await.unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.open_socket("public-chat", Some(&ana.cookie), Some("http://evil.example")).await.unwrap_err(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.open_socket("no-such-room", Some(&ana.cookie), None).await.unwrap_err(), StatusCode::NOT_FOUND);
    assert_eq!(app.open_socket("Bad%20Name", Some(&ana.cookie), None).await.unwrap_err(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_socket_path_works_without_the_trailing_slash() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://127.0.0.1:{}/ws/chatroom/public-chat", app.port).into_client_request().unwrap();
    request.headers_mut().insert("Cookie", ana.cookie.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("opens without the slash");
    assert_eq!(next_count(&mut socket).await, 1);
}

#[tokio::test]
async fn bad_frames_get_an_error_event_store_nothing_and_keep_the_socket_open() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let mut socket = app.socket("public-chat", &ana).await;
    next_count(&mut socket).await;

    let cases = [
        ("not json".to_owned(), ErrorCode::MalformedFrame),
        (r#"{"text":"no body field"}"#.to_owned(), ErrorCode::MalformedFrame),
        (r#"{"body":"   "}"#.to_owned(), ErrorCode::EmptyBody),
        (serde_json::json!({ "body": "x".repeat(1001) }).to_string(), ErrorCode::BodyTooLong),
    ];
    for (frame, expected) in cases {
        send_text(&mut socket, &frame).await;
        match next_event(&mut socket).await {
            ServerEvent::Error { code, message, .. } => {
                assert_eq!(code, expected, "for {frame:.40}");
                assert!(!message.is_empty());
            }
            other => panic!("expected an error for {frame:.40}, got {other:?}"),
        }
    }
    socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert!(matches!(next_event(&mut socket).await, ServerEvent::Error { code: ErrorCode::BinaryNotSupported, .. }));

    assert_eq!(app.stored_messages("public-chat").await, 0, "nothing stored");

    // Still open and usable; exactly 1000 characters is allowed.
    send_body(&mut socket, &"y".repeat(1000)).await;
    assert_eq!(message(next_event(&mut socket).await).body.len(), 1000);
    assert_eq!(app.stored_messages("public-chat").await, 1);
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let mut socket = app.socket("public-chat", &ana).await;
    next_count(&mut socket).await;
    send_body(&mut socket, &"z".repeat(70 * 1024)).await;
    let close = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.expect("closed within 5 s") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.code, CloseCode::Size);
    assert_eq!(app.stored_messages("public-chat").await, 0);
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_the_socket_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;

    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let mut socket = app.socket("public-chat", &ana).await;
    next_count(&mut socket).await;
    let broken: &[u8] = b"{\"body\":\"caf\xe9\"}";
    socket.send(Message::Frame(Frame::message(broken.to_vec(), OpCode::Data(Data::Text), true))).await.unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed within 5 s") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.code, CloseCode::Invalid);
    assert_eq!(app.stored_messages("public-chat").await, 0);
}

#[tokio::test]
async fn concurrent_senders_get_gap_free_seqs_in_order() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let bob = app.signup("bob").await;
    let mut watcher = app.socket("public-chat", &ana).await;
    next_count(&mut watcher).await;
    let mut senders = Vec::new();
    for user in [&ana, &bob] {
        let mut socket = app.socket("public-chat", user).await;
        senders.push(tokio::spawn(async move {
            for i in 0..25 {
                send_body(&mut socket, &format!("msg {i}")).await;
            }
            socket
        }));
    }
    let mut seqs = Vec::new();
    while seqs.len() < 50 {
        if let ServerEvent::Message(message) = next_event(&mut watcher).await {
            seqs.push(message.seq);
        }
    }
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>(), "delivered in seq order, no gap, no repeat");
    for sender in senders {
        sender.await.unwrap();
    }
}

#[tokio::test]
async fn a_socket_that_stops_answering_pings_stops_counting() {
    let app = spawn_app_with(|config| {
        config.heartbeat_interval = Duration::from_millis(100);
        config.heartbeat_timeout = Duration::from_millis(400);
    })
    .await;
    let (_ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;

    // While both sockets are read (so they answer pings), twice the timeout passes and both
    // keep counting: only pings arrive.
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_millis(800) {
        tokio::select! {
            Some(Ok(frame)) = a.next() => assert!(frame.is_ping(), "only pings, got {frame:?}"),
            Some(Ok(frame)) = b.next() => assert!(frame.is_ping(), "only pings, got {frame:?}"),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }

    // Bob's laptop lid closes: his socket is never read again, so it never answers a ping.
    // Without any close, the server drops it and Ana sees the count fall (next_count waits
    // up to 5 s; the timeout here is 0.4 s).
    assert_eq!(next_count(&mut a).await, 1);
    drop(b);
}

#[tokio::test]
async fn a_client_ping_is_answered_on_both_sockets_and_stores_nothing() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    send_text(&mut a, r#"{"type":"ping"}"#).await;
    assert_eq!(next_event(&mut a).await, ServerEvent::Pong);
    assert_quiet(&mut b).await;
    assert_eq!(app.stored_messages("public-chat").await, 0);

    let mut own = app.user_socket(&ana).await;
    send_text(&mut own, r#"{"type":"ping"}"#).await;
    assert_eq!(next_user_event(&mut own).await, app::protocol::UserEvent::Pong);
}

#[tokio::test]
async fn typing_reaches_the_others_at_most_every_two_seconds_and_never_from_previewers() {
    let app = spawn_app().await;
    let (ana, bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    let mut ana_other_tab = app.socket("public-chat", &ana).await;
    next_count(&mut ana_other_tab).await;

    // Ana types: Bob hears it once however fast her page sends it; her own tabs hear nothing.
    for _ in 0..3 {
        send_text(&mut a, r#"{"type":"typing"}"#).await;
    }
    match next_event(&mut b).await {
        ServerEvent::Typing { room, author } => {
            assert_eq!((room.as_str(), author.username.as_str()), ("public-chat", "ana"));
        }
        other => panic!("expected typing, got {other:?}"),
    }
    assert_quiet(&mut b).await;
    assert_quiet(&mut a).await;
    assert_quiet(&mut ana_other_tab).await;

    // Someone previewing a public room they have not joined cannot type in it.
    let room = app.create_room(&ana, "Quiet", "public").await;
    let mut owner = app.socket(&room, &ana).await;
    next_count(&mut owner).await;
    let mut previewer = app.socket(&room, &bob).await;
    next_count(&mut owner).await;
    send_text(&mut previewer, r#"{"type":"typing"}"#).await;
    assert_quiet(&mut owner).await;
}

#[tokio::test]
async fn messages_faster_than_the_limit_are_refused_with_when_to_retry_and_nothing_is_lost() {
    let app = spawn_app_with(|config| {
        config.limits.messages_per_second = 2;
        config.limits.message_burst = 3;
    })
    .await;
    let ana = app.signup("ana").await;
    let mut socket = app.socket("public-chat", &ana).await;
    next_count(&mut socket).await;
    for n in 1..=5 {
        send_text(&mut socket, &format!(r#"{{"body":"message {n}","client_id":"m{n}"}}"#)).await;
    }
    let (mut stored, mut refused) = (Vec::new(), Vec::new());
    while stored.len() + refused.len() < 5 {
        match next_event(&mut socket).await {
            ServerEvent::Message(message) => stored.push(message.client_id.unwrap()),
            ServerEvent::Error { code: ErrorCode::RateLimited, retry_after_ms, client_id, message } => {
                assert!(message.contains("slow down"), "{message}");
                let wait = retry_after_ms.expect("says when to try again");
                assert!(wait > 0 && wait <= 500, "{wait}");
                refused.push(client_id.expect("names the refused message"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored, ["m1", "m2", "m3"], "the burst goes through, in order");
    assert_eq!(refused, ["m4", "m5"]);
    assert_eq!(app.stored_messages("public-chat").await, 3, "a refused message is not stored");

    // Sent again when told, each goes through once: the socket stayed open.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for id in ["m4", "m5"] {
        send_text(&mut socket, &format!(r#"{{"body":"again","client_id":"{id}"}}"#)).await;
        assert!(matches!(next_event(&mut socket).await, ServerEvent::Message(m) if m.client_id.as_deref() == Some(id)));
    }
    assert_eq!(app.stored_messages("public-chat").await, 5);
}
