//! Several server processes over one database: what running more than one instance relies on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::helpers::*;

/// A second server: the real binary in a process of its own, on the test app's database.
struct Instance {
    child: Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    fn spawn_instance(&self) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .arg("serve")
            .env("DATABASE_URL", &self.database_url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_SITE_ROOT", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
            .env("DATA_DIR", std::env::temp_dir())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        // It says where it listens ("chat listening on http://127.0.0.1:PORT").
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("the instance logs its address").unwrap();
            if let Some(address) = line.split("chat listening on http://").nth(1) {
                let address = address.split_whitespace().next().unwrap();
                let port: String =
                    address.rsplit(':').next().unwrap().chars().take_while(char::is_ascii_digit).collect();
                break port.parse().unwrap();
            }
        };
        // Keep reading its log, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Instance { child, port }
    }
}

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
