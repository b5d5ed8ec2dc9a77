//! Push notifications: a private message or a mention reaches the person's browsers through
//! their push services (Web Push, `webpush`) when they have no tab of the chat open anywhere.
//! With a tab open, the tab shows it (`UserEvent::Notify`), so each message makes one
//! notification per device, never two.
//!
//! The committer hands each message's recipients to one [`Pusher`] task per instance (the
//! instance that stored the message, so several instances push it once). It looks up their
//! subscriptions and posts to the push services, a few at a time, off the message path;
//! a subscription its service says is gone (404, 410) is forgotten.

use std::sync::Arc;

use app::backend::Push;
use app::domain::PushSubscription;
use app::error::AppError;
use app::protocol::Notice;
use async_trait::async_trait;
use http::HeaderMap;
use tokio::sync::{mpsc, Semaphore};

use super::Services;
use crate::auth;
use crate::metrics::Metrics;
use crate::realtime::hub::Hub;
use crate::realtime::redis::RedisBroker;
use crate::store::{PushRow, Store};
use crate::webpush::{Outcome, Sender, Subscription, VapidKey};

/// How many messages' pushes may wait; past that they are dropped (and counted), so a push
/// service that hangs never holds up messages.
const QUEUE: usize = 4096;
/// How many pushes are in flight at once.
const IN_FLIGHT: usize = 32;

/// The way to this instance's push task.
#[derive(Clone)]
pub struct Pusher {
    queue: mpsc::Sender<Delivery>,
    key: Arc<VapidKey>,
    services: Arc<[String]>,
    metrics: Arc<Metrics>,
}

/// What the push task is given to start.
pub struct PushSettings {
    pub key: VapidKey,
    /// The origins it may post to (`PUSH_SERVICES`).
    pub services: Vec<String>,
    /// Who runs this chat (`PUSH_CONTACT`).
    pub contact: String,
}

struct PushTask {
    store: Store,
    hub: Arc<Hub>,
    bus: Option<Arc<RedisBroker>>,
    sender: Sender,
    pusher: Pusher,
}

struct Delivery {
    user_ids: Vec<i64>,
    payload: Vec<u8>,
}

impl Pusher {
    /// Starts the push task; `services` are the origins it may post to (`PUSH_SERVICES`).
    pub fn start(
        store: Store,
        hub: Arc<Hub>,
        bus: Option<Arc<RedisBroker>>,
        metrics: Arc<Metrics>,
        push: PushSettings,
    ) -> Self {
        let key = Arc::new(push.key);
        let (queue, deliveries) = mpsc::channel(QUEUE);
        let pusher = Self { queue, key: key.clone(), services: push.services.into(), metrics };
        let task = PushTask { store, hub, bus, sender: Sender::new(key, push.contact), pusher: pusher.clone() };
        tokio::spawn(task.run(deliveries));
        pusher
    }

    pub fn public_key(&self) -> &str {
        self.key.public_key()
    }

    /// Whether `endpoint` belongs to one of the push services this chat posts to.
    pub fn allows(&self, endpoint: &reqwest::Url) -> bool {
        self.services.iter().any(|service| matches_service(service, endpoint))
    }

    /// Pushes `notice` to the browsers of those of `user_ids` who have no tab open when it
    /// goes (each person once, on every browser they turned pushes on in).
    pub fn notify(&self, user_ids: Vec<i64>, notice: &Notice) {
        if user_ids.is_empty() {
            return;
        }
        let payload = serde_json::to_vec(notice).expect("a notice is plain JSON");
        if self.queue.try_send(Delivery { user_ids, payload }).is_err() {
            self.metrics.pushed("dropped");
            tracing::warn!("the push queue is full; a notification was not pushed");
        }
    }
}

impl PushTask {
    async fn run(self, mut deliveries: mpsc::Receiver<Delivery>) {
        let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
        while let Some(Delivery { user_ids, payload }) = deliveries.recv().await {
            let mut away = Vec::with_capacity(user_ids.len());
            for id in user_ids {
                if !self.has_a_tab_open(id).await {
                    away.push(id);
                }
            }
            if away.is_empty() {
                continue;
            }
            let rows = match self.store.push_subscriptions_of(&away).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!(%error, "could not look up push subscriptions");
                    continue;
                }
            };
            let payload: Arc<[u8]> = payload.into();
            for row in rows {
                let Some(subscription) = usable(&row, &self.pusher) else { continue };
                let permit = in_flight.clone().acquire_owned().await.expect("the semaphore is never closed");
                let (store, sender, payload) = (self.store.clone(), self.sender.clone(), payload.clone());
                let metrics = self.pusher.metrics.clone();
                tokio::spawn(async move {
                    let outcome = sender.send(&subscription, &payload).await;
                    drop(permit);
                    record(&store, &metrics, &subscription, outcome).await;
                });
            }
        }
    }

    /// Whether the person has the app open here, or (asked of Redis now, with several
    /// instances) on another instance: then that tab shows the notification.
    async fn has_a_tab_open(&self, user_id: i64) -> bool {
        if self.hub.is_connected_here(user_id) {
            return true;
        }
        match &self.bus {
            Some(bus) => bus.online_elsewhere_now(user_id).await,
            None => false,
        }
    }
}

