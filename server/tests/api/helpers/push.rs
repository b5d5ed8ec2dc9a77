//! A push service of the test's own (what Firebase or Mozilla run for browsers), and browsers'
//! keys: it takes what the chat posts, and a `Device` decrypts it as a browser would
//! (RFC 8291 and RFC 8188, written here from the RFCs, apart from the server's code) and
//! checks its VAPID signature (RFC 8292).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// One push as the push service received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub device: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Devices whose subscription has expired: the service answers 410.
    gone: Mutex<HashSet<String>>,
}

pub struct PushService {
    pub origin: String,
    shared: Arc<Shared>,
}

async fn take(
    State(shared): State<Arc<Shared>>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let gone = shared.gone.lock().unwrap().contains(&device);
    shared.received.lock().unwrap().push(Received { device, headers, body: body.to_vec() });
    if gone {
        StatusCode::GONE
    } else {
        StatusCode::CREATED
    }
}

impl PushService {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let router = axum::Router::new().route("/push/{device}", axum::routing::post(take)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { origin, shared }
    }

    pub fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.origin)
    }

    /// From now on, pushes to `device` are answered 410 Gone.
    pub fn expire(&self, device: &str) {
        self.shared.gone.lock().unwrap().insert(device.to_owned());
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `count` pushes in all have arrived, then a moment more for any
    /// that should not; gives them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.received().len() < count {
            assert!(tokio::time::Instant::now() < deadline, "{count} pushes expected, {} came", self.received().len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.received()
    }
}

/// A browser's push keys.
pub struct Device {
    pub name: String,
    secret: SecretKey,
    auth: [u8; 16],
}

impl Device {
    pub fn new(name: &str) -> Self {
        Self { name: name.to_owned(), secret: SecretKey::random(&mut rand::rngs::OsRng), auth: rand::random() }
    }

    /// What `PushSubscription.toJSON()` gives for this device on `service`.
    pub fn subscription(&self, service: &PushService) -> String {
        serde_json::json!({
            "endpoint": service.endpoint(&self.name),
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            },
        })
        .to_string()
    }

    /// Decrypts a push as the browser does; panics if it is not for this device.
    pub fn decrypt(&self, body: &[u8]) -> serde_json::Value {
        let (salt, rest) = body.split_at(16);
        let record_size = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let key_length = rest[4] as usize;
        let (sender_key, sealed) = rest[5..].split_at(key_length);
        assert!(sealed.len() <= record_size, "one record");
        let sender = PublicKey::from_sec1_bytes(sender_key).expect("the sender's key is a P-256 point");
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(self.secret.public_key().to_encoded_point(false).as_bytes());
        info.extend_from_slice(sender_key);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut key).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .decrypt(Nonce::from_slice(&nonce), sealed)
            .expect("the push decrypts with this device's keys");
        // Padding (zeros), after the last record's delimiter (2).
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last record ends with 2");
        serde_json::from_slice(&plain).expect("the payload is JSON")
    }
}

/// Checks a push's headers as a push service does: the content coding, a TTL, and a VAPID
/// JWT for this service's origin signed by `key` (the one browsers subscribed with).
pub fn assert_signed(push: &Received, service: &PushService, key: &str, contact: &str) {
    let header = |name: &str| push.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("content-encoding").as_deref(), Some("aes128gcm"));
    assert!(header("ttl").unwrap().parse::<u64>().unwrap() > 0);
    let authorization = header("authorization").expect("a VAPID authorization");
    let (token, k) = authorization.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
    assert_eq!(k, key, "signed with the key browsers subscribe with");
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    verifying.verify(signed.as_bytes(), &signature).expect("the JWT's signature holds");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(signed.split_once('.').unwrap().1).unwrap()).unwrap();
    assert_eq!(claims["aud"], service.origin.as_str());
    assert_eq!(claims["sub"], contact);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expires = claims["exp"].as_u64().unwrap();
    assert!(expires > now && expires <= now + 24 * 60 * 60, "expires within a day");
}
