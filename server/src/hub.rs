//! The in-process fan-out hub.
//!
//! Each open room has one `tokio::sync::broadcast` ring of already-encoded frames. An event is
//! serialised once and its bytes (`Utf8Bytes`, reference counted) are shared by every socket in
//! the room: no database query, no serialisation and no copy per recipient. The ring is the
//! bounded outgoing queue: a socket that falls more than [`ROOM_BUFFER`] events behind is
//! told it lagged and is dropped by its own task, so it never slows the others down.
//!
//! Presence is counted per distinct user: a person with two tabs counts once.
//!
//! Besides rooms, each signed-in person with a tab open has a channel of their own, which
//! their `/ws/chat/` sockets (one per tab) subscribe to.
//!
//! With several instances (`REDIS_URL`), the hub also hands every event it delivers to the bus
//! ([`crate::bus`]) as an [`Envelope`], and delivers the envelopes other instances publish to its
//! own sockets; online counts then come from the bus's shared presence instead of this hub's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use app::protocol::{ChatMessage, ServerEvent};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

/// How many events a socket may fall behind before it is dropped.
pub const ROOM_BUFFER: usize = 256;

/// How many events a person's own socket may fall behind before it is dropped.
pub const USER_BUFFER: usize = 64;

#[derive(Default)]
pub struct Hub {
    rooms: Mutex<HashMap<i64, Arc<RoomChannel>>>,
    users: Mutex<HashMap<i64, broadcast::Sender<UserFrame>>>,
    bus: OnceLock<BusLink>,
}

/// How the hub reaches the bus, when there is one.
pub struct BusLink {
    /// Events for the other instances.
    pub outgoing: tokio::sync::mpsc::UnboundedSender<Envelope>,
    /// Rooms whose local presence changed (the bus recounts them across instances).
    pub presence: tokio::sync::mpsc::UnboundedSender<i64>,
    /// People with the app open on any instance, as the bus last read them.
    pub online_elsewhere: Mutex<HashSet<i64>>,
}

/// An event as it travels between instances. Texts are the encoded events, sent as they are.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// An event for a room's sockets.
    Room { room_id: i64, text: String },
    /// A stored message (with its author, so each instance updates its own people's unread
    /// counts).
    Message { room_id: i64, room: String, seq: i64, author_id: Option<i64>, text: String },
    /// An event about `user_id` for the others in the room (typing).
    About { room_id: i64, user_id: i64, text: String },
    /// The room ends for `user_id` (for everyone when `None`).
    Close { room_id: i64, user_id: Option<i64>, text: String },
    /// An event for a person's own sockets.
    User { user_id: i64, text: String },
    /// A person's sessions ended: their sockets close everywhere.
    End { user_id: i64 },
    /// The number of distinct people with a room open, on all instances together.
    Count { room_id: i64, count: u32 },
    /// A person opened the app (their first tab on an instance) or closed it (their last).
    Presence { user_id: i64, online: bool },
    /// A room's messages changed other than by a new one (a deletion): each instance recounts
    /// its own people's unread counts.
    Recount { room_id: i64, room: String },
}

/// What a room channel carries to its sockets.
#[derive(Debug, Clone)]
pub enum Frame {
    /// An encoded event, sent as it is.
    Event(Utf8Bytes),
    /// An encoded `message` event and its `seq`, so that a socket catching up from the
    /// database can skip what it already sent.
    Message { seq: i64, text: Utf8Bytes },
    /// An event about `user_id` that their own sockets do not need (they are typing).
    About { user_id: i64, text: Utf8Bytes },
    /// The room is gone for `user_id` (for everyone when `None`): the matching sockets send
    /// `event` (a `room_closed`) and close.
    Close { user_id: Option<i64>, event: Utf8Bytes },
    /// `user_id`'s sessions ended (password changed, signed out everywhere): their sockets
    /// close, and only a still-valid session can open new ones.
    End { user_id: i64 },
    /// The bus was down and is back: what other instances published meanwhile was lost, so
    /// every socket reads what it missed from the database.
    Resync,
}

