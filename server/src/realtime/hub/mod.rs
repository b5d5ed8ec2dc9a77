//! The in-process fan-out hub.
//!
//! Each open room has one `tokio::sync::broadcast` ring of already-encoded frames. An event is
//! serialised once and its bytes (`Utf8Bytes`, reference counted) are shared by every socket in
//! the room: no database query, no serialisation and no copy per recipient. The ring is the
//! bounded outgoing queue: a socket that falls more than [`ROOM_BUFFER`] events behind is
//! told it lagged and is dropped by its own task, so it never slows the others down.
//!
//! Each signed-in person with a tab open has a channel of their own, which their `/ws/chat/`
//! sockets (one per tab) subscribe to, and unread counters kept in memory ([`UnreadBook`]).
//! Unread counts and presence changes are gathered and sent a moment later
//! ([`Hub::run_flusher`]), one event per person and room (or per viewer) per flush.
//!
//! Everything the hub sends is an [`Envelope`]: delivered here, then handed once to the
//! broker (with several instances), whose deliveries from the others arrive through
//! [`Hub::deliver_remote`] and take the same path. The hub never touches the database: what
//! needs it (recounting unread messages) is handed to whoever took [`Hub::take_reloads`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use app::protocol::ServerEvent;
use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

mod channels;
mod counts;
#[cfg(test)]
mod tests;

use channels::PersonChannel;
pub use channels::{Frame, Membership, RoomChannel, UserFrame, UserSubscription};

use super::broker::Broker;
use super::envelope::{Envelope, Text};
use super::presence::PresenceBatch;
use super::unread::{Loaded, UnreadBook};

/// How many events a socket may fall behind before it is dropped: a second of a room
/// receiving 1,000 messages a second. The ring is per room, not per socket.
pub const ROOM_BUFFER: usize = 1024;

/// How many events a person's own socket may fall behind before it is dropped.
pub const USER_BUFFER: usize = 64;

/// How long unread counts and presence changes are gathered before they are sent.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What needs the database, asked of the task that took [`Hub::take_reloads`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// A room's messages changed (a deletion): recount it for its members connected here.
    Room(i64),
    /// Envelopes may have been lost (the broker was away): recount everyone connected here.
    Everyone,
}

pub struct Hub {
    rooms: Mutex<HashMap<i64, Arc<RoomChannel>>>,
    people: Mutex<HashMap<i64, PersonChannel>>,
    unread: Mutex<UnreadBook>,
    presence: Mutex<PresenceBatch>,
    /// Rooms whose online count changed since the last flush (alone; with a broker, it counts).
    counts: Mutex<HashSet<i64>>,
    /// People with the app open on other instances, as the broker last read them.
    online_elsewhere: Mutex<HashSet<i64>>,
    broker: OnceLock<Arc<dyn Broker>>,
    /// Wakes the flusher: a counter or someone's presence changed.
    wake: tokio::sync::Notify,
    /// Wakes the broker: the rooms or people this instance needs to hear about changed.
    interest: tokio::sync::Notify,
    reloads: mpsc::UnboundedSender<Reload>,
    reloads_rx: Mutex<Option<mpsc::UnboundedReceiver<Reload>>>,
}

/// Encodes an event once, into the bytes every socket is sent.
pub fn encode(event: &ServerEvent) -> Utf8Bytes {
    Utf8Bytes::from(event.to_json())
}

