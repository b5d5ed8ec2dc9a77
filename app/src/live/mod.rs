//! The browser side: what runs once a page has hydrated, and stays inert on the server (where
//! a page renders once and nothing connects). `transport` is a reconnecting WebSocket that
//! knows nothing of the app; `room` holds a room page's live state and folds its socket's
//! events into it; `person` does the same for the signed-in person's own socket (sidebar,
//! badges, presence, notifications); `notify` shows notifications, `push` turns on push notifications (shown by the service
//! worker when no tab is open).
//!
//! Imports run one way: pages and components use these; these use `model`, `protocol`, `url`,
//! `session` and the server functions, never a page or a component.

pub mod notify;
pub mod person;
pub mod push;
pub mod room;
mod transport;

pub use transport::Status;

/// Whether someone can see the page: its tab is visible and the window has focus (never on
/// the server).
pub fn page_is_seen() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
        !document.hidden() && document.has_focus().unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Milliseconds since the epoch (`0` on the server, where no time passes for a page).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    0.0
}

/// Whether the browser says it is online (always on the server).
pub fn browser_online() -> bool {
    #[cfg(feature = "hydrate")]
    return web_sys::window().is_none_or(|w| w.navigator().on_line());
    #[cfg(not(feature = "hydrate"))]
    true
}

/// Points the tab's icon at the one with a badge of `unread` (none at 0).
pub fn show_unread_in_icon(unread: u32) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(link)) = leptos::prelude::document().query_selector("link[rel=icon]") {
        let href = if unread == 0 { "/favicon.svg".to_owned() } else { format!("/favicon/{unread}.svg") };
        let _ = link.set_attribute("href", &href);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = unread;
}

/// The time now, in milliseconds since the epoch, on the server as in the browser (for "Today"
/// and "Yesterday").
pub fn wall_clock_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now() as i64;
    #[cfg(not(feature = "hydrate"))]
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How many minutes east of UTC the browser's clock is at `utc_ms` (daylight saving time
/// included); `0` on the server, which renders in UTC.
pub fn utc_offset_minutes(utc_ms: i64) -> i64 {
    #[cfg(feature = "hydrate")]
    return -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(utc_ms as f64)).get_timezone_offset() as i64);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = utc_ms;
        0
    }
}

/// `HH:MM` of an RFC 3339 timestamp: in the browser's time zone, and in UTC on the server
/// (hydration then shows local time).
pub fn local_clock(created_at: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(created_at));
        if date.get_time().is_nan() {
            return String::new();
        }
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }
    #[cfg(not(feature = "hydrate"))]
    created_at.get(11..16).unwrap_or_default().to_owned()
}

/// A fresh name for an outgoing message: 32 random hex digits (empty on the server, which
/// never sends one).
pub(crate) fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    return (0..4).map(|_| format!("{:08x}", (js_sys::Math::random() * 4_294_967_296.0) as u32)).collect();
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Loads `path` as a whole new page rather than a client-side navigation, so everything that
/// shows who is signed in starts over (after the session ended).
pub fn reload_at(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// What a socket asks after the server ended the session: whether this browser is still
/// signed in (it changed the password itself) and should reconnect. If not, there is nothing
/// to reconnect to: the app reloads on the login page, coming back here afterwards.
#[cfg(feature = "hydrate")]
fn still_signed_in() -> std::pin::Pin<Box<dyn std::future::Future<Output = bool>>> {
    Box::pin(async {
        let signed_out = matches!(crate::api::accounts::me().await, Ok(None));
        if signed_out {
            let here = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
            reload_at(&crate::url::login_then(&here));
        }
        !signed_out
    })
}
