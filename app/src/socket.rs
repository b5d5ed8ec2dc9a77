//! The room socket in the browser: one connection per room page, exposed as reactive signals
//! (messages, online count, connection status) that the page reads. It reconnects by itself
//! with exponential backoff. On the server (SSR) nothing connects; the signals hold the
//! server-rendered state.

use leptos::prelude::*;

use crate::model::RoomPage;
use crate::protocol::{ChatMessage, ClientFrame, ServerEvent};

// Without `hydrate` nothing connects, so parts of this are only used in the browser.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Open,
    Reconnecting,
}

/// The live state of one room page.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy)]
pub struct RoomLive {
    room: StoredValue<String>,
    pub messages: RwSignal<Vec<ChatMessage>>,
    pub online: RwSignal<u32>,
    pub status: RwSignal<Status>,
    /// The last problem to show under the message box.
    pub error: RwSignal<Option<String>>,
    connection: StoredValue<Option<browser::Connection>, LocalStorage>,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl RoomLive {
    pub fn new(page: &RoomPage) -> Self {
        Self {
            room: StoredValue::new(page.name.clone()),
            messages: RwSignal::new(page.messages.clone()),
            online: RwSignal::new(page.online),
            status: RwSignal::new(Status::Connecting),
            error: RwSignal::new(None),
            connection: StoredValue::new_local(None),
        }
    }

    /// Folds one server event into the page state. Messages are kept in `seq` order and a
    /// message already shown (same `seq`) is not shown twice.
    pub fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Message(message) => {
                if self.room.with_value(|room| *room != message.room) {
                    return;
                }
                self.messages.update(|messages| insert_in_order(messages, message));
            }
            ServerEvent::OnlineCount { room, count } => {
                if self.room.with_value(|current| *current == room) {
                    self.online.set(count);
                }
            }
            ServerEvent::Error { message, .. } => self.error.set(Some(message)),
        }
    }

    /// Sends a message; fails (keeping the text in the box) while disconnected.
    pub fn send(&self, body: &crate::domain::MessageBody) -> Result<(), String> {
        let frame = serde_json::to_string(&ClientFrame { body: body.as_str().to_owned() })
            .map_err(|_| "could not prepare the message".to_owned())?;
        self.connection
            .with_value(|connection| connection.as_ref().map(|c| c.send(&frame)))
            .unwrap_or(Err(()))
            .map_err(|()| "not connected: reconnecting, try again in a moment".to_owned())
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

/// Opens the room socket for this page and closes it when the page goes away.
pub fn connect(live: RoomLive, room: String) {
    browser::connect(live, room);
}

/// `HH:MM` of an RFC 3339 timestamp in the browser's time zone.
pub fn local_clock(created_at: &str) -> String {
    browser::local_clock(created_at)
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::RoomLive;

    pub struct Connection;

    impl Connection {
        pub fn send(&self, _frame: &str) -> Result<(), ()> {
            Err(())
        }
    }

    pub fn connect(_live: RoomLive, _room: String) {}

    pub fn local_clock(created_at: &str) -> String {
        created_at.get(11..16).unwrap_or_default().to_owned()
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

    use super::{RoomLive, Status};
    use crate::protocol::ServerEvent;

    /// Handle kept by the page; dropping the page stops reconnecting and closes the socket.
    pub struct Connection(Rc<Inner>);

    struct Inner {
        url: String,
        live: RoomLive,
        socket: RefCell<Option<Socket>>,
        failures: Cell<u32>,
        stopped: Cell<bool>,
    }

    /// A socket and the callbacks it calls, which must live exactly as long as it does.
    struct Socket {
        ws: WebSocket,
        _on_open: Closure<dyn FnMut()>,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    impl Connection {
        pub fn send(&self, frame: &str) -> Result<(), ()> {
            let socket = self.0.socket.borrow();
            match socket.as_ref() {
                Some(socket) if socket.ws.ready_state() == WebSocket::OPEN => {
                    socket.ws.send_with_str(frame).map_err(|_| ())
                }
                _ => Err(()),
            }
        }
    }

    pub fn connect(live: RoomLive, room: String) {
        let Some(location) = web_sys::window().map(|w| w.location()) else { return };
        let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let inner = Rc::new(Inner {
            url: format!("{scheme}://{host}/ws/chatroom/{room}/"),
            live,
            socket: RefCell::new(None),
            failures: Cell::new(0),
            stopped: Cell::new(false),
        });
        open(&inner);
        live.connection.set_value(Some(Connection(inner)));
        on_cleanup(move || {
            if let Some(Some(Connection(inner))) = live.connection.try_update_value(|c| c.take()) {
                inner.stopped.set(true);
                if let Some(socket) = inner.socket.borrow().as_ref() {
                    let _ = socket.ws.close();
                }
            }
        });
    }

    fn open(inner: &Rc<Inner>) {
        if inner.stopped.get() {
            return;
        }
        let ws = match WebSocket::new(&inner.url) {
            Ok(ws) => ws,
            Err(_) => return retry_later(inner),
        };
        let weak = Rc::downgrade(inner);
        let on_open = Closure::<dyn FnMut()>::new({
            let weak = weak.clone();
            move || {
                if let Some(inner) = weak.upgrade() {
                    inner.failures.set(0);
                    inner.live.status.set(Status::Open);
                    inner.live.error.set(None);
                }
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                let (Some(inner), Some(text)) = (weak.upgrade(), event.data().as_string()) else { return };
                match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(event) => inner.live.apply(event),
                    Err(error) => leptos::logging::warn!("ignoring an event this page does not understand: {error}"),
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_event: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                if !inner.stopped.get() {
                    inner.live.status.set(Status::Reconnecting);
                    retry_later(&inner);
                }
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // Replacing the previous socket drops its callbacks; this runs from a timer, never
        // from inside one of those callbacks.
        *inner.socket.borrow_mut() = Some(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close });
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
            author: Author { username: "a".into(), display_name: "A".into() },
            body: format!("m{seq}"),
            created_at: String::new(),
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
