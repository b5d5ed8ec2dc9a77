//! Several instances, one chat: the Redis broker (`REDIS_URL`).
//!
//! Every envelope an instance's hub delivers is also published on Redis pub/sub, on the
//! channel of what it is about: `<prefix>:room:<id>` (a room's messages and events),
//! `<prefix>:user:<id>` (a person's own events) or `<prefix>:all` (presence, resync). An
//! instance subscribes to a room's channel while it has a socket in that room or a member of it
//! with the app open, and to a person's while they have a socket there, so a busy room served
//! by other instances costs an instance nothing. Redis is a doorbell, not the record: messages live in the database with their `seq`, so an event
//! lost while Redis is away is found again by the sockets themselves (they fill gaps from the
//! database, and re-read everything they might have missed when the bus comes back).
//!
//! Presence is shared through keys that expire: each instance keeps, per open room, the set
//! of people it has there (`<prefix>:room:<id>:<instance>`) and the set of people with the app
//! open (`<prefix>:online:<instance>`), rewriting them every third of `PRESENCE_TTL_SECONDS`.
//! A room's online count is the size of the union of its instances' sets, so an instance that
//! dies (killed, never saying goodbye) stops counting when its keys expire, without anyone
//! having to notice it died.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use rand::RngCore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

mod presence;

use presence::presence_loop;

use super::broker::Broker;
use super::envelope::Envelope;
use super::hub::Hub;

/// What travels on the channel: the envelope and which instance sent it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire<O, E> {
    origin: O,
    envelope: E,
}

/// How many envelopes may wait for Redis. Past that they are dropped (Redis is a doorbell:
/// the sockets find the messages in the database) and the others are told to resync.
const OUTGOING_QUEUE: usize = 16_384;

/// The broker's state, shared by its tasks and `/readyz`.
pub struct RedisBroker {
    client: redis::Client,
    instance: String,
    prefix: String,
    ttl: Duration,
    /// The command connection, once made (it reconnects by itself afterwards).
    commands: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// Whether the subscription is up (the instance hears the others).
    listening: AtomicBool,
    /// When making the command connection last failed.
    failed_at: Mutex<Option<std::time::Instant>>,
    /// Envelopes for the other instances, already serialised, with their channel.
    outgoing: mpsc::Sender<(String, String)>,
    /// Some were dropped because the queue was full: the others must resync.
    dropped: AtomicBool,
    /// Rooms whose local presence changed (recounted across instances).
    presence: mpsc::UnboundedSender<i64>,
    hub: std::sync::Weak<Hub>,
}

impl Broker for RedisBroker {
    fn publish(&self, envelope: &Envelope) {
        let payload =
            serde_json::to_string(&Wire { origin: &self.instance, envelope }).expect("envelopes always serialise");
        if self.outgoing.try_send((self.channel_of(envelope), payload)).is_err() {
            self.dropped.store(true, Ordering::Relaxed);
        }
    }

    fn presence_changed(&self, room_id: i64) {
        let _ = self.presence.send(room_id);
    }
}

impl RedisBroker {
    /// The channel an envelope travels on: the room's or the person's it is about.
    fn channel_of(&self, envelope: &Envelope) -> String {
        match envelope {
            Envelope::Room { room_id, .. }
            | Envelope::Message { room_id, .. }
            | Envelope::Change { room_id, .. }
            | Envelope::About { room_id, .. }
            | Envelope::Close { room_id, .. }
            | Envelope::Count { room_id, .. }
            | Envelope::Recount { room_id } => self.room_channel(*room_id),
            Envelope::User { user_id, .. }
            | Envelope::End { user_id }
            | Envelope::Unread { user_id, .. }
            | Envelope::Left { user_id, .. } => self.user_channel(*user_id),
            Envelope::Presence { .. } | Envelope::Resync => self.everyone_channel(),
        }
    }

    fn room_channel(&self, room_id: i64) -> String {
        format!("{}:room:{room_id}", self.prefix)
    }

