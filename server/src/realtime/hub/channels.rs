//! The channels the hub keeps: one broadcast ring per open room ([`RoomChannel`]) and one per
//! person with the app open, a socket's place in them ([`Membership`], [`UserSubscription`],
//! both released on drop), and the online count they give.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::ServerEvent;
use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

use super::{encode, Hub, ROOM_BUFFER, USER_BUFFER};
use crate::realtime::presence::Viewer;

/// What a room channel carries to its sockets.
#[derive(Debug, Clone)]
pub enum Frame {
    /// An encoded event, sent as it is.
    Event(Utf8Bytes),
    /// An encoded `message` event and its `seq`, so that a socket catching up from the
    /// database can skip what it already sent.
    Message { seq: i64, text: Utf8Bytes },
    /// An encoded change to a stored message (`message_edited`, `message_deleted`,
    /// `reactions`) with the room's change number it took and the message's `seq`, so that a
    /// socket can skip what it already sent and notice what it missed.
    Change { change: i64, seq: i64, text: Utf8Bytes },
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

pub(super) struct PersonChannel {
    pub(super) sender: broadcast::Sender<UserFrame>,
    pub(super) viewer: Viewer,
}

pub struct RoomChannel {
    pub(super) name: String,
    pub(super) sender: broadcast::Sender<Frame>,
    /// Open sockets per user id.
    pub(super) present: Mutex<HashMap<i64, u32>>,
    /// When each person's last typing signal was passed on.
    pub(super) typing: Mutex<HashMap<i64, std::time::Instant>>,
    /// The online count across instances, as the broker last gave it.
    pub(super) shared_count: Mutex<Option<u32>>,
}

/// A socket's place in a room. Dropping it leaves the room (and updates the online count).
pub struct Membership {
    pub(super) hub: Arc<Hub>,
    pub(super) room_id: i64,
    pub(super) user_id: i64,
    pub channel: Arc<RoomChannel>,
    pub events: broadcast::Receiver<Frame>,
}

/// A `/ws/chat/` socket's subscription to its person's channel; dropping it unsubscribes.
pub struct UserSubscription {
    pub(super) hub: Arc<Hub>,
    pub(super) user_id: i64,
    pub events: broadcast::Receiver<UserFrame>,
    /// This was the person's first open tab here: they came online (here), and their unread
    /// counters are to be loaded.
    pub first: bool,
}

impl Hub {
    /// The room's channel, created if nobody has the room open.
    pub fn channel(&self, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        let mut rooms = self.rooms.lock().expect("hub lock");
        Self::entry(&mut rooms, room_id, room_name)
    }

    pub(super) fn entry(rooms: &mut HashMap<i64, Arc<RoomChannel>>, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        rooms
            .entry(room_id)
            .or_insert_with(|| {
                Arc::new(RoomChannel {
                    name: room_name.to_owned(),
                    sender: broadcast::channel(ROOM_BUFFER).0,
                    present: Mutex::new(HashMap::new()),
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
        let mut rooms = self.rooms.lock().expect("hub lock");
        let channel = Self::entry(&mut rooms, room_id, room_name);
        // Subscribe before counting, so the count broadcast below reaches this socket too.
        let events = channel.sender.subscribe();
        let (changed, count) = {
            let mut present = channel.present.lock().expect("presence lock");
            let sockets = present.entry(user_id).or_insert(0);
            *sockets += 1;
            (*sockets == 1, present.len() as u32)
        };
        drop(rooms);
        self.interest.notify_one();
        let membership = Membership { hub: self.clone(), room_id, user_id, channel: channel.clone(), events };
        // With several instances the broker counts everyone and tells every socket of the room.
        if let Some(broker) = self.broker.get() {
            broker.presence_changed(room_id);
            return (membership, None);
        }
        if changed {
            // Everyone in the room (this socket too) is told at the next flush: a thousand
            // sockets opening at once cost each socket one count, not a thousand.
            self.counts.lock().expect("hub lock").insert(room_id);
            self.wake.notify_one();
            (membership, None)
        } else {
            (membership, Some(encode(&ServerEvent::OnlineCount { room: room_name.to_owned(), count })))
        }
    }

    /// Subscribes one of a person's `/ws/chat/` sockets to their channel. `first` tells
    /// whether they just came online here (no other tab was open).
    pub fn subscribe_user(self: &Arc<Self>, user_id: i64, viewer: Viewer) -> UserSubscription {
        let mut people = self.people.lock().expect("hub lock");
        let first = !people.contains_key(&user_id);
        let person = people
            .entry(user_id)
            .or_insert_with(|| PersonChannel { sender: broadcast::channel(USER_BUFFER).0, viewer: viewer.clone() });
        person.viewer = viewer;
        let events = person.sender.subscribe();
        drop(people);
        if first {
            self.interest.notify_one();
        }
        UserSubscription { hub: self.clone(), user_id, events, first }
    }

    pub(super) fn leave(&self, room_id: i64, user_id: i64) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        let Some(channel) = rooms.get(&room_id) else { return };
        let (changed, count) = {
            let mut present = channel.present.lock().expect("presence lock");
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
        if let Some(broker) = self.broker.get() {
            broker.presence_changed(room_id);
        } else if changed {
            self.counts.lock().expect("hub lock").insert(room_id);
            self.wake.notify_one();
        }
        // Forget rooms nobody has open, so memory follows the open rooms, not all rooms ever.
        // The map and the leaving membership hold the last two references unless someone is
        // typing or publishing to the room right now, in which case it stays.
        if count == 0 && Arc::strong_count(channel) <= 2 {
            rooms.remove(&room_id);
        }
        self.interest.notify_one();
    }
}

impl RoomChannel {
    /// Whether a typing signal from `user_id` may be passed on now (none passed on within
    /// `every`); if so, notes the time.
    pub fn typing_allowed(&self, user_id: i64, every: Duration) -> bool {
        let mut typing = self.typing.lock().expect("typing lock");
        let now = std::time::Instant::now();
        match typing.get(&user_id) {
            Some(last) if now.duration_since(*last) < every => false,
            _ => {
                typing.insert(user_id, now);
                true
            }
        }
    }
}

impl Drop for UserSubscription {
    fn drop(&mut self) {
        let mut people = self.hub.people.lock().expect("hub lock");
        // This subscription's receiver is still alive here, so 1 means it was the last one.
        if people.get(&self.user_id).is_some_and(|person| person.sender.receiver_count() <= 1) {
            people.remove(&self.user_id);
            drop(people);
            self.hub.unread.lock().expect("hub lock").forget_person(self.user_id);
            self.hub.interest.notify_one();
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.room_id, self.user_id);
    }
}
