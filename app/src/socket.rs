//! The sockets in the browser, exposed as reactive signals. A room page holds one room socket
//! (`RoomLive`: messages, online count, title, connection status); the signed-in layout holds
//! one `/ws/chat/` socket whose events refresh the sidebar. Both reconnect by themselves with
//! exponential backoff. On the server (SSR) nothing connects; the signals hold the
//! server-rendered state.

use leptos::prelude::*;

use crate::model::RoomPage;
use crate::protocol::{Author, ChatMessage, ClientFrame, ClosedReason, ServerEvent, UserEvent};

// Without `hydrate` nothing connects, so parts of this are only used in the browser.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Open,
    Reconnecting,
}

/// A page says its person is typing at most this often, and shows someone else typing for
/// this long after their last signal.
const TYPING_EVERY_MS: f64 = 3_000.0;
const TYPING_SHOWN_MS: f64 = 5_000.0;

/// The live state of one room page.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy)]
pub struct RoomLive {
    room: StoredValue<String>,
    pub messages: RwSignal<Vec<ChatMessage>>,
    pub online: RwSignal<u32>,
    pub title: RwSignal<String>,
    pub status: RwSignal<Status>,
    /// Set when the server ends the room for this person (deleted, or removed from it).
    pub closed: RwSignal<Option<ClosedReason>>,
    /// Whether messages older than the first one shown exist.
    pub has_older: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// The last problem to show under the message box.
    pub error: RwSignal<Option<String>>,
    /// Messages sent but not yet acknowledged, oldest first: shown as "sending…", and sent
    /// again (under the same client id, so stored once) whenever the socket reopens.
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// The newest `seq` this page told the server was read.
    read_up_to: StoredValue<i64>,
    /// Who is typing in the room, and until when (ms) to believe it.
    pub typing: RwSignal<Vec<(Author, f64)>>,
    /// When this page last said its person is typing (ms).
    typing_sent: StoredValue<f64>,
    connection: StoredValue<Option<browser::Connection>, browser::Storage>,
}

/// A message on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub client_id: String,
    pub body: String,
}

impl Outgoing {
    fn frame(&self) -> String {
        let frame = ClientFrame { body: self.body.clone(), client_id: Some(self.client_id.clone()) };
        serde_json::to_string(&frame).expect("client frames always serialise")
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl RoomLive {
    pub fn new(page: &RoomPage) -> Self {
        Self {
            room: StoredValue::new(page.room.name.clone()),
            messages: RwSignal::new(page.messages.clone()),
            online: RwSignal::new(page.online),
            title: RwSignal::new(page.room.title.clone()),
            status: RwSignal::new(Status::Connecting),
            closed: RwSignal::new(None),
            has_older: RwSignal::new(page.has_older),
            loading_older: RwSignal::new(false),
            error: RwSignal::new(None),
            outbox: RwSignal::new(Vec::new()),
            read_up_to: StoredValue::new(0),
            typing: RwSignal::new(Vec::new()),
            typing_sent: StoredValue::new(0.0),
            connection: StoredValue::new_with_storage(None),
        }
    }

    fn is_this_room(&self, room: &str) -> bool {
        self.room.with_value(|current| current == room)
    }

    /// Folds one server event into the page state. Messages are kept in `seq` order and a
    /// message already shown (same `seq`) is not shown twice.
    pub fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Message(message) if self.is_this_room(&message.room) => {
                if let Some(id) = &message.client_id {
                    if self.outbox.with_untracked(|outbox| outbox.iter().any(|o| &o.client_id == id)) {
                        self.outbox.update(|outbox| outbox.retain(|o| &o.client_id != id));
                    }
                }
                // Their message arrived: they are no longer typing it.
                if self.typing.with_untracked(|t| t.iter().any(|(a, _)| a.username == message.author.username)) {
                    self.typing.update(|t| t.retain(|(a, _)| a.username != message.author.username));
                }
                self.messages.update(|messages| insert_in_order(messages, message));
                self.mark_read();
            }
            ServerEvent::Typing { room, author } if self.is_this_room(&room) => {
                let until = browser::now_ms() + TYPING_SHOWN_MS;
                self.typing.update(|typing| {
                    typing.retain(|(a, _)| a.username != author.username);
                    typing.push((author, until));
                });
            }
            ServerEvent::MessageDeleted { room, seq } if self.is_this_room(&room) => {
                self.messages.update(|messages| messages.retain(|message| message.seq != seq));
            }
            ServerEvent::OnlineCount { room, count } if self.is_this_room(&room) => self.online.set(count),
            ServerEvent::RoomRenamed { room, title } if self.is_this_room(&room) => self.title.set(title),
            ServerEvent::RoomClosed { room, reason } if self.is_this_room(&room) => {
                self.stop();
                self.closed.set(Some(reason));
            }
            ServerEvent::Error { message, .. } => self.error.set(Some(message)),
            _ => {}
        }
    }

