//! Push notifications for this browser: the server's key to subscribe with, and the browser's
//! subscription handed to the server or taken back. The service worker posts a renewed
//! subscription to `/api/push_subscribe` by itself.

use leptos::prelude::*;

use crate::error::AppError;

/// The key a browser subscribes with (`applicationServerKey`, base64url).
#[server(endpoint = "push_key")]
pub async fn push_key() -> Result<String, AppError> {
    use crate::api::request::*;
    require_user().await?;
    Ok(backend()?.push_key())
}

/// Starts pushes to this browser: `subscription` is `PushSubscription.toJSON()` as JSON.
#[server(endpoint = "push_subscribe")]
pub async fn push_subscribe(subscription: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::PushSubscription;

    let subscription = PushSubscription::parse(&subscription).map_err(AppError::Invalid)?;
    backend()?.save_push_subscription(&request_headers(), subscription).await
}

/// Stops pushes to this browser's `endpoint`.
#[server(endpoint = "push_unsubscribe")]
pub async fn push_unsubscribe(endpoint: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::PushSubscription;

    let endpoint = PushSubscription::endpoint(endpoint.trim()).map_err(AppError::Invalid)?;
    backend()?.drop_push_subscription(&request_headers(), endpoint).await
}
