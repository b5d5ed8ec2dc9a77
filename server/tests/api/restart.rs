//! Surviving a crash and a restart: a server killed (SIGKILL) in the middle of a burst loses no
//! message it acknowledged, leaves no gap in a room's `seq`, and its clients' resume shows each
//! message once; a server told to stop (SIGTERM) answers what it read and closes every socket
//! with 1012, so that clients come back at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::ServerEvent;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

const SENDERS: usize = 5;
const EACH: usize = 200;

fn frame(sender: usize, n: usize) -> String {
    serde_json::json!({ "body": format!("sender {sender} message {n}"), "client_id": format!("s{sender}-{n}") })
        .to_string()
}

/// What one sender learnt before its server went: the seq of each of its messages it saw
/// acknowledged, and the last seq it was sent (of anyone's).
#[derive(Default)]
struct Seen {
    acked: HashMap<String, i64>,
    last: i64,
}

/// Writes `EACH` messages as fast as the socket takes them while reading what comes back,
/// until the socket dies or every message is acknowledged.
async fn burst(sender: usize, socket: Socket, seen: Arc<Mutex<Seen>>) {
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        for n in 0..EACH {
            if sink.send(Message::text(frame(sender, n))).await.is_err() {
                break;
            }
        }
    });
    let mine = format!("s{sender}-");
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        let Message::Text(text) = message else { continue };
        if let Ok(ServerEvent::Message(message)) = serde_json::from_str(&text) {
            let mut seen = seen.lock().unwrap();
            assert!(message.seq > seen.last, "sender {sender}: seq {} after {}", message.seq, seen.last);
            seen.last = message.seq;
            if let Some(id) = message.client_id.filter(|id| id.starts_with(&mine)) {
                seen.acked.insert(id, message.seq);
                if seen.acked.len() == EACH {
                    break;
                }
            }
        }
    }
    writer.abort();
}

#[tokio::test]
async fn a_crash_in_the_middle_of_a_burst_loses_no_acknowledged_message() {
    let app = spawn_app().await;
    let people = app.many_people("sender", SENDERS).await;
    let room = app.create_room(&people[0], "Burst", "public").await;
    for person in &people[1..] {
        let _: () = app.call_ok("join_room", &[("room", &room)], person).await;
    }
    let first = app.spawn_instance();
    let url = first.url("ws", &format!("/ws/chatroom/{room}/"));
    let seen: Vec<Arc<Mutex<Seen>>> = (0..SENDERS).map(|_| Arc::default()).collect();
    let mut senders = Vec::new();
    for (sender, person) in people.iter().enumerate() {
        let socket = app.open_url(&url, &person.cookie).await;
        senders.push(tokio::spawn(burst(sender, socket, seen[sender].clone())));
    }
    // Killed once a quarter of the burst is acknowledged.
    let acked = || seen.iter().map(|s| s.lock().unwrap().acked.len()).sum::<usize>();
    while acked() < SENDERS * EACH / 4 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.signal("KILL");
    for sender in senders {
        sender.await.unwrap();
    }
    let acked_at_crash = acked();
    assert!(
        acked_at_crash < SENDERS * EACH,
        "the kill came in the middle of the burst ({acked_at_crash} acknowledged)"
    );
    drop(first);

    // Restarted on the same database: every acknowledged message is there, at its seq, and
    // the room's seq has no gap.
    let second = app.spawn_instance();
    let stored_room = app.state.store.room_by_name(&room).await.unwrap().unwrap();
    let stored = app.state.store.messages_before(&stored_room, None, 2 * (SENDERS * EACH) as i64).await.unwrap();
    let by_id: HashMap<String, i64> = stored.iter().map(|m| (m.client_id.clone().unwrap(), m.seq)).collect();
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=stored.len() as i64).collect::<Vec<_>>());
    for seen in &seen {
        for (id, seq) in &seen.lock().unwrap().acked {
            assert_eq!(by_id.get(id), Some(seq), "{id} was acknowledged at {seq}");
        }
    }

    // Each sender resumes after the last message it was sent: it gets every later one, once,
    // in order; then sends again what was not acknowledged, under the same ids.
    let url = second.url("ws", &format!("/ws/chatroom/{room}/"));
    for (sender, person) in people.iter().enumerate() {
        let (last, acked) = {
            let seen = seen[sender].lock().unwrap();
            (seen.last, seen.acked.keys().cloned().collect::<HashSet<_>>())
        };
        let mut socket = app.open_url(&format!("{url}?after={last}"), &person.cookie).await;
        let mut resumed = Vec::new();
        while resumed.len() < stored.len() - last as usize {
            if let ServerEvent::Message(message) = next_event(&mut socket).await {
                resumed.push(message.seq);
            }
        }
        assert_eq!(resumed, (last + 1..=stored.len() as i64).collect::<Vec<_>>(), "sender {sender}: each once");
        let mut unacked: HashSet<String> =
            (0..EACH).map(|n| format!("s{sender}-{n}")).filter(|id| !acked.contains(id)).collect();
        for n in (0..EACH).filter(|n| unacked.contains(&format!("s{sender}-{n}"))) {
            send_text(&mut socket, &frame(sender, n)).await;
        }
        // A message stored before the crash is acknowledged again (to its sender alone), the
        // others as new ones.
        while !unacked.is_empty() {
            if let ServerEvent::Message(message) = next_event(&mut socket).await {
                unacked.remove(message.client_id.as_deref().unwrap_or_default());
            }
        }
    }
    // Everything sent is there exactly once (a message stored but not acknowledged before the
    // crash was recognised by its id), and still without a gap.
    let stored = app.state.store.messages_before(&stored_room, None, 2 * (SENDERS * EACH) as i64).await.unwrap();
    let ids: BTreeMap<String, i64> = stored.iter().map(|m| (m.client_id.clone().unwrap(), m.seq)).collect();
    assert_eq!(stored.len(), SENDERS * EACH, "no message lost, none stored twice");
    assert_eq!(ids.len(), SENDERS * EACH);
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=(SENDERS * EACH) as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_server_told_to_stop_answers_what_it_read_and_closes_sockets_with_1012() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let server = app.spawn_instance();
    let mut room = app.open_url(&server.url("ws", "/ws/chatroom/public-chat/"), &ana.cookie).await;
    let mut tab = app.open_url(&server.url("ws", "/ws/chat/"), &ana.cookie).await;
    for n in 0..100 {
        send_text(&mut room, &frame(0, n)).await;
    }
    // Once the first is acknowledged, the rest are in flight (read, or on their way).
    loop {
        if let ServerEvent::Message(_) = next_event(&mut room).await {
            break;
        }
    }
    server.signal("TERM");
    let mut acknowledged = 1;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), room.next()).await.expect("closed within 10 s") {
            Some(Ok(Message::Text(text))) => {
                if let Ok(ServerEvent::Message(_)) = serde_json::from_str(&text) {
                    acknowledged += 1;
                }
            }
            Some(Ok(Message::Close(frame))) => break frame.map_or(1005, |f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break 1006,
        }
    };
    assert_eq!(code, 1012, "the room socket is told the server restarts");
    assert_eq!(closed_with(&mut tab).await, 1012, "and so is the person's own socket");
    // What was acknowledged is stored, and nothing was stored unacknowledged.
    assert_eq!(app.stored_messages("public-chat").await, acknowledged);
    let mut server = server;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().unwrap();
        (server, status)
    })
    .await
    .unwrap()
    .1;
    assert!(status.success(), "it stopped by itself, cleanly: {status:?}");
}
