//! A WebSocket that reopens itself: exponential backoff with jitter, a heartbeat that notices
//! a server gone silent, the browser's `offline`/`online` events, and a question to its owner
//! when the server ends the session. It knows nothing of the app: where to connect, what to
//! ping with and what to do with frames are its owner's.

#[cfg(feature = "hydrate")]
pub use browser::*;

/// How a connection is doing, for the page to show.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Open,
    Reconnecting,
}

/// On the server nothing connects: there is never a connection to hold.
#[cfg(not(feature = "hydrate"))]
pub enum Connection {}

#[cfg(not(feature = "hydrate"))]
impl Connection {
    pub fn send(&self, _frame: &str) -> Result<(), ()> {
        match *self {}
    }

    pub fn stop(&self) {
        match *self {}
    }
}

/// Where a page keeps its connection: in the browser it holds JS handles, which live on the
/// one thread there is; on the server a page may be dropped on another thread than the one
/// that rendered it, so nothing there may be thread-local.
#[cfg(feature = "hydrate")]
pub type Storage = leptos::prelude::LocalStorage;
#[cfg(not(feature = "hydrate"))]
pub type Storage = leptos::prelude::SyncStorage;

#[cfg(feature = "hydrate")]
mod browser {

    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::{Rc, Weak};
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::Status;

    /// A socket that reopens itself until stopped.
    pub struct Connection(Rc<Inner>);

    /// What a connection tells its owner, and the one frame it sends by itself.
    pub struct Handlers {
        /// Sent every [`PING_EVERY`]; the server answers, so a silent socket is known to be dead.
        pub ping: String,
        /// Each time the socket (re)opens.
        pub on_open: Box<dyn Fn()>,
        /// Each text frame.
        pub on_text: Box<dyn Fn(&str)>,
        /// After the server ended the session (or the upgrade kept failing): whether to go on
        /// reconnecting.
        pub still_welcome: Box<dyn Fn() -> Pin<Box<dyn Future<Output = bool>>>>,
    }

    struct Inner {
        /// Where to connect, worked out again for every attempt.
        url: Box<dyn Fn() -> String>,
        status: RwSignal<Status>,
        handlers: Handlers,
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
        /// Connects to `path()` on this page's host (ws:// or wss:// to match the page), telling
        /// `handlers` what happens.
        pub fn open(path: impl Fn() -> String + 'static, status: RwSignal<Status>, handlers: Handlers) -> Option<Self> {
            let location = web_sys::window()?.location();
            let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
            let host = location.host().ok()?;
            let inner = Rc::new(Inner {
                url: Box::new(move || format!("{scheme}://{host}{}", path())),
                status,
                handlers,
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
                    let _ = socket.ws.send_with_str(&inner.handlers.ping);
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
                    (inner.handlers.on_open)();
                }
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                if let (Some(inner), Some(text)) = (weak.upgrade(), event.data().as_string()) {
                    inner.last_heard.set(js_sys::Date::now());
                    (inner.handlers.on_text)(&text);
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                if !inner.stopped.get() {
                    inner.status.set(Status::Reconnecting);
                    // A socket refused at the upgrade (401) closes as 1006, like a network
                    // failure: after a second failure in a row, ask too.
                    if event.code() == RESTARTING {
                        // The server is stopping and said so: come back at once (to it
                        // restarted, or another instance), then back off as usual.
                        inner.failures.set(0);
                        retry_soon(&inner);
                    } else if event.code() == SESSION_ENDED || inner.failures.get() >= 2 {
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

    /// The close code of a server that is stopping (to restart, or for another instance to
    /// take over); it has answered everything it read first.
    const RESTARTING: u16 = 1012;

    /// After a "session ended" close: ask whether to keep trying (the person may still be signed
    /// in, having changed the password themselves); if not, stop.
    fn check_session_then_retry(inner: &Rc<Inner>) {
        let weak = Rc::downgrade(inner);
        let still_welcome = (inner.handlers.still_welcome)();
        wasm_bindgen_futures::spawn_local(async move {
            let welcome = still_welcome.await;
            let Some(inner) = weak.upgrade() else { return };
            if welcome {
                retry_later(&inner);
            } else {
                inner.stopped.set(true);
            }
        });
    }

    /// Reopens within a quarter of a second (jittered: every client of a restarted server
    /// comes back, not all in the same millisecond).
    fn retry_soon(inner: &Rc<Inner>) {
        reopen_after(inner, (js_sys::Math::random() * 250.0) as u64);
    }

    /// Exponential backoff from 0.5 s up to 30 s, with jitter so that a restarted server is
    /// not hit by every client in the same millisecond.
    fn retry_later(inner: &Rc<Inner>) {
        let failures = inner.failures.get();
        inner.failures.set(failures.saturating_add(1));
        let base = (500u64 << failures.min(6)).min(30_000);
        let jitter = (js_sys::Math::random() * base as f64 * 0.3) as u64;
        reopen_after(inner, base + jitter);
    }

    fn reopen_after(inner: &Rc<Inner>, millis: u64) {
        let weak: Weak<Inner> = Rc::downgrade(inner);
        set_timeout(
            move || {
                if let Some(inner) = weak.upgrade() {
                    open(&inner);
                }
            },
            Duration::from_millis(millis),
        );
    }
}
