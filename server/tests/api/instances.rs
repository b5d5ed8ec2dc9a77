//! Several server processes over one database: what running more than one instance relies on.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::protocol::{ChatMessage, ServerEvent};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn four_writers_on_two_instances_give_one_gap_free_seq() {
    let app = spawn_app().await;
    let ana = app.signup("ana").await;
    let other = app.spawn_instance();
    let ready = http().get(format!("http://127.0.0.1:{}/readyz", other.port)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let room = app.create_room(&ana, "Busy", "public").await;

    // Two sockets on each instance, all writing at once (the session is in the shared database).
    let mut sockets = Vec::new();
    for port in [app.port, app.port, other.port, other.port] {
        let url = format!("ws://127.0.0.1:{port}/ws/chatroom/{room}/");
        sockets.push(app.open_url(&url, &ana.cookie).await);
    }
    const EACH: usize = 50;
    join_all(sockets.iter_mut().enumerate().map(|(writer, socket)| async move {
        for n in 0..EACH {
            send_body(socket, &format!("writer {writer} message {n}")).await;
        }
    }))
    .await;
    // Each writer's own messages come back to it acknowledged, in its own order.
    for (writer, socket) in sockets.iter_mut().enumerate() {
        let mut mine = Vec::new();
        while mine.len() < EACH {
            if let app::protocol::ServerEvent::Message(message) = next_event(socket).await {
                if message.body.starts_with(&format!("writer {writer} ")) {
                    mine.push(message.seq);
                }
            }
        }
        assert!(mine.windows(2).all(|pair| pair[0] < pair[1]), "writer {writer}: {mine:?}");
    }

    let stored = app.state.store.room_by_name(&room).await.unwrap().unwrap();
    let page = app.state.store.messages_before(&stored, None, 1000).await.unwrap();
    let seqs: Vec<i64> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=4 * EACH as i64).collect::<Vec<_>>(), "every seq once, none skipped");
}

/// A Redis server of the test's own, on a port of its own, so stopping it disturbs nothing else.
struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { child: None, port };
        redis.start_again();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits until it answers.
    fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (the machine has it; see README)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Kills the server (SIGKILL: no goodbye to anyone).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The test app (instance A) and a second server process (instance B) on one database, both
/// on the test's own Redis, with short-lived presence keys.
async fn two_instances(redis: &Redis) -> (TestApp, Instance) {
    let url = redis.url();
    let app = spawn_app_with(|config| {
        config.redis_url = Some(url.clone());
        config.presence_ttl = Duration::from_secs(3);
    })
    .await;
    let other = app.spawn_instance_with(&[("REDIS_URL", &url), ("PRESENCE_TTL_SECONDS", "3")]);
    (app, other)
}

fn room_url(port: u16, room: &str) -> String {
    format!("ws://127.0.0.1:{port}/ws/chatroom/{room}/")
}

/// Reads a socket until the online count is `count` (counts may repeat on the way).
async fn wait_for_count(socket: &mut Socket, count: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, next_event(socket)).await;
        match event.unwrap_or_else(|_| panic!("the count did not reach {count} in 20 s")) {
            ServerEvent::OnlineCount { count: now, .. } if now == count => return,
            _ => {}
        }
    }
}

