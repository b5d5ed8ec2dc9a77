//! The realtime core under load, at test sizes: a fast sender is never dropped, unread
//! badges stay exact for a thousand people with the app open, batched commits keep `seq`
//! gap-free, and a socket that does not read is dropped without slowing the others. Speed is
//! measured by `loadtest` (README, Performance), never asserted here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::protocol::{ServerEvent, UserEvent};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

/// Reads a room socket until `count` messages arrived; gives their seqs and bodies in order.
/// Fails if the server closes it or they have not all arrived within 30 s.
async fn read_messages(socket: &mut Socket, count: usize) -> Vec<(i64, String)> {
    let mut messages = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while messages.len() < count {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} messages arrived", messages.len()));
        match frame {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerEvent>(&text).unwrap() {
                ServerEvent::Message(message) => messages.push((message.seq, message.body)),
                ServerEvent::OnlineCount { .. } => {}
                other => panic!("expected messages, got {other:?}"),
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("the socket ended after {} of {count} messages: {other:?}", messages.len()),
        }
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_posting_as_fast_as_it_can_is_acknowledged_every_time_and_never_dropped() {
    let app = spawn_app().await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let (mut ana_out, mut ana_in) = app.socket_after("public-chat", &ana, "0").await.unwrap().split();
    let mut bob_socket = app.socket("public-chat", &bob).await;
    // Ana writes 500 without waiting for anything, while Bob's 100 arrive in the same room.
    let writer = tokio::spawn(async move {
        for n in 0..500 {
            let frame = serde_json::json!({ "body": format!("ana {n}"), "client_id": format!("a{n}") });
            ana_out.send(Message::text(frame.to_string())).await.unwrap();
        }
        ana_out
    });
    for n in 0..100 {
        send_body(&mut bob_socket, &format!("bob {n}")).await;
    }
    let _ana_out = writer.await.unwrap();
    // Everything arrives on her socket: her 500 acknowledgements and Bob's 100, in seq order.
    let mut received = Vec::new();
    while received.len() < 600 {
        let frame = tokio::time::timeout(Duration::from_secs(20), ana_in.next()).await.expect("no stall");
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let ServerEvent::Message(message) = serde_json::from_str::<ServerEvent>(&text).unwrap() {
                    received.push((message.seq, message.body));
                }
            }
            Some(Ok(_)) => {}
            other => panic!("Ana's socket ended after {} messages: {other:?}", received.len()),
        }
    }
    let seqs: Vec<i64> = received.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=600).collect::<Vec<_>>(), "every message once, in order");
    let hers: Vec<&str> = received.iter().map(|(_, b)| b.as_str()).filter(|b| b.starts_with("ana")).collect();
    let expected: Vec<String> = (0..500).map(|n| format!("ana {n}")).collect();
    assert_eq!(hers, expected, "her own, all acknowledged, in the order she sent them");
    assert_eq!(read_messages(&mut bob_socket, 600).await.len(), 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_badges_of_a_thousand_people_with_the_app_open_match_the_database() {
    let app = spawn_app().await;
    let people = app.many_people("p", 1000).await;
    // Everyone has a tab open; each tab remembers the last public-chat count it was told.
    let mut tabs = Vec::new();
    for person in &people {
        let mut tab = app.user_socket(person).await;
        tabs.push(tokio::spawn(async move {
            let mut last = None;
            while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(3), tab.next()).await {
                if let Message::Text(text) = frame {
                    if let Ok(UserEvent::Unread { room, count }) = serde_json::from_str(&text) {
                        if room == "public-chat" {
                            last = Some(count);
                        }
                    }
                }
            }
            last
        }));
    }
    // Five senders, 40 messages each, at once (their sockets all open before the first).
    let mut sockets = Vec::new();
    for person in people.iter().take(5) {
        sockets.push(app.socket("public-chat", person).await);
    }
    let mut senders = Vec::new();
    for mut socket in sockets {
        senders.push(tokio::spawn(async move {
            for n in 0..40 {
                send_body(&mut socket, &format!("m{n}")).await;
            }
            socket
        }));
    }
    for sender in senders {
        let mut socket = sender.await.unwrap();
        read_messages(&mut socket, 200).await;
    }
    // Each tab's last count is the database's count for that person.
    let mut wrong = Vec::new();
    for (person, tab) in people.iter().zip(tabs) {
        let told = tab.await.unwrap();
        let id = app.user_id(&person.username).await;
        let truth = app.state.store.unread_of(id).await.unwrap();
        let truth = truth.iter().find(|c| c.room == "public-chat").map(|c| c.count);
        if told != truth {
            wrong.push((person.username.clone(), told, truth));
        }
    }
    assert!(wrong.is_empty(), "badges that differ from the database: {wrong:?}");
    let sender_id = app.user_id("p0").await;
    assert_eq!(app.state.store.unread_of(sender_id).await.unwrap()[0].count, 160, "their own 40 do not count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_commits_keep_seq_gap_free_for_twenty_senders_in_five_rooms() {
    let app = spawn_app().await;
    let people = app.many_people("w", 20).await;
    let owner = app.signup("owner").await;
    let mut rooms = Vec::new();
    for r in 0..5 {
        let room = app.create_room(&owner, &format!("Room {r}"), "public").await;
        for person in &people[r * 4..r * 4 + 4] {
            let _: () = app.call_ok("join_room", &[("room", &room)], person).await;
        }
        rooms.push(room);
    }
    // Every socket asks for the room's whole stream (`?after=0`): one opened without it starts
    // at the newest message when its server side begins, which may be after another socket's
    // first message.
    let mut sockets = Vec::new();
    for (i, person) in people.iter().enumerate() {
        sockets.push((i, rooms[i / 4].clone(), app.socket_after(&rooms[i / 4], person, "0").await.unwrap()));
    }
    let mut writers = Vec::new();
    for (i, room, mut socket) in sockets {
        writers.push(tokio::spawn(async move {
            for n in 0..25 {
                send_text(&mut socket, &serde_json::json!({ "body": format!("{i}:{n}") }).to_string()).await;
            }
            (room, read_messages(&mut socket, 100).await)
        }));
    }
    let mut seen: HashMap<String, Vec<Vec<(i64, String)>>> = HashMap::new();
    for writer in writers {
        let (room, messages) = writer.await.unwrap();
        seen.entry(room).or_default().push(messages);
    }
    for room in &rooms {
        let stored = app.state.store.room_by_name(room).await.unwrap().unwrap();
        let rows = app.state.store.messages_after(&stored, 0, 1000).await.unwrap();
        let seqs: Vec<i64> = rows.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=100).collect::<Vec<_>>(), "{room}: one gap-free seq");
        let bodies: Vec<(i64, String)> = rows.into_iter().map(|m| (m.seq, m.body)).collect();
        for received in &seen[room] {
            assert_eq!(received, &bodies, "{room}: every socket saw the stored messages, in seq order");
        }
        // Each sender's own messages are stored in the order sent.
        for sender in seen[room][0].iter().map(|(_, b)| b.split(':').next().unwrap().to_owned()) {
            let own: Vec<String> =
                bodies.iter().filter(|(_, b)| b.starts_with(&format!("{sender}:"))).map(|(_, b)| b.clone()).collect();
            assert_eq!(own, (0..25).map(|n| format!("{sender}:{n}")).collect::<Vec<_>>());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_never_reads_is_dropped_and_the_others_get_everything() {
    const MESSAGES: usize = 5000;
    let app = spawn_app().await;
    let people = app.many_people("r", 6).await;
    // The slow one: it opens the room with a tiny receive buffer and then never reads a frame.
    let slow = slow_socket(&app, &people[0]).await;
    let mut readers = Vec::new();
    for person in &people[1..] {
        let mut socket = app.socket("public-chat", person).await;
        readers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut got = 0;
            while got < MESSAGES {
                match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        if let ServerEvent::Message(message) = serde_json::from_str::<ServerEvent>(&text).unwrap() {
                            let sent: u128 = message.body.split(' ').next().unwrap().parse().unwrap();
                            latencies.push(now_us().saturating_sub(sent));
                            got += 1;
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    other => panic!("a reading socket ended after {got} messages: {other:?}"),
                }
            }
            latencies
        }));
    }
    // 5,000 messages of about 1 KB: more than the kernel buffers toward the slow socket (the
    // send buffer grows to 4 MB here), its write buffer and its ring hold.
    let writer = app.socket("public-chat", &people[1]).await;
    let (mut out, mut acks) = writer.split();
    let filler = "x".repeat(900);
    let posting = tokio::spawn(async move {
        for _ in 0..MESSAGES {
            let body = format!("{} {filler}", now_us());
            out.send(Message::text(serde_json::json!({ "body": body }).to_string())).await.unwrap();
        }
        out
    });
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = acks.next().await {} });
    let mut all = Vec::new();
    for reader in readers {
        all.extend(reader.await.unwrap());
    }
    let _out = posting.await.unwrap();
    drain.abort();
    all.sort_unstable();
    let p99 = all[all.len() * 99 / 100];
    println!("5 readers got all {MESSAGES} messages each: p99 {} ms", p99 / 1000);
    // The slow socket is gone: the room no longer counts its person, within the send timeout.
    let deadline = Instant::now() + Duration::from_secs(15);
    let room_id = app.state.store.room_by_name("public-chat").await.unwrap().unwrap().id;
    let slow_id = app.user_id(&people[0].username).await;
    while app.state.hub.present_here(room_id).contains(&slow_id) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!app.state.hub.present_here(room_id).contains(&slow_id), "the socket that does not read was dropped");
    drop(slow);
}

/// A room socket whose TCP receive buffer is 4 KiB, so the server's writes to it block soon.
async fn slow_socket(app: &TestApp, person: &TestUser) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(format!("127.0.0.1:{}", app.port).parse().unwrap()).await.unwrap();
    let mut request = format!("ws://127.0.0.1:{}/ws/chatroom/public-chat/", app.port).into_client_request().unwrap();
    request.headers_mut().insert("Cookie", person.cookie.parse().unwrap());
    request.headers_mut().insert("Origin", app.address.parse().unwrap());
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    tokio_tungstenite::client_async(request, stream).await.expect("the socket opens").0
}

fn now_us() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()
}
