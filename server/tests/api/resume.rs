//! Nothing lost across a reconnect: `?after=<seq>` sends what the client missed, then live
//! messages, with no gap and no repeat; a message resent under its client id is stored once.

use app::protocol::{ErrorCode, ServerEvent};
use reqwest::StatusCode;

use crate::helpers::*;

/// Asserts that no message arrives for a short while (an online count may: Ana's arrival
/// changed it, and it is sent whenever the socket reaches it).
async fn assert_no_message(socket: &mut Socket) {
    let until = tokio::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Ok(event) = tokio::time::timeout_at(until, next_event(socket)).await {
        assert!(matches!(event, ServerEvent::OnlineCount { .. }), "expected no message, got {event:?}");
    }
}

// Several threads, so that Bob's messages are stored while Ana's socket is catching up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_a_seq_sends_exactly_what_was_missed_while_200_more_arrive() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    for n in 1..=10 {
        send_body(&mut b, &format!("before {n}")).await;
    }
    for _ in 1..=10 {
        next_message(&mut a).await;
    }
    // Ana's connection drops, having seen up to seq 10.
    drop(a);

    // Bob writes 200 more while Ana reconnects somewhere in the middle of them.
    let writer = write_in_background(b, 200);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut resumed = app.socket_after("public-chat", &ana, "10").await.expect("the socket opens");
    let mut b = writer.await.unwrap();
    // Bob's own acknowledgements tell when all 200 are stored.
    let mut last = 0;
    while last < 210 {
        last = next_message(&mut b).await.seq;
    }

    let mut seqs = Vec::new();
    while seqs.last() != Some(&210) {
        let message = next_message(&mut resumed).await;
        seqs.push(message.seq);
        assert_eq!(message.body, format!("during {}", message.seq - 10));
    }
    assert_eq!(seqs, (11..=210).collect::<Vec<_>>(), "every missed message once, in order");
    assert_no_message(&mut resumed).await;

    // Resuming from the newest seq sends nothing old; from 0, everything.
    let mut current = app.socket_after("public-chat", &ana, "210").await.unwrap();
    assert_eq!(next_count(&mut current).await, 2);
    assert_quiet(&mut current).await;
    let mut everything = app.socket_after("public-chat", &ana, "0").await.unwrap();
    next_count(&mut everything).await;
    for seq in 1..=210 {
        assert_eq!(next_message(&mut everything).await.seq, seq);
    }
}

#[tokio::test]
async fn a_bad_after_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    for bad in ["-1", "abc", "1.5"] {
        assert_eq!(app.socket_after("public-chat", &ana, bad).await.err(), Some(StatusCode::BAD_REQUEST), "{bad}");
    }
}

#[tokio::test]
async fn a_message_resent_under_its_client_id_is_stored_and_delivered_once() {
    let app = spawn_app().await;
    let (ana, _bob, mut a, mut b) = app.ana_and_bob_in_public_chat().await;
    let frame = serde_json::json!({ "body": "only once", "client_id": "3f1c-aa" }).to_string();

    send_text(&mut a, &frame).await;
    let first = next_message(&mut a).await;
    assert_eq!(first.client_id.as_deref(), Some("3f1c-aa"), "the sender recognises its message");
    assert_eq!(next_message(&mut b).await, first);

    // The connection dropped before the acknowledgement arrived, so the client sends it again.
    let mut again = app.socket("public-chat", &ana).await;
    send_text(&mut again, &frame).await;
    assert_eq!(next_message(&mut again).await, first, "the sender is told it is stored, as it was");
    assert_quiet(&mut b).await;
    assert_eq!(app.stored_messages("public-chat").await, 1);

    // The next message takes the next seq: the refused resend used none.
    send_body(&mut a, "next").await;
    assert_eq!(next_message(&mut b).await.seq, first.seq + 1);

    // Another person may use the same client id: it names messages per sender.
    send_text(&mut b, &frame).await;
    assert_eq!(next_message(&mut b).await.seq, first.seq + 2);

    // A client id that is not a plain word is refused with a reason; nothing is stored.
    let bad = serde_json::json!({ "body": "x", "client_id": "has spaces" }).to_string();
    send_text(&mut a, &bad).await;
    loop {
        match next_event(&mut a).await {
            ServerEvent::Error { code, message, .. } => {
                assert_eq!(code, ErrorCode::MalformedFrame);
                assert!(message.contains("client_id"), "{message}");
                break;
            }
            ServerEvent::Message(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(app.stored_messages("public-chat").await, 3);
}

#[tokio::test]
async fn a_message_both_read_while_catching_up_and_broadcast_is_sent_once() {
    let app = spawn_app().await;
    let (ana, bob, _a, mut b) = app.ana_and_bob_in_public_chat().await;
    send_body(&mut b, "seen").await;
    assert_eq!(next_message(&mut b).await.seq, 1);

    // The race, made to happen: a message is stored, Ana's socket reconnects and reads it
    // from the database, and only then is it broadcast.
    let room = app.state.store.room_by_name("public-chat").await.unwrap().unwrap();
    let bob_id = app.user_id(&bob.username).await;
    let server::store::Inserted::New(stored) =
        app.state.store.insert_message(&room, bob_id, "stored, not yet sent", None).await.unwrap()
    else {
        panic!("a new message")
    };
    let mut resumed = app.socket_after("public-chat", &ana, "1").await.unwrap();
    let caught_up = next_message(&mut resumed).await;
    assert_eq!((caught_up.seq, caught_up.body.as_str()), (2, "stored, not yet sent"));
    let event = server::realtime::hub::encode(&app::protocol::ServerEvent::Message(stored.into_wire("public-chat")));
    app.state.hub.publish_message(room.id, 2, Some(bob_id), event);

    // The broadcast copy is skipped; the next message comes through.
    send_body(&mut b, "after").await;
    let next = next_message(&mut resumed).await;
    assert_eq!((next.seq, next.body.as_str()), (3, "after"));
}

#[tokio::test]
async fn a_message_whose_copy_never_arrived_is_read_from_the_database_in_order() {
    let app = spawn_app().await;
    let (_ana, bob, mut a, _b) = app.ana_and_bob_in_public_chat().await;
    // Stored through "another instance" whose broadcast was lost (the bus was down).
    let room = app.state.store.room_by_name("public-chat").await.unwrap().unwrap();
    let bob_id = app.user_id(&bob.username).await;
    app.state.store.insert_message(&room, bob_id, "lost on the way", None).await.unwrap();
    app.post("public-chat", &bob, "the next one").await;
    let first = next_message(&mut a).await;
    let second = next_message(&mut a).await;
    assert_eq!((first.seq, first.body.as_str()), (1, "lost on the way"));
    assert_eq!((second.seq, second.body.as_str()), (2, "the next one"));

    // And when the bus comes back, sockets read what they missed without waiting for more.
    app.state.store.insert_message(&room, bob_id, "lost while the bus was down", None).await.unwrap();
    app.state.hub.resync();
    let caught_up = next_message(&mut a).await;
    assert_eq!((caught_up.seq, caught_up.body.as_str()), (3, "lost while the bus was down"));
    assert_quiet(&mut a).await;
}
