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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
}

/// What a person's own channel carries to their `/ws/chat/` sockets.
#[derive(Debug, Clone)]
pub enum UserFrame {
    Event(Utf8Bytes),
    /// Their sessions ended: the sockets close.
    End,
}

pub struct RoomChannel {
    name: String,
    sender: broadcast::Sender<Frame>,
    /// Open sockets per user id.
    present: Mutex<HashMap<i64, u32>>,
    /// Held while a message is stored and published, so that this instance publishes a room's
    /// messages in `seq` order.
    pub write_lock: tokio::sync::Mutex<()>,
    /// When each person's last typing signal was passed on.
    typing: Mutex<HashMap<i64, std::time::Instant>>,
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

    /// The room's channel, created if nobody has the room open (used to publish).
    pub fn channel(&self, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        let mut rooms = self.rooms.lock().expect("hub lock poisoned");
        Self::entry(&mut rooms, room_id, room_name)
    }

    fn entry(rooms: &mut HashMap<i64, Arc<RoomChannel>>, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        rooms
            .entry(room_id)
            .or_insert_with(|| {
                Arc::new(RoomChannel {
                    name: room_name.to_owned(),
                    sender: broadcast::channel(ROOM_BUFFER).0,
                    present: Mutex::new(HashMap::new()),
                    write_lock: tokio::sync::Mutex::new(()),
                    typing: Mutex::new(HashMap::new()),
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
        let channel = Self::entry(&mut rooms, room_id, room_name);
        // Subscribe before counting, so the count broadcast below reaches this socket too.
        let events = channel.sender.subscribe();
        let (changed, count) = {
            let mut present = channel.present.lock().expect("presence lock poisoned");
            let sockets = present.entry(user_id).or_insert(0);
            *sockets += 1;
            (*sockets == 1, present.len() as u32)
        };
        drop(rooms);
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

    /// Sends an event to every open tab of a person (nothing when they have none open).
    pub fn notify_user(&self, user_id: i64, frame: Utf8Bytes) {
        if let Some(sender) = self.users.lock().expect("hub lock poisoned").get(&user_id) {
            let _ = sender.send(UserFrame::Event(frame));
        }
    }

    /// Closes every socket of a person, in every room and tab: their sessions ended. Those
    /// whose session is still valid (the tab that changed the password) reconnect by themselves.
    pub fn end_sockets_of(&self, user_id: i64) {
        let rooms: Vec<Arc<RoomChannel>> = self.rooms.lock().expect("hub lock poisoned").values().cloned().collect();
        for channel in rooms {
            let _ = channel.sender.send(Frame::End { user_id });
        }
        if let Some(sender) = self.users.lock().expect("hub lock poisoned").get(&user_id) {
            let _ = sender.send(UserFrame::End);
        }
    }

    /// Whether a person has the app open (a `/ws/chat/` socket) anywhere.
    pub fn is_online(&self, user_id: i64) -> bool {
        self.users.lock().expect("hub lock poisoned").contains_key(&user_id)
    }

    /// The people with at least one `/ws/chat/` socket open (a tab of the app).
    pub fn connected_users(&self) -> Vec<i64> {
        self.users.lock().expect("hub lock poisoned").keys().copied().collect()
    }

    /// Sends an event to the room's sockets, if anyone has it open (creating no channel).
    pub fn publish(&self, room_id: i64, frame: Utf8Bytes) {
        let channel = self.rooms.lock().expect("hub lock poisoned").get(&room_id).cloned();
        if let Some(channel) = channel {
            channel.publish(frame);
        }
    }

    /// Ends a room for one person (removed, or left) or for everyone (deleted): their room
    /// sockets are sent `event` and closed. Nothing happens when nobody has the room open.
    pub fn close_room(&self, room_id: i64, user_id: Option<i64>, event: Utf8Bytes) {
        let channel = self.rooms.lock().expect("hub lock poisoned").get(&room_id).cloned();
        if let Some(channel) = channel {
            let _ = channel.sender.send(Frame::Close { user_id, event });
        }
    }

    /// The number of distinct people with the room open.
    pub fn online_count(&self, room_id: i64) -> u32 {
        let rooms = self.rooms.lock().expect("hub lock poisoned");
        rooms.get(&room_id).map_or(0, |channel| channel.present.lock().expect("presence lock poisoned").len() as u32)
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
        if changed {
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
    /// Hands the same bytes to every socket in the room.
    pub fn publish(&self, frame: Utf8Bytes) {
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
        let _ = self.sender.send(Frame::About { user_id, text: encode(event) });
    }

    /// Hands a stored message to every socket in the room.
    pub fn publish_message(&self, message: &ChatMessage) {
        let text = encode(&ServerEvent::Message(message.clone()));
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