impl Hub {
    pub fn new() -> Arc<Self> {
        let (reloads, reloads_rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            rooms: Mutex::default(),
            people: Mutex::default(),
            unread: Mutex::default(),
            presence: Mutex::default(),
            counts: Mutex::default(),
            online_elsewhere: Mutex::default(),
            broker: OnceLock::new(),
            wake: tokio::sync::Notify::new(),
            interest: tokio::sync::Notify::new(),
            reloads,
            reloads_rx: Mutex::new(Some(reloads_rx)),
        })
    }

    /// Connects the hub to a broker; done once, before anything is served.
    pub fn set_broker(&self, broker: Arc<dyn Broker>) {
        let _ = self.broker.set(broker);
    }

    /// The requests that need the database; taken once, by the task that serves them.
    pub fn take_reloads(&self) -> Option<mpsc::UnboundedReceiver<Reload>> {
        self.reloads_rx.lock().expect("hub lock").take()
    }

    /// Delivers an envelope here, then hands it to the other instances.
    fn dispatch(&self, envelope: Envelope) {
        self.deliver(&envelope);
        if let Some(broker) = self.broker.get() {
            broker.publish(&envelope);
        }
    }

    /// Delivers what another instance published.
    pub fn deliver_remote(&self, envelope: Envelope) {
        if let Envelope::Presence { user_id, online, .. } = &envelope {
            let mut elsewhere = self.online_elsewhere.lock().expect("hub lock");
            if *online {
                elsewhere.insert(*user_id);
            } else {
                elsewhere.remove(user_id);
            }
        }
        if let Envelope::Unread { user_id, room_id, room, count, through } = envelope {
            let loaded = Loaded { room_id, room, count, through };
            self.load_unread(user_id, loaded, None).expect("a load without a position is never stale");
            return;
        }
        self.deliver(&envelope);
    }

    /// Hands an envelope to this instance's sockets and counters.
    fn deliver(&self, envelope: &Envelope) {
        match envelope {
            Envelope::Room { room_id, text } => self.to_room(*room_id, Frame::Event(text.0.clone())),
            Envelope::Message { room_id, seq, author_id, text } => {
                self.to_room(*room_id, Frame::Message { seq: *seq, text: text.0.clone() });
                let mut unread = self.unread.lock().expect("hub lock");
                unread.message(*room_id, *seq, *author_id);
                drop(unread);
                self.wake.notify_one();
            }
            Envelope::Change { room_id, change, seq, text } => {
                self.to_room(*room_id, Frame::Change { change: *change, seq: *seq, text: text.0.clone() })
            }
            Envelope::About { room_id, user_id, text } => {
                self.to_room(*room_id, Frame::About { user_id: *user_id, text: text.0.clone() })
            }
            Envelope::Close { room_id, user_id, text } => {
                self.to_room(*room_id, Frame::Close { user_id: *user_id, event: text.0.clone() })
            }
            Envelope::User { user_id, text } => self.to_person(*user_id, UserFrame::Event(text.0.clone())),
            Envelope::End { user_id } => {
                let rooms: Vec<Arc<RoomChannel>> = self.rooms.lock().expect("hub lock").values().cloned().collect();
                for channel in rooms {
                    let _ = channel.sender.send(Frame::End { user_id: *user_id });
                }
                self.to_person(*user_id, UserFrame::End);
            }
            Envelope::Count { room_id, count } => self.deliver_count(*room_id, *count),
            Envelope::Presence { user_id, username, roles, online } => {
                self.presence.lock().expect("hub lock").changed(*user_id, username.clone(), roles.clone(), *online);
                self.wake.notify_one();
            }
            Envelope::Unread { .. } => {}
            Envelope::Left { user_id, room_id } => {
                self.unread.lock().expect("hub lock").leave_room(*user_id, *room_id);
                self.interest.notify_one();
            }
            Envelope::Recount { room_id } => {
                let _ = self.reloads.send(Reload::Room(*room_id));
            }
            Envelope::Resync => self.resync(),
        }
    }

    fn to_room(&self, room_id: i64, frame: Frame) {
        let channel = self.rooms.lock().expect("hub lock").get(&room_id).cloned();
        if let Some(channel) = channel {
            // An error only means nobody is listening right now, which is fine.
            let _ = channel.sender.send(frame);
        }
    }

    fn to_person(&self, user_id: i64, frame: UserFrame) {
        if let Some(person) = self.people.lock().expect("hub lock").get(&user_id) {
            let _ = person.sender.send(frame);
        }
    }

    /// Sends an event to every open tab of a person, on every instance.
    pub fn notify_user(&self, user_id: i64, frame: Utf8Bytes) {
        self.dispatch(Envelope::User { user_id, text: Text(frame) });
    }

    /// Closes every socket of a person, in every room and tab: their sessions ended. Those
    /// whose session is still valid (the tab that changed the password) reconnect by themselves.
    pub fn end_sockets_of(&self, user_id: i64) {
        self.dispatch(Envelope::End { user_id });
    }

    /// Sends an event to the room's sockets, if anyone has it open (creating no channel).
    pub fn publish(&self, room_id: i64, frame: Utf8Bytes) {
        self.dispatch(Envelope::Room { room_id, text: Text(frame) });
    }

    /// Hands a stored message (written by `author_id`) to every socket in the room, and
    /// counts it as unread for its other members with the app open.
    pub fn publish_message(&self, room_id: i64, seq: i64, author_id: Option<i64>, text: Utf8Bytes) {
        self.dispatch(Envelope::Message { room_id, seq, author_id, text: Text(text) });
    }

    /// Hands a change to a stored message (numbered `change` in its room) to every socket in
    /// the room.
    pub fn publish_change(&self, room_id: i64, change: i64, seq: i64, text: Utf8Bytes) {
        self.dispatch(Envelope::Change { room_id, change, seq, text: Text(text) });
    }

    /// Hands an event about one person to everyone else in the room.
    pub fn publish_about(&self, room_id: i64, user_id: i64, event: &ServerEvent) {
        self.dispatch(Envelope::About { room_id, user_id, text: Text(encode(event)) });
    }

    /// Ends a room for one person (removed, or left) or for everyone (deleted): their room
    /// sockets are sent `event` and closed. Nothing happens when nobody has the room open.
    pub fn close_room(&self, room_id: i64, user_id: Option<i64>, event: Utf8Bytes) {
        self.dispatch(Envelope::Close { room_id, user_id, text: Text(event) });
    }
}