/// What a person's own channel carries to their `/ws/chat/` sockets.
#[derive(Debug, Clone)]
pub enum UserFrame {
    Event(Utf8Bytes),
    /// Their sessions ended: the sockets close.
    End,
}

pub struct RoomChannel {
    id: i64,
    name: String,
    /// Where this channel's events also go, with several instances.
    bus: Option<tokio::sync::mpsc::UnboundedSender<Envelope>>,
    sender: broadcast::Sender<Frame>,
    /// Open sockets per user id.
    present: Mutex<HashMap<i64, u32>>,
    /// Held while a message is stored and published, so that this instance publishes a room's
    /// messages in `seq` order.
    pub write_lock: tokio::sync::Mutex<()>,
    /// When each person's last typing signal was passed on.
    typing: Mutex<HashMap<i64, std::time::Instant>>,
    /// The online count across instances, as the bus last gave it.
    shared_count: Mutex<Option<u32>>,
}

/// A socket's place in a room. Dropping it leaves the room (and updates the online count).
pub struct Membership {
    hub: Arc<Hub>,
    room_id: i64,
    user_id: i64,
    pub channel: Arc<RoomChannel>,
    pub events: broadcast::Receiver<Frame>,
}

/// A `/ws/chat/` socket's subscription to its person's channel; dropping it unsubscribes.
pub struct UserSubscription {
    hub: Arc<Hub>,
    user_id: i64,
    pub events: broadcast::Receiver<UserFrame>,
    /// This was the person's first open tab: they came online.
    pub first: bool,
}

