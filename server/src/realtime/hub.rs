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

use app::protocol::{ServerEvent, UserEvent};
use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc};

use super::broker::Broker;
use super::envelope::{Envelope, Text};
use super::presence::{PresenceBatch, Viewer};
use super::unread::{Loaded, Stale, UnreadBook};

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

struct PersonChannel {
    sender: broadcast::Sender<UserFrame>,
    viewer: Viewer,
}

pub struct RoomChannel {
    name: String,
    sender: broadcast::Sender<Frame>,
    /// Open sockets per user id.
    present: Mutex<HashMap<i64, u32>>,
    /// When each person's last typing signal was passed on.
    typing: Mutex<HashMap<i64, std::time::Instant>>,
    /// The online count across instances, as the broker last gave it.
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
    /// This was the person's first open tab here: they came online (here), and their unread
    /// counters are to be loaded.
    pub first: bool,
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

    /// The room's channel, created if nobody has the room open.
    pub fn channel(&self, room_id: i64, room_name: &str) -> Arc<RoomChannel> {
        let mut rooms = self.rooms.lock().expect("hub lock");
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

    /// Hands an event about one person to everyone else in the room.
    pub fn publish_about(&self, room_id: i64, user_id: i64, event: &ServerEvent) {
        self.dispatch(Envelope::About { room_id, user_id, text: Text(encode(event)) });
    }

    /// Ends a room for one person (removed, or left) or for everyone (deleted): their room
    /// sockets are sent `event` and closed. Nothing happens when nobody has the room open.
    pub fn close_room(&self, room_id: i64, user_id: Option<i64>, event: Utf8Bytes) {
        self.dispatch(Envelope::Close { room_id, user_id, text: Text(event) });
    }

    /// A person came online (their first tab anywhere) or went offline (their last): the
    /// people who may see them are told at the next flush, on every instance.
    pub fn presence_changed(&self, user_id: i64, username: &str, roles: Vec<String>, online: bool) {
        self.dispatch(Envelope::Presence { user_id, username: username.to_owned(), roles, online });
    }

    /// A person is no longer in a room (left, removed, or it was deleted): their counter goes.
    pub fn left_room(&self, user_id: i64, room_id: i64) {
        self.dispatch(Envelope::Left { user_id, room_id });
    }

    /// A room's messages changed other than by a new one: every instance recounts it.
    pub fn recount(&self, room_id: i64) {
        self.dispatch(Envelope::Recount { room_id });
    }

    /// Where the record of recent messages stands, taken before counting unread messages in
    /// the database (see [`UnreadBook`]).
    pub fn unread_position(&self) -> u64 {
        self.unread.lock().expect("hub lock").position()
    }

    /// Puts a person's counters in place, read from the database at `since`.
    pub fn load_person_unread(&self, user_id: i64, rooms: Vec<Loaded>, since: u64) -> Result<(), Stale> {
        self.unread.lock().expect("hub lock").load_person(user_id, rooms, since)?;
        self.interest.notify_one();
        Ok(())
    }

    /// Puts one of a person's counters in place (read at `since`; `None`: it came from
    /// another instance); their tabs are told at the next flush.
    pub fn load_unread(&self, user_id: i64, loaded: Loaded, since: Option<u64>) -> Result<(), Stale> {
        self.unread.lock().expect("hub lock").load_room(user_id, loaded, since)?;
        self.wake.notify_one();
        self.interest.notify_one();
        Ok(())
    }

    /// A person's count of a room is now `loaded` (they read it, or joined it): here, and
    /// on the other instances where they have the app open.
    pub fn set_unread(&self, user_id: i64, loaded: Loaded, since: u64) -> Result<(), Stale> {
        self.load_unread(user_id, loaded.clone(), Some(since))?;
        if let Some(broker) = self.broker.get() {
            let Loaded { room_id, room, count, through } = loaded;
            broker.publish(&Envelope::Unread { user_id, room_id, room, count, through });
        }
        Ok(())
    }

    /// The members of `room_id` whose counters are kept here.
    pub fn unread_members_of(&self, room_id: i64) -> Vec<i64> {
        self.unread.lock().expect("hub lock").members_of(room_id)
    }

    /// Everyone whose counters are kept here.
    pub fn unread_people(&self) -> Vec<i64> {
        self.unread.lock().expect("hub lock").people()
    }

    /// Sends what changed since the last flush, a moment after it changed: each changed
    /// unread count to its person's tabs, and presence changes to the viewers here. Runs for
    /// as long as the hub lives.
    pub async fn run_flusher(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            tokio::time::sleep(FLUSH_EVERY).await;
            self.flush();
        }
    }