    fn user_channel(&self, user_id: i64) -> String {
        format!("{}:user:{user_id}", self.prefix)
    }

    fn everyone_channel(&self) -> String {
        format!("{}:all", self.prefix)
    }

    /// The channels this instance needs now: the rooms and people its hub has.
    fn wanted(&self, hub: &Hub) -> HashSet<String> {
        let (rooms, people) = hub.interest();
        let mut channels: HashSet<String> = rooms.into_iter().map(|id| self.room_channel(id)).collect();
        channels.extend(people.into_iter().map(|id| self.user_channel(id)));
        channels.insert(self.everyone_channel());
        channels
    }

    fn room_key(&self, room_id: i64, instance: &str) -> String {
        format!("{}:room:{room_id}:{instance}", self.prefix)
    }

    fn room_instances(&self, room_id: i64) -> String {
        format!("{}:room:{room_id}:instances", self.prefix)
    }

    fn online_key(&self, instance: &str) -> String {
        format!("{}:online:{instance}", self.prefix)
    }

    fn instances_key(&self) -> String {
        format!("{}:instances", self.prefix)
    }

    /// Whether the subscription is up: this instance hears the others.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// Whether Redis answers now (for `/readyz`).
    pub async fn is_ready(&self) -> bool {
        let Some(mut conn) = self.connection().await else { return false };
        let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        pong.is_ok() && self.listening.load(Ordering::Relaxed)
    }

    /// The command connection, made on first use; `None` while Redis cannot be reached (a
    /// new attempt at most every second).
    async fn connection(&self) -> Option<ConnectionManager> {
        let mut slot = self.commands.lock().await;
        if slot.is_none() {
            let mut failed = self.failed_at.lock().expect("bus lock");
            if failed.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
                return None;
            }
            *failed = None;
        }
        if slot.is_none() {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(2)))
                .set_number_of_retries(1);
            match ConnectionManager::new_with_config(self.client.clone(), config).await {
                Ok(manager) => *slot = Some(manager),
                Err(error) => {
                    tracing::debug!(%error, "Redis cannot be reached");
                    *self.failed_at.lock().expect("bus lock") = Some(std::time::Instant::now());
                    return None;
                }
            }
        }
        slot.clone()
    }
}

/// Connects `hub` to the other instances through Redis at `url` and starts the broker's
/// tasks. Redis may be down at first: the instance serves its own sockets meanwhile and joins
/// when Redis answers.
pub fn start(hub: &Arc<Hub>, url: &str, prefix: &str, ttl: Duration) -> anyhow::Result<Arc<RedisBroker>> {
    let client = redis::Client::open(url)?;
    let mut id = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let (outgoing, outgoing_rx) = mpsc::channel(OUTGOING_QUEUE);
    let (presence, presence_rx) = mpsc::unbounded_channel();
    let broker = Arc::new(RedisBroker {
        client,
        instance: hex::encode(id),
        prefix: prefix.to_owned(),
        ttl,
        commands: tokio::sync::Mutex::new(None),
        listening: AtomicBool::new(false),
        failed_at: Mutex::new(None),
        outgoing,
        dropped: AtomicBool::new(false),
        presence,
        hub: Arc::downgrade(hub),
    });
    hub.set_broker(broker.clone());
    tracing::info!(instance = %broker.instance, "joining the other instances through Redis");
    tokio::spawn(publish(broker.clone(), outgoing_rx));
    tokio::spawn(listen(broker.clone()));
    tokio::spawn(presence_loop(broker.clone(), presence_rx));
    Ok(broker)
}