/// Encodes an event once, into the bytes every socket is sent.
pub fn encode(event: &ServerEvent) -> Utf8Bytes {
    Utf8Bytes::from(event.to_json())
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Connects the hub to the bus; done once, before anything is served.
    pub fn set_bus(&self, link: BusLink) {
        let _ = self.bus.set(link);
    }

    pub fn has_bus(&self) -> bool {
        self.bus.get().is_some()
    }

    /// Hands an envelope to the other instances (nothing without a bus).
    pub fn send_envelope(&self, envelope: Envelope) {
        if let Some(bus) = self.bus.get() {
            let _ = bus.outgoing.send(envelope);
        }
    }

    pub fn bus_link(&self) -> Option<&BusLink> {
        self.bus.get()
    }

    /// The room's channel, created if nobody has the room open (used to publish).
    pub fn channel(&self, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        let mut rooms = self.rooms.lock().expect("hub lock poisoned");
        self.entry(&mut rooms, room_id, room_name)
    }

    fn entry(&self, rooms: &mut HashMap<i64, Arc<RoomChannel>>, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        rooms
            .entry(room_id)
            .or_insert_with(|| {
                Arc::new(RoomChannel {
                    id: room_id,
                    bus: self.bus.get().map(|bus| bus.outgoing.clone()),
                    name: room_name.to_owned(),
                    sender: broadcast::channel(ROOM_BUFFER).0,
                    present: Mutex::new(HashMap::new()),
                    write_lock: tokio::sync::Mutex::new(()),
                    typing: Mutex::new(HashMap::new()),
                    shared_count: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Joins a socket to a room. The new socket always learns the current online count: by
    /// the broadcast when its arrival changed it, else by the frame returned beside it.
    pub fn join(self: &Arc<Self>, room_id: i64, room_name: &str, user_id: i64) -> (Membership, Option<Utf8Bytes>) {
        // Joining happens under the hub lock, so a room cannot be forgotten by `leave` between
        // being looked up here and being joined.
        let mut rooms = self.rooms.lock().expect("hub lock poisoned");
        let channel = self.entry(&mut rooms, room_id, room_name);
        // Subscribe before counting, so the count broadcast below reaches this socket too.
        let events = channel.sender.subscribe();
        let (changed, count) = {
            let mut present = channel.present.lock().expect("presence lock poisoned");
            let sockets = present.entry(user_id).or_insert(0);
            *sockets += 1;
            (*sockets == 1, present.len() as u32)
        };
        drop(rooms);
        // With several instances the bus counts everyone and tells every socket of the room.
        if let Some(bus) = self.bus.get() {
            let _ = bus.presence.send(room_id);
            return (Membership { hub: self.clone(), room_id, user_id, channel, events }, None);
        }
        let count_event = encode(&ServerEvent::OnlineCount { room: room_name.to_owned(), count });
        let direct = if changed {
            channel.publish(count_event);
            None
        } else {
            Some(count_event)
        };
        (Membership { hub: self.clone(), room_id, user_id, channel, events }, direct)
    }

    /// Subscribes one of a person's `/ws/chat/` sockets to their channel. `first` tells
    /// whether they just came online (no other tab was open).
    pub fn subscribe_user(self: &Arc<Self>, user_id: i64) -> UserSubscription {
        let mut users = self.users.lock().expect("hub lock poisoned");
        let first = !users.contains_key(&user_id);
        let events = users.entry(user_id).or_insert_with(|| broadcast::channel(USER_BUFFER).0).subscribe();
        UserSubscription { hub: self.clone(), user_id, events, first }
    }

    /// Sends an event to every open tab of a person (nothing when they have none open), on
    /// every instance.
    pub fn notify_user(&self, user_id: i64, frame: Utf8Bytes) {
        self.send_envelope(Envelope::User { user_id, text: frame.as_str().to_owned() });
        self.notify_user_here(user_id, frame);
    }

    /// Sends an event to a person's tabs on this instance only (each instance works out the
    /// same event for its own people).
    pub fn notify_user_here(&self, user_id: i64, frame: Utf8Bytes) {
        if let Some(sender) = self.users.lock().expect("hub lock poisoned").get(&user_id) {
            let _ = sender.send(UserFrame::Event(frame));
        }
    }

    /// Closes every socket of a person, in every room and tab: their sessions ended. Those
    /// whose session is still valid (the tab that changed the password) reconnect by themselves.
    pub fn end_sockets_of(&self, user_id: i64) {
        self.send_envelope(Envelope::End { user_id });
        self.end_sockets_here(user_id);
    }

    fn end_sockets_here(&self, user_id: i64) {
        let rooms: Vec<Arc<RoomChannel>> = self.rooms.lock().expect("hub lock poisoned").values().cloned().collect();
        for channel in rooms {
            let _ = channel.sender.send(Frame::End { user_id });
        }
        if let Some(sender) = self.users.lock().expect("hub lock poisoned").get(&user_id) {
            let _ = sender.send(UserFrame::End);
        }
    }

    /// Whether a person has the app open (a `/ws/chat/` socket) anywhere: here, or (with
    /// several instances) on another instance as the bus last read it.
    pub fn is_online(&self, user_id: i64) -> bool {
        self.users.lock().expect("hub lock poisoned").contains_key(&user_id) || self.online_elsewhere(user_id)
    }

    /// Whether a person has the app open on this instance.
    pub fn is_connected_here(&self, user_id: i64) -> bool {
        self.users.lock().expect("hub lock poisoned").contains_key(&user_id)
    }

    /// Whether a person has the app open on another instance, as the bus last read it.
    pub fn online_elsewhere(&self, user_id: i64) -> bool {
        self.bus.get().is_some_and(|bus| bus.online_elsewhere.lock().expect("bus lock").contains(&user_id))
    }

    /// The people with at least one `/ws/chat/` socket open (a tab of the app) here.
    pub fn connected_users(&self) -> Vec<i64> {
        self.users.lock().expect("hub lock poisoned").keys().copied().collect()
    }

    /// Sends an event to the room's sockets, if anyone has it open (creating no channel).
    pub fn publish(&self, room_id: i64, frame: Utf8Bytes) {
        self.send_envelope(Envelope::Room { room_id, text: frame.as_str().to_owned() });
        self.deliver_here(room_id, Frame::Event(frame));
    }

    /// Hands a frame to this instance's sockets of a room, if any.
    fn deliver_here(&self, room_id: i64, frame: Frame) {
        let channel = self.rooms.lock().expect("hub lock poisoned").get(&room_id).cloned();
        if let Some(channel) = channel {
            let _ = channel.sender.send(frame);
        }
    }

    /// Ends a room for one person (removed, or left) or for everyone (deleted): their room
    /// sockets are sent `event` and closed. Nothing happens when nobody has the room open.
    pub fn close_room(&self, room_id: i64, user_id: Option<i64>, event: Utf8Bytes) {
        self.send_envelope(Envelope::Close { room_id, user_id, text: event.as_str().to_owned() });
        self.deliver_here(room_id, Frame::Close { user_id, event });
    }

    /// Delivers what another instance published to this instance's sockets.
    pub fn deliver(&self, envelope: Envelope) {
        match envelope {
            Envelope::Room { room_id, text } => self.deliver_here(room_id, Frame::Event(text.into())),
            Envelope::Message { room_id, seq, text, .. } => {
                self.deliver_here(room_id, Frame::Message { seq, text: text.into() })
            }
            Envelope::About { room_id, user_id, text } => {
                self.deliver_here(room_id, Frame::About { user_id, text: text.into() })
            }
            Envelope::Close { room_id, user_id, text } => {
                self.deliver_here(room_id, Frame::Close { user_id, event: text.into() })
            }
            Envelope::User { user_id, text } => self.notify_user_here(user_id, text.into()),
            Envelope::End { user_id } => self.end_sockets_here(user_id),
            Envelope::Count { room_id, count } => self.deliver_count(room_id, count),
            // The bus handles presence itself (it needs the database).
            Envelope::Presence { .. } | Envelope::Recount { .. } => {}
        }
    }

    /// Tells this instance's sockets of a room how many people have it open in all.
    pub fn deliver_count(&self, room_id: i64, count: u32) {
        let channel = self.rooms.lock().expect("hub lock poisoned").get(&room_id).cloned();
        if let Some(channel) = channel {
            *channel.shared_count.lock().expect("count lock") = Some(count);
            channel.publish_here(encode(&ServerEvent::OnlineCount { room: channel.name.clone(), count }));
        }
    }

    /// After the bus was down: every room socket here reads what it missed from the database.
    pub fn resync(&self) {
        let rooms: Vec<Arc<RoomChannel>> = self.rooms.lock().expect("hub lock poisoned").values().cloned().collect();
        for channel in rooms {
            let _ = channel.sender.send(Frame::Resync);
        }
    }

    /// The people with each open room open here, for the bus's shared presence.
    pub fn local_presence(&self) -> Vec<(i64, Vec<i64>)> {
        let rooms = self.rooms.lock().expect("hub lock poisoned");
        rooms
            .iter()
            .map(|(id, channel)| {
                (*id, channel.present.lock().expect("presence lock poisoned").keys().copied().collect())
            })
            .collect()
    }

    /// The people with `room_id` open here.
    pub fn present_here(&self, room_id: i64) -> Vec<i64> {
        let rooms = self.rooms.lock().expect("hub lock poisoned");
        rooms.get(&room_id).map_or_else(Vec::new, |channel| {
            channel.present.lock().expect("presence lock poisoned").keys().copied().collect()
        })
    }

    /// The number of distinct people with the room open (on all instances, as last counted,
    /// when there are several).
    pub fn online_count(&self, room_id: i64) -> u32 {
        let rooms = self.rooms.lock().expect("hub lock poisoned");
        rooms.get(&room_id).map_or(0, |channel| {
            let here = channel.present.lock().expect("presence lock poisoned").len() as u32;
            let shared = channel.shared_count.lock().expect("count lock").unwrap_or(0);
            here.max(shared)
        })
    }

    fn leave(&self, room_id: i64, user_id: i64) {
        let mut rooms = self.rooms.lock().expect("hub lock poisoned");
        let Some(channel) = rooms.get(&room_id) else { return };
        let (changed, count) = {
            let mut present = channel.present.lock().expect("presence lock poisoned");
            let gone = match present.get_mut(&user_id) {
                Some(sockets) if *sockets > 1 => {
                    *sockets -= 1;
                    false
                }
                Some(_) => true,
                None => false,
            };
            if gone {
                present.remove(&user_id);
            }
            (gone, present.len() as u32)
        };
        if let Some(bus) = self.bus.get() {
            let _ = bus.presence.send(room_id);
        } else if changed {
            channel.publish(encode(&ServerEvent::OnlineCount { room: channel.name.clone(), count }));
        }
        // Forget rooms nobody has open, so memory follows the open rooms, not all rooms ever.
        // The map and the leaving membership hold the last two references unless a message is
        // being posted to the room right now, in which case it stays.
        if count == 0 && Arc::strong_count(channel) <= 2 {
            rooms.remove(&room_id);
        }
    }
}

impl RoomChannel {
    fn send_bus(&self, envelope: Envelope) {
        if let Some(bus) = &self.bus {
            let _ = bus.send(envelope);
        }
    }

    /// Hands the same bytes to every socket in the room (on every instance).
    pub fn publish(&self, frame: Utf8Bytes) {
        self.send_bus(Envelope::Room { room_id: self.id, text: frame.as_str().to_owned() });
        self.publish_here(frame);
    }

    /// Hands the same bytes to this instance's sockets of the room.
    fn publish_here(&self, frame: Utf8Bytes) {
        // An error only means nobody is listening right now, which is fine.
        let _ = self.sender.send(Frame::Event(frame));
    }

    /// Whether a typing signal from `user_id` may be passed on now (none passed on within
    /// `every`); if so, notes the time.
    pub fn typing_allowed(&self, user_id: i64, every: std::time::Duration) -> bool {
        let mut typing = self.typing.lock().expect("typing lock poisoned");
        let now = std::time::Instant::now();
        match typing.get(&user_id) {
            Some(last) if now.duration_since(*last) < every => false,
            _ => {
                typing.insert(user_id, now);
                true
            }
        }
    }

    /// Hands an event about one person to everyone else in the room.
    pub fn publish_about(&self, user_id: i64, event: &ServerEvent) {
        let text = encode(event);
        self.send_bus(Envelope::About { room_id: self.id, user_id, text: text.as_str().to_owned() });
        let _ = self.sender.send(Frame::About { user_id, text });
    }

    /// Hands a stored message (written by `author_id`) to every socket in the room.
    pub fn publish_message(&self, message: &ChatMessage, author_id: Option<i64>) {
        let text = encode(&ServerEvent::Message(message.clone()));
        self.send_bus(Envelope::Message {
            room_id: self.id,
            room: self.name.clone(),
            seq: message.seq,
            author_id,
            text: text.as_str().to_owned(),
        });
        let _ = self.sender.send(Frame::Message { seq: message.seq, text });
    }
}

impl Drop for UserSubscription {
    fn drop(&mut self) {
        let mut users = self.hub.users.lock().expect("hub lock poisoned");
        // This subscription's receiver is still alive here, so 1 means it was the last one.
        if users.get(&self.user_id).is_some_and(|sender| sender.receiver_count() <= 1) {
            users.remove(&self.user_id);
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.room_id, self.user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(frame: Frame) -> Utf8Bytes {
        match frame {
            Frame::Event(text) => text,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    fn count_of(frame: &Frame) -> u32 {
        let Frame::Event(frame) = frame else { panic!("expected an event, got {frame:?}") };
        match serde_json::from_str::<ServerEvent>(frame.as_str()).unwrap() {
            ServerEvent::OnlineCount { count, .. } => count,
            other => panic!("expected an online count, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn online_counts_distinct_people_not_sockets() {
        let hub = Hub::new();
        let (mut ana, direct) = hub.join(1, "r", 10);
        assert!(direct.is_none());
        assert_eq!(count_of(&ana.events.recv().await.unwrap()), 1);

        let (_bob, _) = hub.join(1, "r", 20);
        assert_eq!(count_of(&ana.events.recv().await.unwrap()), 2);

        // Ana's second tab: nothing broadcast, the new socket is told directly.
        let (ana_tab, direct) = hub.join(1, "r", 10);
        assert_eq!(count_of(&Frame::Event(direct.unwrap())), 2);
        drop(ana_tab);
        assert_eq!(hub.online_count(1), 2);
        assert!(ana.events.try_recv().is_err(), "no count change, no event");

        drop(_bob);
        assert_eq!(count_of(&ana.events.recv().await.unwrap()), 1);
        drop(ana);
        assert_eq!(hub.online_count(1), 0);
        assert!(hub.rooms.lock().unwrap().is_empty(), "an empty room is forgotten");
    }

    #[tokio::test]
    async fn every_subscriber_gets_the_same_bytes() {
        let hub = Hub::new();
        let (mut a, _) = hub.join(7, "r", 1);
        let (mut b, _) = hub.join(7, "r", 2);
        while a.events.try_recv().is_ok() {}
        while b.events.try_recv().is_ok() {}
        a.channel.publish(Utf8Bytes::from_static("hello"));
        let (x, y) = (text(a.events.recv().await.unwrap()), text(b.events.recv().await.unwrap()));
        assert_eq!(x.as_str().as_ptr(), y.as_str().as_ptr(), "one allocation shared, not copied");
    }

    #[tokio::test]
    async fn a_socket_that_does_not_read_lags_without_blocking_others() {
        let hub = Hub::new();
        let (mut slow, _) = hub.join(3, "r", 1);
        let (mut fast, _) = hub.join(3, "r", 2);
        for i in 0..(ROOM_BUFFER + 10) {
            fast.channel.publish(Utf8Bytes::from(i.to_string()));
            while fast.events.try_recv().is_ok() {}
        }
        assert!(matches!(slow.events.recv().await, Err(broadcast::error::RecvError::Lagged(_))));
    }

    #[tokio::test]
    async fn closing_a_room_for_one_person_reaches_every_socket_with_their_id() {
        let hub = Hub::new();
        let (mut ana, _) = hub.join(5, "r", 1);
        while ana.events.try_recv().is_ok() {}
        hub.close_room(5, Some(2), Utf8Bytes::from_static("bye"));
        match ana.events.recv().await.unwrap() {
            Frame::Close { user_id, event } => assert_eq!((user_id, event.as_str()), (Some(2), "bye")),
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn envelopes_from_other_instances_reach_only_the_sockets_here() {
        let hub = Hub::new();
        let (mut ana, _) = hub.join(4, "r", 1);
        while ana.events.try_recv().is_ok() {}
        let wire = r#"{"kind":"message","room_id":4,"room":"r","seq":9,"author_id":2,"text":"{}"}"#;
        hub.deliver(serde_json::from_str(wire).unwrap());
        match ana.events.recv().await.unwrap() {
            Frame::Message { seq, .. } => assert_eq!(seq, 9),
            other => panic!("expected a message, got {other:?}"),
        }
        // A room nobody here has open is not created by a delivery.
        hub.deliver(Envelope::Room { room_id: 5, text: "x".into() });
        assert!(!hub.rooms.lock().unwrap().contains_key(&5));
        hub.deliver(Envelope::End { user_id: 1 });
        assert!(matches!(ana.events.recv().await.unwrap(), Frame::End { user_id: 1 }));
    }

    #[tokio::test]
    async fn a_person_channel_reaches_all_their_tabs_and_is_forgotten_after_the_last() {
        let hub = Hub::new();
        let mut tab1 = hub.subscribe_user(9);
        let mut tab2 = hub.subscribe_user(9);
        hub.notify_user(9, Utf8Bytes::from_static("hi"));
        for tab in [&mut tab1, &mut tab2] {
            match tab.events.recv().await.unwrap() {
                UserFrame::Event(text) => assert_eq!(text.as_str(), "hi"),
                UserFrame::End => panic!("expected an event"),
            }
        }
        drop(tab1);
        assert!(hub.users.lock().unwrap().contains_key(&9));
        drop(tab2);
        assert!(hub.users.lock().unwrap().is_empty());
        hub.notify_user(9, Utf8Bytes::from_static("nobody listens"));
    }
}