    /// Sends what changed now (the flusher calls this; tests may too).
    pub fn flush(&self) {
        let counts = std::mem::take(&mut *self.counts.lock().expect("hub lock"));
        for room_id in counts {
            let channel = self.rooms.lock().expect("hub lock").get(&room_id).cloned();
            if let Some(channel) = channel {
                let count = channel.present.lock().expect("presence lock").len() as u32;
                let _ = channel
                    .sender
                    .send(Frame::Event(encode(&ServerEvent::OnlineCount { room: channel.name.clone(), count })));
            }
        }
        let changed = self.unread.lock().expect("hub lock").take_changed();
        let presence = {
            let mut batch = self.presence.lock().expect("hub lock");
            if batch.is_empty() {
                Vec::new()
            } else {
                let viewers: HashMap<i64, Viewer> = self
                    .people
                    .lock()
                    .expect("hub lock")
                    .iter()
                    .map(|(id, person)| (*id, person.viewer.clone()))
                    .collect();
                batch.take(&viewers)
            }
        };
        let people = self.people.lock().expect("hub lock");
        for (user_id, room, count) in changed {
            if let Some(person) = people.get(&user_id) {
                let event = UserEvent::Unread { room, count };
                let _ = person.sender.send(UserFrame::Event(Utf8Bytes::from(event.to_json())));
            }
        }
        for (user_id, event) in presence {
            if let Some(person) = people.get(&user_id) {
                let _ = person.sender.send(UserFrame::Event(event));
            }
        }
    }

    /// Whether a person has the app open (a `/ws/chat/` socket) anywhere: here, or (with
    /// several instances) on another instance as the broker last read it.
    pub fn is_online(&self, user_id: i64) -> bool {
        self.is_connected_here(user_id) || self.online_elsewhere(user_id)
    }

    /// Whether a person has the app open on this instance.
    pub fn is_connected_here(&self, user_id: i64) -> bool {
        self.people.lock().expect("hub lock").contains_key(&user_id)
    }

    /// Whether a person has the app open on another instance, as the broker last read it.
    pub fn online_elsewhere(&self, user_id: i64) -> bool {
        self.online_elsewhere.lock().expect("hub lock").contains(&user_id)
    }

    /// Replaces who has the app open on the other instances (the broker read it).
    pub fn set_online_elsewhere(&self, people: HashSet<i64>) {
        *self.online_elsewhere.lock().expect("hub lock") = people;
    }

    /// The people with at least one `/ws/chat/` socket open (a tab of the app) here.
    pub fn connected_users(&self) -> Vec<i64> {
        self.people.lock().expect("hub lock").keys().copied().collect()
    }

    /// Tells this instance's sockets of a room how many people have it open in all.
    pub fn deliver_count(&self, room_id: i64, count: u32) {
        let channel = self.rooms.lock().expect("hub lock").get(&room_id).cloned();
        if let Some(channel) = channel {
            *channel.shared_count.lock().expect("count lock") = Some(count);
            let event = encode(&ServerEvent::OnlineCount { room: channel.name.clone(), count });
            let _ = channel.sender.send(Frame::Event(event));
        }
    }

