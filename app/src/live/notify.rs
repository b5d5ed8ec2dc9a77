//! Browser notifications and the notification sound. Whether to use them is each browser's
//! own choice (the permission is per browser anyway), kept in its local storage and set on the
//! settings page. The server sends `notify` events for private-chat messages and mentions; a
//! page shows one only when it is not in view. Nothing happens on the server.

/// What the settings page shows about notifications in this browser.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Turned on here, and the browser allows them.
    On,
    /// Turned off here (or never turned on).
    Off,
    /// The browser (or the person, in its settings) refused them.
    Blocked,
    /// This browser has no notifications.
    Unsupported,
}

pub use imp::*;

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::State;

    pub fn state() -> State {
        State::Off
    }
    pub async fn turn_on() -> State {
        State::Off
    }
    pub fn turn_off() {}
    pub fn sound_on() -> bool {
        false
    }
    pub fn set_sound(_on: bool) {}
    #[allow(dead_code)]
    pub fn show(_notice: &crate::protocol::Notice) {}
}

#[cfg(feature = "hydrate")]
mod imp {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Notification, NotificationOptions, NotificationPermission};

    use super::State;
    use crate::live::page_is_seen;

    const NOTIFY_KEY: &str = "chat.notifications";
    const SOUND_KEY: &str = "chat.sound";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    fn setting(key: &str) -> bool {
        storage().and_then(|s| s.get_item(key).ok().flatten()).as_deref() == Some("on")
    }

    fn set_setting(key: &str, on: bool) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(key, if on { "on" } else { "off" });
        }
    }

    fn supported() -> bool {
        web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false))
    }

    pub fn state() -> State {
        if !supported() {
            return State::Unsupported;
        }
        match Notification::permission() {
            NotificationPermission::Denied => State::Blocked,
            NotificationPermission::Granted if setting(NOTIFY_KEY) => State::On,
            _ => State::Off,
        }
    }

    /// Asks the browser (once it has been asked, it answers by itself) and turns them on if
    /// it agrees.
    pub async fn turn_on() -> State {
        if !supported() {
            return State::Unsupported;
        }
        if let Ok(promise) = Notification::request_permission() {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        if Notification::permission() == NotificationPermission::Granted {
            set_setting(NOTIFY_KEY, true);
        }
        state()
    }

    pub fn turn_off() {
        set_setting(NOTIFY_KEY, false);
    }

    pub fn sound_on() -> bool {
        setting(SOUND_KEY)
    }

    pub fn set_sound(on: bool) {
        set_setting(SOUND_KEY, on);
    }

    /// Shows a notification (and plays the sound, if chosen) unless the page is in view.
    /// Clicking it brings the tab forward at the room.
    pub fn show(notice: &crate::protocol::Notice) {
        if page_is_seen() {
            return;
        }
        if state() == State::On {
            let options = NotificationOptions::new();
            options.set_body(&notice.body);
            options.set_tag(&notice.tag);
            if let Ok(notification) = Notification::new_with_options(&notice.title, &options) {
                let url = notice.url.clone();
                let on_click = Closure::<dyn FnMut()>::new(move || {
                    if let Some(window) = web_sys::window() {
                        let _ = window.focus();
                        let _ = window.location().set_href(&url);
                    }
                });
                notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
                // The notification owns its handler for as long as the page lives.
                on_click.forget();
            }
        }
        if sound_on() {
            beep();
        }
    }

    /// A short, soft two-tone chime made on the spot: no sound file to serve.
    fn beep() {
        let Ok(audio) = web_sys::AudioContext::new() else { return };
        let now = audio.current_time();
        for (i, frequency) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let (Ok(oscillator), Ok(gain)) = (audio.create_oscillator(), audio.create_gain()) else { return };
            oscillator.frequency().set_value(frequency);
            let start = now + i as f64 * 0.12;
            gain.gain().set_value(0.0);
            let _ = gain.gain().linear_ramp_to_value_at_time(0.15, start + 0.01);
            let _ = gain.gain().linear_ramp_to_value_at_time(0.0, start + 0.11);
            let _ = oscillator.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&audio.destination());
            let _ = oscillator.start_with_when(start);
            let _ = oscillator.stop_with_when(start + 0.12);
        }
    }
}
