//! What the hub counts and gathers: presence, unread counters, online counts, and the flush
//! that sends what changed once per person and room (or per viewer) every [`FLUSH_EVERY`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use app::protocol::{ServerEvent, UserEvent};
use axum::extract::ws::Utf8Bytes;

use super::channels::{Frame, RoomChannel, UserFrame};
use super::{encode, Hub, Reload, FLUSH_EVERY};
use crate::realtime::envelope::Envelope;
use crate::realtime::presence::Viewer;
use crate::realtime::unread::{Loaded, Stale};

impl Hub {
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
}
