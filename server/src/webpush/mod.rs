//! Web Push as a sender (RFC 8030): the server's VAPID key (RFC 8292, `vapid`), the payload
//! encrypted for one browser (RFC 8291, `encrypt`), and one POST to the push service that
//! browser chose. It knows nothing of the chat: who is told what is `services::push`.

mod encrypt;
mod vapid;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::PublicKey;

pub use encrypt::{encrypt, MAX_PLAINTEXT};
pub use vapid::VapidKey;

/// Where a browser asked to be sent pushes, and the keys to encrypt them for it: what
/// `PushSubscription.toJSON()` gives, decoded.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub endpoint: reqwest::Url,
    /// The browser's P-256 public key (`keys.p256dh`).
    pub p256dh: PublicKey,
    /// The browser's authentication secret (`keys.auth`).
    pub auth: [u8; 16],
}

/// Why a subscription's parts were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSubscription {
    #[error("the endpoint is not an http(s) address")]
    Endpoint,
    #[error("keys.p256dh is not a P-256 public key in base64url")]
    Key,
    #[error("keys.auth is not 16 bytes in base64url")]
    Auth,
}

impl Subscription {
    /// Decodes the parts as browsers send them (base64url, padded or not).
    pub fn parse(endpoint: &str, p256dh: &str, auth: &str) -> Result<Self, BadSubscription> {
        let endpoint = reqwest::Url::parse(endpoint).map_err(|_| BadSubscription::Endpoint)?;
        if !matches!(endpoint.scheme(), "https" | "http") || endpoint.host_str().is_none() {
            return Err(BadSubscription::Endpoint);
        }
        let key = decode(p256dh).ok_or(BadSubscription::Key)?;
        let p256dh = PublicKey::from_sec1_bytes(&key).map_err(|_| BadSubscription::Key)?;
        let auth = decode(auth).and_then(|a| <[u8; 16]>::try_from(a).ok()).ok_or(BadSubscription::Auth)?;
        Ok(Self { endpoint, p256dh, auth })
    }
}

fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).ok()
}

/// base64url without padding, as Web Push writes keys.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the push service said.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Taken for delivery (201, or any 2xx).
    Accepted,
    /// The subscription has expired or was withdrawn (404 or 410): forget it.
    Gone,
    /// Anything else (refused, too large, too many, unreachable): logged, kept.
    Failed(String),
}

/// How long a push service keeps a push for a browser that is offline.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Sends pushes, signed with one VAPID key.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    key: std::sync::Arc<VapidKey>,
    /// Who runs this server, for the push service (the JWT's `sub`: a `mailto:` or `https:`).
    contact: String,
}

impl Sender {
    pub fn new(key: std::sync::Arc<VapidKey>, contact: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with default TLS settings");
        Self { client, key, contact }
    }

    /// Encrypts `payload` for the subscription and posts it, urgent, kept for [`TTL`].
    pub async fn send(&self, subscription: &Subscription, payload: &[u8]) -> Outcome {
        let body = match encrypt(payload, &subscription.p256dh, &subscription.auth) {
            Ok(body) => body,
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        let authorization = self.key.authorization(&subscription.endpoint, &self.contact, now_s());
        let sent = self
            .client
            .post(subscription.endpoint.clone())
            .header("TTL", TTL.as_secs().to_string())
            .header("Urgency", "high")
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Outcome::Accepted,
            Ok(response) if matches!(response.status().as_u16(), 404 | 410) => Outcome::Gone,
            Ok(response) => Outcome::Failed(format!("the push service answered {}", response.status())),
            Err(error) => Outcome::Failed(format!("the push service could not be reached: {error}")),
        }
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
