//! Real WebSocket clients: opening room and person sockets as a browser does (cookie, Origin),
//! and reading what the server sends, with timeouts so a missing event fails the test.

use std::time::Duration;

use app::domain::Role;
use app::protocol::ServerEvent;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{TestApp, TestUser};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl TestApp {
    /// Opens a room socket the way a browser on the site's own page does.
    pub async fn open_socket(
        &self,
        room: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Socket, StatusCode> {
        self.open_path(&format!("ws://127.0.0.1:{}/ws/chatroom/{room}/", self.port), cookie, origin).await
    }

    /// Opens a socket at a full URL (another instance's, say) with a session cookie.
    pub async fn open_url(&self, url: &str, cookie: &str) -> Socket {
        let origin = url.replacen("ws://", "http://", 1);
        let origin = origin.split('/').take(3).collect::<Vec<_>>().join("/");
        self.open_path(url, Some(cookie), Some(&origin)).await.expect("the socket opens")
    }

    pub(super) async fn open_path(
        &self,
        url: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Socket, StatusCode> {
        let mut request = url.into_client_request().unwrap();
        if let Some(cookie) = cookie {
            request.headers_mut().insert("Cookie", HeaderValue::from_str(cookie).unwrap());
        }
        let origin = origin.map(str::to_owned).unwrap_or_else(|| self.address.clone());
        request.headers_mut().insert("Origin", HeaderValue::from_str(&origin).unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
            }
            Err(other) => panic!("socket failed: {other}"),
        }
    }

    /// Opens a room socket that resumes after `after` (the raw query value, so tests can send
    /// bad ones too).
    pub async fn socket_after(&self, room: &str, user: &TestUser, after: &str) -> Result<Socket, StatusCode> {
        let url = format!("ws://127.0.0.1:{}/ws/chatroom/{room}/?after={after}", self.port);
        self.open_path(&url, Some(&user.cookie), None).await
    }

    pub async fn socket(&self, room: &str, user: &TestUser) -> Socket {
        self.open_socket(room, Some(&user.cookie), None).await.expect("the socket opens")
    }

    /// Ana and Bob with the public room open, the online counts they were sent already read.
    pub async fn ana_and_bob_in_public_chat(&self) -> (TestUser, TestUser, Socket, Socket) {
        let ana = self.signup("ana").await;
        let bob = self.signup("bob").await;
        let mut a = self.socket("public-chat", &ana).await;
        assert_eq!(next_count(&mut a).await, 1);
        let mut b = self.socket("public-chat", &bob).await;
        assert_eq!(next_count(&mut a).await, 2);
        assert_eq!(next_count(&mut b).await, 2);
        (ana, bob, a, b)
    }
}

/// The next text frame from the server, waiting at most five seconds.
async fn next_text(socket: &mut Socket) -> String {
    // One deadline for the event, however many pings arrive before it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an event within 5 s")
            .expect("the socket is open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The next event on a room socket.
pub async fn next_event(socket: &mut Socket) -> ServerEvent {
    let text = next_text(socket).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not a room event: {text}: {e}"))
}

/// The next event on a person's own socket.
pub async fn next_user_event(socket: &mut Socket) -> app::protocol::UserEvent {
    let text = next_text(socket).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not a user event: {text}: {e}"))
}

/// The next event on a person's own socket that is not an unread count: a room joined or
/// added gets its badge (0) at the hub's next flush, which can come before or after what a
/// test waits for.
pub async fn next_sidebar_event(socket: &mut Socket) -> app::protocol::UserEvent {
    loop {
        match next_user_event(socket).await {
            app::protocol::UserEvent::Unread { .. } => continue,
            event => return event,
        }
    }
}

/// Reads until the server closes the socket; gives the close code.
pub async fn closed_with(socket: &mut Socket) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed within 5 s") {
            Some(Ok(Message::Close(frame))) => return frame.map_or(1005, |f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return 1006,
        }
    }
}

/// The next online count, skipping nothing: the test says what it expects next.
pub async fn next_count(socket: &mut Socket) -> u32 {
    match next_event(socket).await {
        ServerEvent::OnlineCount { count, .. } => count,
        other => panic!("expected an online count, got {other:?}"),
    }
}

/// Asserts that nothing arrives for a short while.
pub async fn assert_quiet(socket: &mut Socket) {
    if let Ok(Some(frame)) = tokio::time::timeout(Duration::from_millis(300), socket.next()).await {
        panic!("expected no event, got {frame:?}");
    }
}

pub async fn send_text(socket: &mut Socket, text: &str) {
    socket.send(Message::text(text)).await.expect("frame sent");
}

pub async fn send_body(socket: &mut Socket, body: &str) {
    send_text(socket, &serde_json::json!({ "body": body }).to_string()).await;
}

/// Sends `count` messages ("during 1", "during 2", …) from a task of their own, letting other
/// tasks run every 20, so that the test can do something else meanwhile; gives the socket back.
pub fn write_in_background(mut socket: Socket, count: usize) -> tokio::task::JoinHandle<Socket> {
    tokio::spawn(async move {
        for n in 1..=count {
            send_body(&mut socket, &format!("during {n}")).await;
            if n % 20 == 0 {
                tokio::task::yield_now().await;
            }
        }
        socket
    })
}

/// The `presence` event telling that one person came online or went offline.
pub fn presence(username: &str, online: bool) -> app::protocol::UserEvent {
    let names = vec![username.to_owned()];
    if online {
        app::protocol::UserEvent::Presence { online: names, offline: vec![] }
    } else {
        app::protocol::UserEvent::Presence { online: vec![], offline: names }
    }
}

/// Whether an event tells that `username` came online (`Some(true)`) or went offline.
pub fn presence_of(event: &app::protocol::UserEvent, username: &str) -> Option<bool> {
    match event {
        app::protocol::UserEvent::Presence { online, offline } => {
            if online.iter().any(|n| n == username) {
                Some(true)
            } else if offline.iter().any(|n| n == username) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

impl TestApp {
    /// `n` people named `<prefix><i>`, made straight in the database (no password hashing: a
    /// thousand sign-ups would take the test most of a minute), each in the public chat as a
    /// sign-up would be, with a session of their own.
    pub async fn many_people(&self, prefix: &str, n: usize) -> Vec<TestUser> {
        let role = Role::parse("member").unwrap();
        let mut people = Vec::with_capacity(n);
        for i in 0..n {
            let username = format!("{prefix}{i}");
            let new = server::store::NewUser { username: &username, email: None, password_hash: "", role: &role };
            let user = self.state.store.create_user(new).await.expect("a person");
            let token = server::auth::new_session_token();
            let expires = server::store::now_ms() + 24 * 60 * 60 * 1000;
            let origin = server::store::SessionOrigin::default();
            self.state.store.create_session(&server::auth::token_hash(&token), user.id, expires, origin).await.unwrap();
            people.push(TestUser { username, cookie: format!("chat_session={token}") });
        }
        people
    }
}

/// The next message event, skipping online counts (which arrive whenever the socket reaches
/// them); anything else fails the test.
pub async fn next_message(socket: &mut Socket) -> app::protocol::ChatMessage {
    loop {
        match next_event(socket).await {
            ServerEvent::Message(message) => return message,
            ServerEvent::OnlineCount { .. } => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}