/// Publishes what this instance's hub hands over, several envelopes per round trip when they
/// queue up. While Redis is away, envelopes are dropped: the sockets elsewhere find the
/// messages in the database when it is back, and the others are told to resync.
async fn publish(bus: Arc<RedisBroker>, mut outgoing: mpsc::Receiver<(String, String)>) {
    let mut batch = Vec::with_capacity(256);
    while outgoing.recv_many(&mut batch, 256).await > 0 {
        if bus.dropped.swap(false, Ordering::Relaxed) {
            tracing::warn!("envelopes for the other instances were dropped (Redis too slow): they resync");
            let resync = serde_json::to_string(&Wire { origin: &bus.instance, envelope: &Envelope::Resync })
                .expect("serialises");
            batch.push((bus.everyone_channel(), resync));
        }
        let sent = match bus.connection().await {
            Some(mut conn) => {
                let mut pipe = redis::pipe();
                for (channel, payload) in batch.drain(..) {
                    pipe.publish(channel, payload).ignore();
                }
                pipe.query_async::<()>(&mut conn).await
            }
            None => Err(redis::RedisError::from((redis::ErrorKind::Io, "Redis cannot be reached"))),
        };
        batch.clear();
        if let Err(error) = sent {
            // What queued up while this attempt failed is stale: drop it, as a doorbell would.
            let mut dropped = 0;
            while outgoing.try_recv().is_ok() {
                dropped += 1;
            }
            tracing::debug!(%error, dropped, "events could not be published");
        }
    }
}

/// Subscribes, and delivers what the other instances publish; resubscribes with backoff
/// after Redis went away, then has every socket re-read what it may have missed.
async fn listen(bus: Arc<RedisBroker>) {
    let mut backoff = Duration::from_millis(250);
    let mut was_connected = false;
    loop {
        match bus.client.get_async_pubsub().await {
            Ok(pubsub) => {
                let (mut sink, mut stream) = pubsub.split();
                let Some(hub) = bus.hub.upgrade() else { return };
                let mut subscribed = HashSet::new();
                if follow(&bus, &hub, &mut sink, &mut subscribed).await.is_ok() {
                    backoff = Duration::from_millis(250);
                    bus.listening.store(true, Ordering::Relaxed);
                    if was_connected {
                        tracing::info!("Redis is back: sockets catch up from the database");
                        hub.resync();
                    }
                    was_connected = true;
                    drop(hub);
                    loop {
                        let Some(hub) = bus.hub.upgrade() else { return };
                        tokio::select! {
                            message = stream.next() => {
                                let Some(message) = message else { break };
                                let Ok(payload) = message.get_payload::<String>() else { continue };
                                match serde_json::from_str::<Wire<String, Envelope>>(&payload) {
                                    Ok(wire) if wire.origin != bus.instance => hub.deliver_remote(wire.envelope),
                                    Ok(_) => {}
                                    Err(error) => tracing::warn!(%error, "an unreadable event on the bus"),
                                }
                            }
                            () = hub.interest_changed() => {
                                // Changes come in bursts (a thousand sockets opening): follow
                                // them once they settle for a moment.
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                if follow(&bus, &hub, &mut sink, &mut subscribed).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    bus.listening.store(false, Ordering::Relaxed);
                    tracing::warn!("lost the Redis subscription; serving this instance's sockets meanwhile");
                }
            }
            Err(error) => tracing::debug!(%error, "Redis cannot be reached"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Subscribes to the channels the hub needs now and unsubscribes from the others. A room
/// followed anew may have had messages published before the subscription took: its sockets
/// here re-read from the database, and its members' counters are recounted.
async fn follow(
    bus: &RedisBroker,
    hub: &Hub,
    sink: &mut redis::aio::PubSubSink,
    subscribed: &mut HashSet<String>,
) -> redis::RedisResult<()> {
    let wanted = bus.wanted(hub);
    let new: Vec<String> = wanted.difference(subscribed).cloned().collect();
    let gone: Vec<String> = subscribed.difference(&wanted).cloned().collect();
    if !new.is_empty() {
        sink.subscribe(&new).await?;
    }
    if !gone.is_empty() {
        sink.unsubscribe(&gone).await?;
    }
    let room_prefix = format!("{}:room:", bus.prefix);
    for channel in &new {
        if let Some(room_id) = channel.strip_prefix(&room_prefix).and_then(|id| id.parse().ok()) {
            hub.resync_room(room_id);
        }
    }
    *subscribed = wanted;
    Ok(())
}