    /// Tells the other instances a room's count (the broker counted it).
    pub fn share_count(&self, room_id: i64, count: u32) {
        self.dispatch(Envelope::Count { room_id, count });
    }

    /// After envelopes may have been lost: every room socket here reads what it missed from
    /// the database, and every counter here is recounted.
    pub fn resync(&self) {
        let rooms: Vec<Arc<RoomChannel>> = self.rooms.lock().expect("hub lock").values().cloned().collect();
        for channel in rooms {
            let _ = channel.sender.send(Frame::Resync);
        }
        let _ = self.reloads.send(Reload::Everyone);
    }

    /// A room is heard from the other instances anew (the broker just subscribed to it): what
    /// they published before that is read from the database by its sockets here, and its
    /// members' counters here are recounted.
    pub fn resync_room(&self, room_id: i64) {
        self.to_room(room_id, Frame::Resync);
        let _ = self.reloads.send(Reload::Room(room_id));
    }

    /// Waits until the rooms or people this instance needs to hear about may have changed.
    pub async fn interest_changed(&self) {
        self.interest.notified().await;
    }

    /// The rooms and people this instance needs to hear about from the others: rooms with a
    /// socket here or a member with the app open here, people with any socket here.
    pub fn interest(&self) -> (HashSet<i64>, HashSet<i64>) {
        let mut people: HashSet<i64> = self.people.lock().expect("hub lock").keys().copied().collect();
        let mut rooms: HashSet<i64> = self.unread.lock().expect("hub lock").rooms().into_iter().collect();
        for (room_id, channel) in self.rooms.lock().expect("hub lock").iter() {
            rooms.insert(*room_id);
            people.extend(channel.present.lock().expect("presence lock").keys().copied());
        }
        (rooms, people)
    }

    /// The people with each open room open here, for the broker's shared presence.
    pub fn local_presence(&self) -> Vec<(i64, Vec<i64>)> {
        let rooms = self.rooms.lock().expect("hub lock");
        rooms
            .iter()
            .map(|(id, channel)| (*id, channel.present.lock().expect("presence lock").keys().copied().collect()))
            .collect()
    }

    /// The people with `room_id` open here.
    pub fn present_here(&self, room_id: i64) -> Vec<i64> {
        let rooms = self.rooms.lock().expect("hub lock");
        rooms
            .get(&room_id)
            .map_or_else(Vec::new, |channel| channel.present.lock().expect("presence lock").keys().copied().collect())
    }

    /// The number of distinct people with the room open (on all instances, as last counted,
    /// when there are several).
    pub fn online_count(&self, room_id: i64) -> u32 {
        let rooms = self.rooms.lock().expect("hub lock");
        rooms.get(&room_id).map_or(0, |channel| {
            let here = channel.present.lock().expect("presence lock").len() as u32;
            let shared = channel.shared_count.lock().expect("count lock").unwrap_or(0);
            here.max(shared)
        })
    }