async fn record(store: &Store, metrics: &Metrics, subscription: &Subscription, outcome: Outcome) {
    match outcome {
        Outcome::Accepted => metrics.pushed("accepted"),
        Outcome::Gone => {
            metrics.pushed("gone");
            if let Err(error) = store.forget_push_endpoint(subscription.endpoint.as_str()).await {
                tracing::warn!(%error, "could not forget a push subscription");
            }
        }
        Outcome::Failed(reason) => {
            metrics.pushed("failed");
            tracing::warn!(service = subscription.endpoint.host_str().unwrap_or(""), %reason, "a push was not taken");
        }
    }
}

/// A stored subscription, decoded, if it still points at an allowed push service.
fn usable(row: &PushRow, pusher: &Pusher) -> Option<Subscription> {
    match Subscription::parse(&row.endpoint, &row.p256dh, &row.auth) {
        Ok(subscription) if pusher.allows(&subscription.endpoint) => Some(subscription),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, "a stored push subscription cannot be read");
            None
        }
    }
}

/// `service` is an origin (`https://fcm.googleapis.com`, `http://127.0.0.1:4000`), its host
/// maybe `*.`-prefixed for any subdomain.
fn matches_service(service: &str, endpoint: &reqwest::Url) -> bool {
    let Some((scheme, authority)) = service.split_once("://") else { return false };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let port = port.or(match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    });
    let Some(endpoint_host) = endpoint.host_str() else { return false };
    let endpoint_host = endpoint_host.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let host_matches = match host.strip_prefix("*.") {
        Some(domain) => endpoint_host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
        None => endpoint_host == host,
    };
    endpoint.scheme() == scheme && host_matches && endpoint.port_or_known_default() == port
}

impl Services {
    /// The session `headers` carry (its token's hash) and whose it is.
    async fn session(&self, headers: &HeaderMap) -> Result<(Vec<u8>, crate::store::User), AppError> {
        let session = auth::token_hash(&auth::session_token(headers).ok_or(AppError::Unauthorized)?);
        let user = self.store.session_user(&session).await?.ok_or(AppError::Unauthorized)?;
        Ok((session, user))
    }
}

#[async_trait]
impl Push for Services {
    fn push_key(&self) -> String {
        self.push.public_key().to_owned()
    }

    async fn save_push_subscription(
        &self,
        headers: &HeaderMap,
        subscription: PushSubscription,
    ) -> Result<(), AppError> {
        let (session, user) = self.session(headers).await?;
        let parsed = Subscription::parse(subscription.endpoint_url(), subscription.p256dh(), subscription.auth())
            .map_err(|error| AppError::Invalid(format!("{error}: turn push notifications off and on again")))?;
        if !self.push.allows(&parsed.endpoint) {
            let host = parsed.endpoint.host_str().unwrap_or_default();
            return Err(AppError::NotAllowed(format!(
                "this chat does not send to the push service of this browser ({host}); its admin can add it to PUSH_SERVICES"
            )));
        }
        self.store
            .save_push_subscription(
                user.id,
                &session,
                parsed.endpoint.as_str(),
                subscription.p256dh(),
                subscription.auth(),
            )
            .await?;
        Ok(())
    }

    async fn drop_push_subscription(&self, headers: &HeaderMap, endpoint: &str) -> Result<(), AppError> {
        let (_, user) = self.session(headers).await?;
        self.store.drop_push_subscription(user.id, endpoint).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::matches_service;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    #[test]
    fn only_the_listed_push_services_are_posted_to() {
        assert!(matches_service("https://fcm.googleapis.com", &url("https://fcm.googleapis.com/fcm/send/x")));
        assert!(matches_service("https://*.push.apple.com", &url("https://web.push.apple.com/QG")));
        assert!(matches_service("http://127.0.0.1:4000", &url("http://127.0.0.1:4000/push/1")));
        assert!(!matches_service("https://*.push.apple.com", &url("https://push.apple.com/QG")));
        assert!(!matches_service("https://*.push.apple.com", &url("https://evilpush.apple.com.example/QG")));
        assert!(!matches_service("https://fcm.googleapis.com", &url("http://fcm.googleapis.com/fcm/send/x")));
        assert!(!matches_service("https://fcm.googleapis.com", &url("https://fcm.googleapis.com:8443/x")));
        assert!(!matches_service("https://fcm.googleapis.com", &url("https://fcm.googleapis.com.attacker.net/x")));
        assert!(!matches_service("http://127.0.0.1:4000", &url("http://127.0.0.1:6379/")));
        assert!(!matches_service("http://[::1]:4000", &url("http://[::1]:4001/")));
        assert!(matches_service("http://[::1]:4000", &url("http://[::1]:4000/x")));
    }
}