/// The next message on a socket, however long it takes (the caller sets the deadline).
async fn next_chat_message_patiently(socket: &mut Socket) -> ChatMessage {
    use futures_util::StreamExt;
    loop {
        match socket.next().await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                if let Ok(ServerEvent::Message(message)) = serde_json::from_str(text.as_str()) {
                    return message;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }
}

/// The next message on a socket, skipping counts and other events.
async fn next_chat_message(socket: &mut Socket) -> ChatMessage {
    loop {
        if let ServerEvent::Message(message) = next_event(socket).await {
            return message;
        }
    }
}

#[tokio::test]
async fn a_message_sent_through_one_instance_reaches_sockets_on_both() {
    let redis = Redis::start();
    let (app, other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let mut on_a = app.open_url(&room_url(app.port, "public-chat"), &ana.cookie).await;
    let mut on_b = app.open_url(&room_url(other.port, "public-chat"), &bob.cookie).await;
    // Both counted, on both: the online count is of people on all instances.
    wait_for_count(&mut on_a, 2).await;
    wait_for_count(&mut on_b, 2).await;

    send_body(&mut on_a, "from A").await;
    assert_eq!(next_chat_message(&mut on_b).await.body, "from A");
    assert_eq!(next_chat_message(&mut on_a).await.body, "from A");
    send_body(&mut on_b, "from B").await;
    let (at_a, at_b) = (next_chat_message(&mut on_a).await, next_chat_message(&mut on_b).await);
    assert_eq!((at_a.body.as_str(), at_a.seq), ("from B", 2));
    assert_eq!((at_b.body.as_str(), at_b.seq), ("from B", 2));

    // A person's own channel too. Bob, on B, sees Ana come online on A, gets his unread count
    // of a message stored through A, and is told of the private chat Ana starts on A.
    use app::protocol::UserEvent;
    let mut bob_tab = app.open_url(&format!("ws://127.0.0.1:{}/ws/chat/", other.port), &bob.cookie).await;
    let _ana_tab = app.user_socket(&ana).await;
    wait_for_user_event(&mut bob_tab, |event| presence_of(event, "ana") == Some(true)).await;
    app.post("public-chat", &ana, "while bob looks elsewhere").await;
    wait_for_user_event(
        &mut bob_tab,
        |event| matches!(event, UserEvent::Unread { room, count } if room == "public-chat" && *count >= 1),
    )
    .await;
    let room = app.direct_room(&ana, "bob").await;
    wait_for_user_event(
        &mut bob_tab,
        |event| matches!(event, UserEvent::RoomAdded { room: added } if added.name == room),
    )
    .await;

    // Ready while Redis answers; not ready (so a load balancer looks elsewhere) when it does not.
    let readyz = format!("http://127.0.0.1:{}/readyz", other.port);
    assert_eq!(http().get(&readyz).send().await.unwrap().status(), StatusCode::OK);
    drop(redis);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = http().get(&readyz).send().await.unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.text().await.unwrap().contains("Redis"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz still says ready without Redis");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads a person's own socket until an event matches.
async fn wait_for_user_event(socket: &mut Socket, wanted: impl Fn(&app::protocol::UserEvent) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, next_user_event(socket)).await.expect("the event within 10 s");
        if wanted(&event) {
            return;
        }
    }
}

#[tokio::test]
async fn a_killed_instance_leaves_the_online_count_when_its_keys_expire() {
    let redis = Redis::start();
    let (app, mut other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let mut on_a = app.open_url(&room_url(app.port, "public-chat"), &ana.cookie).await;
    let _on_b = app.open_url(&room_url(other.port, "public-chat"), &bob.cookie).await;
    wait_for_count(&mut on_a, 2).await;

    // SIGKILL: B says goodbye to nobody. A stops counting Bob when B's keys expire (3 s here,
    // 30 s by default), rewritten every third of that.
    other.child.kill().unwrap();
    other.child.wait().unwrap();
    wait_for_count(&mut on_a, 1).await;
    // A still serves.
    send_body(&mut on_a, "still here").await;
    assert_eq!(next_chat_message(&mut on_a).await.body, "still here");
}

#[tokio::test]
async fn redis_going_away_during_a_burst_loses_nothing() {
    let mut redis = Redis::start();
    let (app, other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let mut on_a = app.open_url(&room_url(app.port, "public-chat"), &ana.cookie).await;
    let mut on_b = app.open_url(&room_url(other.port, "public-chat"), &bob.cookie).await;
    wait_for_count(&mut on_b, 2).await;
    bus_reported(&app, true).await;

    const TOTAL: usize = 500;
    // Posted one after another through A (each answered once stored), while Redis is killed
    // at the 150th and started again at the 350th.
    for n in 0..TOTAL {
        if n == 150 {
            redis.stop();
            bus_reported(&app, false).await;
        }
        if n == 350 {
            redis.start_again();
        }
        app.post("public-chat", &ana, &format!("burst {n}")).await;
    }
    // Every socket, on both instances, ends with all of them, in order, once. (B catches up
    // when its subscription is back, which may take a few seconds of backoff.)
    for (name, socket) in [("A", &mut on_a), ("B", &mut on_b)] {
        let mut bodies = Vec::with_capacity(TOTAL);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while bodies.len() < TOTAL {
            let message = tokio::time::timeout_at(deadline, next_chat_message_patiently(socket))
                .await
                .unwrap_or_else(|_| panic!("on {name}: only {} of {TOTAL} within 60 s", bodies.len()));
            assert_eq!(message.seq as usize, bodies.len() + 1, "on {name}: in seq order, none twice");
            bodies.push(message.body);
        }
        let expected: Vec<String> = (0..TOTAL).map(|n| format!("burst {n}")).collect();
        assert_eq!(bodies, expected, "on {name}");
    }
    bus_reported(&app, true).await;
}

/// Waits (up to 10 s) until `/metrics` reports the bus as `connected`.
async fn bus_reported(app: &TestApp, connected: bool) {
    let want = format!("chat_bus_connected {}", u8::from(connected));
    for _ in 0..200 {
        if app.get("/metrics", None).await.text().await.unwrap().lines().any(|line| line == want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/metrics never said {want}");
}

#[tokio::test]
async fn someone_with_tabs_on_two_instances_stays_online_until_the_last_closes() {
    use app::protocol::UserEvent;
    let redis = Redis::start();
    let (app, other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let mut bob_tab = app.open_url(&format!("ws://127.0.0.1:{}/ws/chat/", other.port), &bob.cookie).await;

    let tab_on_a = app.user_socket(&ana).await;
    wait_for_user_event(&mut bob_tab, |e| presence_of(e, "ana") == Some(true)).await;
    let mut tab_on_b = app.open_url(&format!("ws://127.0.0.1:{}/ws/chat/", other.port), &ana.cookie).await;
    // A pong means B has settled whether she came online (it does so before answering).
    send_text(&mut tab_on_b, r#"{"type":"ping"}"#).await;
    assert!(matches!(next_user_event(&mut tab_on_b).await, UserEvent::Pong));
    drop(tab_on_a);
    // Her tab on B is still open: Bob is never told she left. (A second "online" is harmless:
    // under load an instance may not see the other's write in time, and says it again.)
    let window = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(event) = tokio::time::timeout_at(window, next_user_event(&mut bob_tab)).await {
        assert!(presence_of(&event, "ana") != Some(false), "told she went offline while one of her tabs is open");
    }
    let profile: serde_json::Value = app.call_ok("profile", &[("username", "ana")], &bob).await;
    assert_eq!(profile["person"]["online"], true, "A still sees her online, through B");
    drop(tab_on_b);
    wait_for_user_event(&mut bob_tab, |event| presence_of(event, "ana") == Some(false)).await;
}

#[tokio::test]
async fn a_deletion_on_one_instance_recounts_unread_badges_on_the_other() {
    use app::protocol::UserEvent;
    let redis = Redis::start();
    let (app, other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    app.state.store.set_admin(app.user_id("ana").await, true).await.unwrap();
    let mut bob_tab = app.open_url(&format!("ws://127.0.0.1:{}/ws/chat/", other.port), &bob.cookie).await;
    // A pong: B has registered Bob's tab before anything is posted.
    send_text(&mut bob_tab, r#"{"type":"ping"}"#).await;
    wait_for_user_event(&mut bob_tab, |event| matches!(event, UserEvent::Pong)).await;

    app.post("public-chat", &ana, "first").await;
    app.post("public-chat", &ana, "regrettable").await;
    let unread = |n: u32| move |event: &UserEvent| matches!(event, UserEvent::Unread { room, count } if room == "public-chat" && *count == n);
    wait_for_user_event(&mut bob_tab, unread(2)).await;

    // Deleted through A: Bob's badge on B drops to 1.
    let _: () = app.call_ok("admin_delete_message", &[("room", "public-chat"), ("seq", "2")], &ana).await;
    wait_for_user_event(&mut bob_tab, unread(1)).await;
}

/// The next event on a socket that changes a message (skipping counts and messages).
async fn next_message_change(socket: &mut Socket) -> ServerEvent {
    loop {
        match next_event(socket).await {
            ServerEvent::OnlineCount { .. } | ServerEvent::Message(_) => continue,
            other => return other,
        }
    }
}

#[tokio::test]
async fn edits_deletions_and_reactions_reach_the_other_instance_live_and_after_a_gap() {
    let redis = Redis::start();
    let (app, other) = two_instances(&redis).await;
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let mut on_a = app.open_url(&room_url(app.port, "public-chat"), &ana.cookie).await;
    let mut on_b = app.open_url(&room_url(other.port, "public-chat"), &bob.cookie).await;
    wait_for_count(&mut on_b, 2).await;
    for n in 1..=3 {
        send_body(&mut on_a, &format!("message {n}")).await;
    }
    for _ in 1..=3 {
        next_chat_message(&mut on_b).await;
    }

    // Live: what Ana changes through A reaches Bob's socket on B.
    let edit = serde_json::json!({ "type": "edit", "seq": 1, "body": "message one" }).to_string();
    send_text(&mut on_a, &edit).await;
    assert!(matches!(next_message_change(&mut on_b).await, ServerEvent::MessageEdited { seq: 1, change: 1, .. }));
    next_message_change(&mut on_a).await;
    send_text(&mut on_b, r#"{"type":"react","seq":2,"emoji":"👍","on":true}"#).await;
    match next_message_change(&mut on_a).await {
        ServerEvent::Reactions { seq: 2, reactions, change: 2, .. } => assert_eq!(reactions[0].people, ["bob"]),
        other => panic!("expected bob's reaction on A, got {other:?}"),
    }
    next_message_change(&mut on_b).await;

    // After a gap: Bob's page on B was away while Ana deleted 3 and edited 2 through A.
    drop(on_b);
    send_text(&mut on_a, r#"{"type":"delete","seq":3}"#).await;
    send_text(&mut on_a, &serde_json::json!({ "type": "edit", "seq": 2, "body": "message two" }).to_string()).await;
    for _ in 0..2 {
        next_message_change(&mut on_a).await;
    }
    let url = format!("{}?after=3&since=2", room_url(other.port, "public-chat"));
    let mut resumed = app.open_url(&url, &bob.cookie).await;
    let mut told = Vec::new();
    while told.len() < 3 {
        told.push(match next_message_change(&mut resumed).await {
            ServerEvent::MessageDeleted { seq, change, .. } => format!("{seq} deleted at {change}"),
            ServerEvent::MessageEdited { seq, body, change, .. } => format!("{seq} is {body:?} at {change}"),
            ServerEvent::Reactions { seq, reactions, change, .. } => {
                format!("{seq} has {} at {change}", reactions.len())
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(told, ["3 deleted at 3", "2 is \"message two\" at 4", "2 has 1 at 4"]);
}

#[tokio::test]
async fn a_private_message_is_pushed_once_by_whichever_instance_took_it_and_not_while_a_tab_is_open_on_the_other() {
    use app::protocol::UserEvent;
    let redis = Redis::start();
    let service = PushService::start().await;
    let (url, origin) = (redis.url(), service.origin.clone());
    let app = spawn_app_with(|config| {
        config.redis_url = Some(url.clone());
        config.presence_ttl = Duration::from_secs(3);
        config.push_services = vec![origin.clone()];
    })
    .await;
    let other = app.spawn_instance_with(&[
        ("REDIS_URL", &url),
        ("PRESENCE_TTL_SECONDS", "3"),
        ("PUSH_SERVICES", &origin),
        ("PUSH_CONTACT", "mailto:ops@example.org"),
    ]);
    let (ana, bob) = (app.signup("ana").await, app.signup("bob").await);
    let laptop = Device::new("laptop");
    let _: () = app.call_ok("push_subscribe", &[("subscription", &laptop.subscription(&service))], &bob).await;
    let key: String = app.call_ok("push_key", &[], &bob).await;
    let dm = app.direct_room(&ana, "bob").await;

    app.post(&dm, &ana, "via A").await;
    let posted = http()
        .post(other.url("http", "/api/send_message"))
        .header("Cookie", &ana.cookie)
        .form(&[("room", dm.as_str()), ("body", "via B")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let pushes = service.wait_for(2).await;
    assert_eq!(pushes.len(), 2, "one push per message, not one per instance");
    let bodies: Vec<Value> = pushes.iter().map(|push| laptop.decrypt(&push.body)["body"].clone()).collect();
    assert_eq!(bodies, ["via A", "via B"]);
    for push in &pushes {
        // Both instances sign with the one key under the shared DATA_DIR.
        assert_signed(push, &service, &key, "mailto:ops@example.org");
    }

    // Bob opens a tab on B: A, which takes the next message, sees it and pushes nothing.
    let mut bob_tab = app.open_url(&other.url("ws", "/ws/chat/"), &bob.cookie).await;
    send_text(&mut bob_tab, r#"{"type":"ping"}"#).await;
    wait_for_user_event(&mut bob_tab, |e| matches!(e, UserEvent::Pong)).await;
    // (The pong says B wrote that he is online; its subscription to his events may take a
    // moment more.)
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.post(&dm, &ana, "your tab on B shows this").await;
    wait_for_user_event(&mut bob_tab, |e| matches!(e, UserEvent::Notify { .. })).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(service.received().len(), 2, "no push while a tab is open on another instance");
}