    fn leave(&self, room_id: i64, user_id: i64) {
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

    fn viewer() -> Viewer {
        Viewer { roles: vec!["member".into()], is_admin: false }
    }

    #[tokio::test]
    async fn online_counts_distinct_people_not_sockets() {
        let hub = Hub::new();
        let (mut ana, direct) = hub.join(1, "r", 10);
        assert!(direct.is_none());
        hub.flush();
        assert_eq!(count_of(&ana.events.recv().await.unwrap()), 1);

        // Two changes before a flush: one count, the last.
        let (_bob, _) = hub.join(1, "r", 20);
        let (cleo, _) = hub.join(1, "r", 30);
        drop(cleo);
        hub.flush();
        assert_eq!(count_of(&ana.events.recv().await.unwrap()), 2);
        assert!(ana.events.try_recv().is_err(), "one count per flush");

        // Ana's second tab: nothing broadcast, the new socket is told directly.
        let (ana_tab, direct) = hub.join(1, "r", 10);
        assert_eq!(count_of(&Frame::Event(direct.unwrap())), 2);
        drop(ana_tab);
        assert_eq!(hub.online_count(1), 2);
        assert!(ana.events.try_recv().is_err(), "no count change, no event");

        drop(_bob);
        hub.flush();
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
        hub.publish(7, Utf8Bytes::from_static("hello"));
        let (x, y) = (text(a.events.recv().await.unwrap()), text(b.events.recv().await.unwrap()));
        assert_eq!(x.as_str().as_ptr(), y.as_str().as_ptr(), "one allocation shared, not copied");
    }

    #[tokio::test]
    async fn a_socket_that_does_not_read_lags_without_blocking_others() {
        let hub = Hub::new();
        let (mut slow, _) = hub.join(3, "r", 1);
        let (mut fast, _) = hub.join(3, "r", 2);
        for i in 0..(ROOM_BUFFER + 10) {
            hub.publish(3, Utf8Bytes::from(i.to_string()));
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
        let wire = r#"{"kind":"message","room_id":4,"seq":9,"author_id":2,"text":"{}"}"#;
        hub.deliver_remote(serde_json::from_str(wire).unwrap());
        match ana.events.recv().await.unwrap() {
            Frame::Message { seq, .. } => assert_eq!(seq, 9),
            other => panic!("expected a message, got {other:?}"),
        }
        // A room nobody here has open is not created by a delivery.
        hub.deliver_remote(Envelope::Room { room_id: 5, text: Text(Utf8Bytes::from_static("x")) });
        assert!(!hub.rooms.lock().unwrap().contains_key(&5));
        hub.deliver_remote(Envelope::End { user_id: 1 });
        assert!(matches!(ana.events.recv().await.unwrap(), Frame::End { user_id: 1 }));
    }

    #[tokio::test]
    async fn a_person_channel_reaches_all_their_tabs_and_is_forgotten_after_the_last() {
        let hub = Hub::new();
        let mut tab1 = hub.subscribe_user(9, viewer());
        let mut tab2 = hub.subscribe_user(9, viewer());
        assert!(tab1.first && !tab2.first);
        hub.notify_user(9, Utf8Bytes::from_static("hi"));
        for tab in [&mut tab1, &mut tab2] {
            match tab.events.recv().await.unwrap() {
                UserFrame::Event(text) => assert_eq!(text.as_str(), "hi"),
                UserFrame::End => panic!("expected an event"),
            }
        }
        drop(tab1);
        assert!(hub.people.lock().unwrap().contains_key(&9));
        drop(tab2);
        assert!(hub.people.lock().unwrap().is_empty());
        hub.notify_user(9, Utf8Bytes::from_static("nobody listens"));
    }

    #[tokio::test]
    async fn messages_reach_the_badges_of_members_with_the_app_open_once_per_flush() {
        let hub = Hub::new();
        let mut ana = hub.subscribe_user(1, viewer());
        let since = hub.unread_position();
        hub.load_person_unread(1, vec![Loaded { room_id: 4, room: "r".into(), count: 2, through: 10 }], since).unwrap();
        for seq in 11..=15 {
            hub.publish_message(4, seq, Some(2), Utf8Bytes::from_static("{}"));
        }
        hub.publish_message(4, 16, Some(1), Utf8Bytes::from_static("{}"));
        hub.flush();
        match ana.events.recv().await.unwrap() {
            UserFrame::Event(text) => {
                let event: UserEvent = serde_json::from_str(text.as_str()).unwrap();
                assert_eq!(event, UserEvent::Unread { room: "r".into(), count: 7 }, "her own message does not count");
            }
            UserFrame::End => panic!("expected an event"),
        }
        assert!(ana.events.try_recv().is_err(), "six messages, one badge update");
        // A deletion asks for a recount, which needs the database.
        let mut reloads = hub.take_reloads().unwrap();
        hub.recount(4);
        assert_eq!(reloads.recv().await, Some(Reload::Room(4)));
    }
}
