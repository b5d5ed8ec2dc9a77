//! Push notifications in this browser (Web Push): subscribed through the service worker's
//! push manager with the server's key, and handed to the server, which pushes private
//! messages and mentions to it while no tab of the chat is open. The worker shows them
//! (`/sw.js`). Which person turned them on here is kept in local storage, so that a page
//! load hands the subscription back to the server for them (their earlier session may have
//! ended) and never for someone else signed in later.

pub use super::notify::State;
pub use imp::*;

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::State;

    pub async fn state() -> State {
        State::Off
    }
    pub async fn turn_on(_username: &str) -> Result<State, String> {
        Ok(State::Off)
    }
    pub async fn turn_off() -> Result<State, String> {
        Ok(State::Off)
    }
    pub async fn keep(_username: &str) {}
}

#[cfg(feature = "hydrate")]
mod imp {
    use js_sys::{Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Notification, NotificationPermission, PushManager, PushSubscription, PushSubscriptionOptionsInit};

    use super::State;
    use crate::api::push::{push_key, push_subscribe, push_unsubscribe};

    /// The username of whoever turned pushes on in this browser.
    const OWNER_KEY: &str = "chat.push";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    fn has(target: &JsValue, name: &str) -> bool {
        Reflect::has(target, &JsValue::from_str(name)).unwrap_or(false)
    }

    /// The push manager of the chat's service worker, once it is active; `None` where the
    /// browser has no push (or no service worker: a page not on HTTPS or localhost).
    async fn manager() -> Option<PushManager> {
        let window = web_sys::window()?;
        let navigator = window.navigator();
        if !has(&navigator, "serviceWorker") || !has(&window, "PushManager") || !has(&window, "Notification") {
            return None;
        }
        let ready = navigator.service_worker().ready().ok()?;
        let registration: web_sys::ServiceWorkerRegistration = JsFuture::from(ready).await.ok()?.dyn_into().ok()?;
        registration.push_manager().ok()
    }

    async fn subscription(manager: &PushManager) -> Option<PushSubscription> {
        let found = JsFuture::from(manager.get_subscription().ok()?).await.ok()?;
        found.dyn_into().ok()
    }

    fn to_json(subscription: &PushSubscription) -> Option<String> {
        js_sys::JSON::stringify(subscription).ok()?.as_string()
    }

    /// The key as bytes (it comes in base64url).
    fn key_bytes(key: &str) -> Option<Uint8Array> {
        let mut standard: String = key
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        while !standard.len().is_multiple_of(4) {
            standard.push('=');
        }
        let binary = web_sys::window()?.atob(&standard).ok()?;
        let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
        Some(Uint8Array::from(bytes.as_slice()))
    }

    pub async fn state() -> State {
        let Some(manager) = manager().await else { return State::Unsupported };
        match Notification::permission() {
            NotificationPermission::Denied => State::Blocked,
            NotificationPermission::Granted if subscription(&manager).await.is_some() => State::On,
            _ => State::Off,
        }
    }

    /// Asks the browser's permission, subscribes, and hands the subscription to the server.
    pub async fn turn_on(username: &str) -> Result<State, String> {
        let Some(manager) = manager().await else { return Ok(State::Unsupported) };
        if let Ok(asked) = Notification::request_permission() {
            let _ = JsFuture::from(asked).await;
        }
        if Notification::permission() != NotificationPermission::Granted {
            return Ok(state().await);
        }
        let key = push_key().await.map_err(|error| error.to_string())?;
        let options = PushSubscriptionOptionsInit::new();
        options.set_user_visible_only(true);
        options.set_application_server_key_opt_u8_array(key_bytes(&key).as_ref());
        const UNREACHABLE: &str = "This browser could not reach its push service: check the connection and try again.";
        let subscribing = manager.subscribe_with_options(&options).map_err(|_| UNREACHABLE.to_owned())?;
        let subscription: PushSubscription = JsFuture::from(subscribing)
            .await
            .ok()
            .and_then(|s| s.dyn_into().ok())
            .ok_or_else(|| UNREACHABLE.to_owned())?;
        let json = to_json(&subscription).ok_or_else(|| UNREACHABLE.to_owned())?;
        if let Err(error) = push_subscribe(json).await {
            if let Ok(undone) = subscription.unsubscribe() {
                let _ = JsFuture::from(undone).await;
            }
            return Err(error.to_string());
        }
        if let Some(storage) = storage() {
            let _ = storage.set_item(OWNER_KEY, username);
        }
        Ok(State::On)
    }

    /// Unsubscribes this browser and tells the server.
    pub async fn turn_off() -> Result<State, String> {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(OWNER_KEY);
        }
        if let Some(manager) = manager().await {
            if let Some(subscription) = subscription(&manager).await {
                let endpoint = subscription.endpoint();
                if let Ok(undone) = subscription.unsubscribe() {
                    let _ = JsFuture::from(undone).await;
                }
                push_unsubscribe(endpoint).await.map_err(|error| error.to_string())?;
            }
        }
        Ok(state().await)
    }

    /// Hands this browser's subscription to the server again if `username` made it.
    pub async fn keep(username: &str) {
        let owner = storage().and_then(|s| s.get_item(OWNER_KEY).ok().flatten());
        if owner.as_deref() != Some(username) || Notification::permission() != NotificationPermission::Granted {
            return;
        }
        let Some(manager) = manager().await else { return };
        if let Some(json) = subscription(&manager).await.as_ref().and_then(to_json) {
            let _ = push_subscribe(json).await;
        }
    }
}