    /// Adds a page of older messages in front of the ones shown.
    pub fn prepend(&self, older: Vec<ChatMessage>, has_older: bool) {
        self.messages.update(|messages| {
            for message in older {
                insert_in_order(messages, message);
            }
        });
        self.has_older.set(has_older);
    }

    /// The `seq` of the oldest message shown.
    pub fn first_seq(&self) -> Option<i64> {
        self.messages.with_untracked(|messages| messages.first().map(|m| m.seq))
    }

    /// The `seq` of the newest message shown: where a reconnecting socket resumes.
    pub fn last_seq(&self) -> Option<i64> {
        self.messages.with_untracked(|messages| messages.last().map(|m| m.seq))
    }

    /// Queues a message and sends it now if the socket is open; otherwise it goes out as soon
    /// as the socket reopens. Either way it shows as "sending…" until the server has it.
    pub fn send(&self, body: &crate::domain::MessageBody) {
        let outgoing = Outgoing { client_id: browser::new_client_id(), body: body.as_str().to_owned() };
        let frame = outgoing.frame();
        self.outbox.update(|outbox| outbox.push(outgoing));
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                let _ = connection.send(&frame);
            }
        });
    }

    /// Tells the server the room is read up to the newest message shown, when someone can see
    /// it: the tab is visible and focused. Every tab and device then shows the new count.
    pub fn mark_read(&self) {
        let Some(seq) = self.last_seq() else { return };
        if seq <= self.read_up_to.get_value() || !browser::page_is_seen() {
            return;
        }
        let sent = self.connection.with_value(|connection| {
            connection.as_ref().is_some_and(|c| c.send(&format!(r#"{{"type":"read","seq":{seq}}}"#)).is_ok())
        });
        if sent {
            self.read_up_to.set_value(seq);
        }
    }

    /// Called on every keystroke in the message box: tells the room, at most every 3 seconds.
    pub fn typed(&self) {
        let now = browser::now_ms();
        if now - self.typing_sent.get_value() < TYPING_EVERY_MS {
            return;
        }
        let sent = self
            .connection
            .with_value(|connection| connection.as_ref().is_some_and(|c| c.send(r#"{"type":"typing"}"#).is_ok()));
        if sent {
            self.typing_sent.set_value(now);
        }
    }

    /// Forgets typists not heard from for [`TYPING_SHOWN_MS`].
    fn forget_quiet_typists(&self) {
        let now = browser::now_ms();
        if self.typing.with_untracked(|t| t.iter().any(|(_, until)| *until <= now)) {
            self.typing.update(|t| t.retain(|(_, until)| *until > now));
        }
    }

    /// Sends every queued message again, oldest first (the socket just reopened).
    fn flush(&self) {
        let frames: Vec<String> = self.outbox.with_untracked(|outbox| outbox.iter().map(Outgoing::frame).collect());
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                for frame in &frames {
                    let _ = connection.send(frame);
                }
            }
        });
    }

    fn stop(&self) {
        self.connection.with_value(|connection| {
            if let Some(connection) = connection {
                connection.stop();
            }
        });
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn insert_in_order(messages: &mut Vec<ChatMessage>, message: ChatMessage) {
    match messages.last() {
        None => messages.push(message),
        Some(last) if last.seq < message.seq => messages.push(message),
        _ => {
            if let Err(at) = messages.binary_search_by_key(&message.seq, |m| m.seq) {
                messages.insert(at, message);
            }
        }
    }
}

/// Opens the room socket for this page and closes it when the page goes away. Nothing on the
/// server: there the page is rendered once, and its thread-local state must not be touched
/// from the thread that later cleans it up.
pub fn connect_room(live: RoomLive) {
    if cfg!(not(feature = "hydrate")) {
        return;
    }
    // Every (re)connection asks for what came after the newest message shown, so nothing
    // posted while the page loaded or while the network was down goes missing.
    let path = move || {
        let room = live.room.get_value();
        match live.last_seq() {
            Some(seq) => format!("/ws/chatroom/{room}/?after={seq}"),
            None => format!("/ws/chatroom/{room}/?after=0"),
        }
    };
    let connection = browser::Connection::open(
        path,
        live.status,
        move || {
            live.flush();
            live.mark_read();
        },
        move |text| match serde_json::from_str(text) {
            Ok(event) => live.apply(event),
            Err(error) => leptos::logging::warn!("ignoring an event this page does not understand: {error}"),
        },
    );
    live.connection.set_value(connection);
    // Coming back to the tab reads what arrived meanwhile.
    let focus = window_event_listener(leptos::ev::focus, move |_| live.mark_read());
    let typists = set_interval_with_handle(move || live.forget_quiet_typists(), std::time::Duration::from_secs(1)).ok();
    on_cleanup(move || {
        focus.remove();
        if let Some(typists) = typists {
            typists.clear();
        }
        if let Some(Some(connection)) = live.connection.try_update_value(|c| c.take()) {
            connection.stop();
        }
    });
}

/// Opens the signed-in person's own socket (`/ws/chat/`) for as long as the calling component
/// lives, handing each event to `on_event`.
pub fn connect_user(on_event: impl Fn(UserEvent) + 'static) {
    if cfg!(not(feature = "hydrate")) {
        return;
    }
    let status = RwSignal::new(Status::Connecting);
    let connection = browser::Connection::open(
        || "/ws/chat/".to_owned(),
        status,
        || {},
        move |text| match serde_json::from_str(text) {
            Ok(event) => on_event(event),
            Err(error) => leptos::logging::warn!("ignoring an event this page does not understand: {error}"),
        },
    );
    let connection = StoredValue::<_, browser::Storage>::new_with_storage(connection);
    on_cleanup(move || {
        if let Some(Some(connection)) = connection.try_update_value(|c| c.take()) {
            connection.stop();
        }
    });
}

/// Whether someone can see the page: its tab is visible and the window has focus.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn page_is_seen() -> bool {
    browser::page_is_seen()
}

/// `HH:MM` of an RFC 3339 timestamp in the browser's time zone.
pub fn local_clock(created_at: &str) -> String {
    browser::local_clock(created_at)
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use leptos::prelude::RwSignal;

    use super::Status;

    /// Where a page keeps its connection. On the server a page may be dropped on another
    /// thread than the one that rendered it, so nothing there may be thread-local.
    pub type Storage = leptos::prelude::SyncStorage;

    pub struct Connection;

    impl Connection {
        pub fn open(
            _path: impl Fn() -> String + 'static,
            _status: RwSignal<Status>,
            _on_open: impl Fn() + 'static,
            _on_text: impl Fn(&str) + 'static,
        ) -> Option<Self> {
            None
        }

        pub fn send(&self, _frame: &str) -> Result<(), ()> {
            Err(())
        }

        pub fn stop(&self) {}
    }

    pub fn local_clock(created_at: &str) -> String {
        created_at.get(11..16).unwrap_or_default().to_owned()
    }

    pub fn new_client_id() -> String {
        String::new()
    }

    pub fn page_is_seen() -> bool {
        false
    }

    pub fn now_ms() -> f64 {
        0.0
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::{Rc, Weak};
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::Status;

    /// In the browser a connection holds JS handles, which live on the one thread there is.
    pub type Storage = LocalStorage;

    /// A socket that reopens itself until stopped.
    pub struct Connection(Rc<Inner>);

    struct Inner {
        /// Where to connect, worked out again for every attempt.
        url: Box<dyn Fn() -> String>,
        status: RwSignal<Status>,
        on_open: Box<dyn Fn()>,
        on_text: Box<dyn Fn(&str)>,
        socket: RefCell<Option<Socket>>,
        failures: Cell<u32>,
        stopped: Cell<bool>,
        /// The window's `offline` and `online` listeners, removed when stopped.
        network: RefCell<Option<NetworkListeners>>,
        /// When the server was last heard from (milliseconds, `Date.now()`).
        last_heard: Cell<f64>,
        heartbeat: RefCell<Option<IntervalHandle>>,
    }

    /// How often the page pings the server, and how long a silent socket is trusted: a server
    /// that vanished without closing (a dead proxy, a suspended laptop) is noticed within
    /// about a minute and the page reconnects.
    const PING_EVERY: Duration = Duration::from_secs(15);
    const SILENCE_LIMIT_MS: f64 = 45_000.0;

    /// A socket does not notice a lost network until a write fails, which can take minutes.
    /// The browser does: going offline closes the socket at once (so the page shows it is
    /// reconnecting, and queues what is written), coming back reconnects at once.
    struct NetworkListeners {
        on_offline: Closure<dyn FnMut()>,
        on_online: Closure<dyn FnMut()>,
    }

    /// A socket and the callbacks it calls, which must live exactly as long as it does.
    struct Socket {
        ws: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    impl Connection {
        /// Connects to `path()` on this page's host (ws:// or wss:// to match the page), calling
        /// `on_open` each time the socket (re)opens and `on_text` for each text frame.
        pub fn open(
            path: impl Fn() -> String + 'static,
            status: RwSignal<Status>,
            on_open: impl Fn() + 'static,
            on_text: impl Fn(&str) + 'static,
        ) -> Option<Self> {
            let location = web_sys::window()?.location();
            let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
            let host = location.host().ok()?;
            let inner = Rc::new(Inner {
                url: Box::new(move || format!("{scheme}://{host}{}", path())),
                status,
                on_open: Box::new(on_open),
                on_text: Box::new(on_text),
                socket: RefCell::new(None),
                failures: Cell::new(0),
                stopped: Cell::new(false),
                network: RefCell::new(None),
                last_heard: Cell::new(js_sys::Date::now()),
                heartbeat: RefCell::new(None),
            });
            listen_to_network(&inner);
            keep_alive(&inner);
            open(&inner);
            Some(Connection(inner))
        }

        pub fn send(&self, frame: &str) -> Result<(), ()> {
            let socket = self.0.socket.borrow();
            match socket.as_ref() {
                Some(socket) if socket.ws.ready_state() == WebSocket::OPEN => {
                    socket.ws.send_with_str(frame).map_err(|_| ())
                }
                _ => Err(()),
            }
        }

        /// Closes the socket and stops reconnecting.
        pub fn stop(&self) {
            self.0.stopped.set(true);
            if let Some(heartbeat) = self.0.heartbeat.borrow_mut().take() {
                heartbeat.clear();
            }
            if let (Some(window), Some(listeners)) = (web_sys::window(), self.0.network.borrow_mut().take()) {
                let _ = window
                    .remove_event_listener_with_callback("offline", listeners.on_offline.as_ref().unchecked_ref());
                let _ =
                    window.remove_event_listener_with_callback("online", listeners.on_online.as_ref().unchecked_ref());
            }
            if let Ok(socket) = self.0.socket.try_borrow() {
                if let Some(socket) = socket.as_ref() {
                    let _ = socket.ws.close();
                }
            }
        }
    }

    fn keep_alive(inner: &Rc<Inner>) {
        let weak = Rc::downgrade(inner);
        let handle = set_interval_with_handle(
            move || {
                let Some(inner) = weak.upgrade() else { return };
                let Ok(socket) = inner.socket.try_borrow() else { return };
                let Some(socket) = socket.as_ref().filter(|s| s.ws.ready_state() == WebSocket::OPEN) else { return };
                if js_sys::Date::now() - inner.last_heard.get() > SILENCE_LIMIT_MS {
                    // Closing fires `close`, which reconnects.
                    let _ = socket.ws.close();
                } else {
                    let _ = socket.ws.send_with_str(r#"{"type":"ping"}"#);
                }
            },
            PING_EVERY,
        );
        *inner.heartbeat.borrow_mut() = handle.ok();
    }

    fn listen_to_network(inner: &Rc<Inner>) {
        let Some(window) = web_sys::window() else { return };
        let weak = Rc::downgrade(inner);
        let on_offline = Closure::<dyn FnMut()>::new({
            let weak = weak.clone();
            move || {
                if let Some(inner) = weak.upgrade() {
                    if let Ok(socket) = inner.socket.try_borrow() {
                        if let Some(socket) = socket.as_ref() {
                            let _ = socket.ws.close();
                        }
                    }
                }
            }
        });
        let on_online = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.failures.set(0);
                open(&inner);
            }
        });
        let _ = window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
        *inner.network.borrow_mut() = Some(NetworkListeners { on_offline, on_online });
    }

    fn open(inner: &Rc<Inner>) {
        if inner.stopped.get() {
            return;
        }
        // One socket at a time: a timer and the `online` event may both ask for one.
        let busy = inner.socket.try_borrow().map_or(true, |socket| {
            socket.as_ref().is_some_and(|s| matches!(s.ws.ready_state(), WebSocket::OPEN | WebSocket::CONNECTING))
        });
        if busy {
            return;
        }
        let ws = match WebSocket::new(&(inner.url)()) {
            Ok(ws) => ws,
            Err(_) => return retry_later(inner),
        };
        let weak = Rc::downgrade(inner);
        let on_open = Closure::<dyn FnMut()>::new({
            let weak = weak.clone();
            move || {
                if let Some(inner) = weak.upgrade() {
                    inner.failures.set(0);
                    inner.last_heard.set(js_sys::Date::now());
                    inner.status.set(Status::Open);
                    (inner.on_open)();
                }
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                if let (Some(inner), Some(text)) = (weak.upgrade(), event.data().as_string()) {
                    inner.last_heard.set(js_sys::Date::now());
                    (inner.on_text)(&text);
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                if !inner.stopped.get() {
                    inner.status.set(Status::Reconnecting);
                    // A socket refused at the upgrade (401) closes as 1006, like a network
                    // failure: after a second failure in a row, ask too.
                    if event.code() == SESSION_ENDED || inner.failures.get() >= 2 {
                        check_session_then_retry(&inner);
                    } else {
                        retry_later(&inner);
                    }
                }
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // Replacing the previous socket drops its callbacks; this runs from a timer or a window
        // event, never from inside one of those callbacks. A socket still closing is told to
        // stay quiet first, so its late `close` neither calls a dropped callback nor reports
        // the new socket as down.
        if let Some(previous) = inner.socket.borrow_mut().take() {
            previous.ws.set_onopen(None);
            previous.ws.set_onmessage(None);
            previous.ws.set_onclose(None);
        }
        *inner.socket.borrow_mut() =
            Some(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close });
    }

    /// The close code the server uses when this person's sessions ended (password changed
    /// elsewhere, signed out everywhere, suspended, account deleted).
    const SESSION_ENDED: u16 = 1008;

    /// After a "session ended" close: if this browser is still signed in (it changed the
    /// password itself), reconnect; if not, there is nothing to reconnect to, so the whole
    /// app reloads on the login page, coming back here afterwards.
    fn check_session_then_retry(inner: &Rc<Inner>) {
        let weak = Rc::downgrade(inner);
        wasm_bindgen_futures::spawn_local(async move {
            let signed_out = matches!(crate::auth::me().await, Ok(None));
            let Some(inner) = weak.upgrade() else { return };
            if signed_out {
                inner.stopped.set(true);
                let here = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
                crate::pages::reload_at(&format!("/login?next={}", crate::url::percent_encode(&here)));
            } else {
                retry_later(&inner);
            }
        });
    }

    /// Exponential backoff from 0.5 s up to 30 s, with jitter so that a restarted server is
    /// not hit by every client in the same millisecond.
    fn retry_later(inner: &Rc<Inner>) {
        let failures = inner.failures.get();
        inner.failures.set(failures.saturating_add(1));
        let base = (500u64 << failures.min(6)).min(30_000);
        let jitter = (js_sys::Math::random() * base as f64 * 0.3) as u64;
        let weak: Weak<Inner> = Rc::downgrade(inner);
        set_timeout(
            move || {
                if let Some(inner) = weak.upgrade() {
                    open(&inner);
                }
            },
            Duration::from_millis(base + jitter),
        );
    }

    pub fn local_clock(created_at: &str) -> String {
        let date = js_sys::Date::new(&JsValue::from_str(created_at));
        if date.get_time().is_nan() {
            return String::new();
        }
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }

    pub fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    /// Whether someone can see the page: its tab is visible and the window has focus.
    pub fn page_is_seen() -> bool {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
        !document.hidden() && document.has_focus().unwrap_or(false)
    }

    /// A fresh name for an outgoing message: 32 random hex digits.
    pub fn new_client_id() -> String {
        (0..4).map(|_| format!("{:08x}", (js_sys::Math::random() * 4_294_967_296.0) as u32)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Author;

    fn message(seq: i64) -> ChatMessage {
        ChatMessage {
            room: "r".into(),
            seq,
            id: seq,
            author: Author { username: "a".into(), display_name: "A".into(), avatar: None },
            body: format!("m{seq}"),
            created_at: String::new(),
            client_id: None,
        }
    }

    #[test]
    fn messages_stay_in_seq_order_without_duplicates() {
        let mut messages = vec![message(1), message(3)];
        insert_in_order(&mut messages, message(4));
        insert_in_order(&mut messages, message(2));
        insert_in_order(&mut messages, message(3));
        let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
    }
}
