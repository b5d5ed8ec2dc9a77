//! Unread counts of the people with the app open here, kept in memory.
//!
//! A person's counters are loaded from the database once, when their first tab opens; after
//! that a new message costs one increment per member of its room who has the app open here
//! (found through a per-room index), not a query. Counts stay exact without locking the
//! database against new messages while they load:
//!
//! - every counter has a `through`: the room's newest `seq` when it was read from the
//!   database. A message with a `seq` up to `through` is already in the count, so a late
//!   copy of it (from another instance) is ignored;
//! - the last [`RECENT`] messages are remembered here, so a counter loaded from the
//!   database adds the ones stored after its read but published before the counter was
//!   put in place.
//!
//! Counters that changed are marked and sent to the person's tabs in one event per room a
//! little later ([`UnreadBook::take_changed`]), so a busy room costs a badge update per
//! person every flush, not per message.

use std::collections::{HashMap, HashSet, VecDeque};

/// How many recent messages are remembered for counters loading meanwhile.
pub const RECENT: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counter {
    count: u32,
    /// Every message with a `seq` up to this is counted already.
    through: i64,
}

#[derive(Debug, Clone, Copy)]
struct Recent {
    room_id: i64,
    seq: i64,
    author_id: Option<i64>,
}

/// A room's count as read from the database: what a counter is loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub room_id: i64,
    pub room: String,
    pub count: u32,
    /// The room's newest `seq` when the count was read.
    pub through: i64,
}

#[derive(Default)]
pub struct UnreadBook {
    /// Each connected person's counters, by room.
    people: HashMap<i64, HashMap<i64, Counter>>,
    /// Each room's members with the app open here.
    members: HashMap<i64, HashSet<i64>>,
    names: HashMap<i64, String>,
    recent: VecDeque<Recent>,
    /// How many messages were ever remembered (the position of the next one).
    recorded: u64,
    changed: HashSet<(i64, i64)>,
}

/// A counter's load came too late: more than [`RECENT`] messages were published while it was
/// read from the database, so it must be read again.
#[derive(Debug, PartialEq, Eq)]
pub struct Stale;

impl UnreadBook {
    /// Where the record of recent messages stands: taken before reading counts from the
    /// database, and handed back with them.
    pub fn position(&self) -> u64 {
        self.recorded
    }

    /// A message was stored (and is being delivered): one more for each member here but its
    /// author. Cost: one increment per member of the room with the app open here.
    pub fn message(&mut self, room_id: i64, seq: i64, author_id: Option<i64>) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Recent { room_id, seq, author_id });
        self.recorded += 1;
        let Some(members) = self.members.get(&room_id) else { return };
        for user_id in members {
            if Some(*user_id) == author_id {
                continue;
            }
            if let Some(counter) = self.people.get_mut(user_id).and_then(|rooms| rooms.get_mut(&room_id)) {
                if seq > counter.through {
                    counter.count = counter.count.saturating_add(1);
                    self.changed.insert((*user_id, room_id));
                }
            }
        }
    }

    /// Puts in place every counter of a person whose first tab opened, read from the database
    /// when the record stood at `since`.
    pub fn load_person(&mut self, user_id: i64, rooms: Vec<Loaded>, since: u64) -> Result<(), Stale> {
        self.check(since)?;
        self.forget_person(user_id);
        let mut counters = HashMap::with_capacity(rooms.len());
        for loaded in rooms {
            counters.insert(loaded.room_id, Counter { count: loaded.count, through: loaded.through });
            self.members.entry(loaded.room_id).or_default().insert(user_id);
            self.names.insert(loaded.room_id, loaded.room);
        }
        self.replay(user_id, &mut counters, None);
        self.people.insert(user_id, counters);
        Ok(())
    }

    /// Puts one counter in place (the person read the room, joined it, or it was recounted);
    /// marks it changed so their tabs are told. Nothing happens for someone not connected here.
    /// `since` is where the record stood before the database was read (`None`: the count
    /// came from another instance, and is replayed against everything remembered here).
    pub fn load_room(&mut self, user_id: i64, loaded: Loaded, since: Option<u64>) -> Result<(), Stale> {
        if let Some(since) = since {
            self.check(since)?;
        }
        let Some(mut counters) = self.people.remove(&user_id) else { return Ok(()) };
        let room_id = loaded.room_id;
        let previous = counters.get(&room_id).copied();
        if previous.is_some_and(|counter| counter.through > loaded.through) {
            // A newer count is in place already (two loads crossed).
            self.people.insert(user_id, counters);
            return Ok(());
        }
        counters.insert(room_id, Counter { count: loaded.count, through: loaded.through });
        self.members.entry(room_id).or_default().insert(user_id);
        self.names.insert(room_id, loaded.room);
        self.replay(user_id, &mut counters, Some(room_id));
        // Their tabs are told of a count they had before (even unchanged: they read the room
        // and wait for it), and of a new room's only when something is unread there.
        let now = counters.get(&room_id).map_or(0, |counter| counter.count);
        if previous.is_some() || now > 0 {
            self.changed.insert((user_id, room_id));
        }
        self.people.insert(user_id, counters);
        Ok(())
    }

    /// The person left the room (or was removed, or it was deleted).
    pub fn leave_room(&mut self, user_id: i64, room_id: i64) {
        if let Some(rooms) = self.people.get_mut(&user_id) {
            rooms.remove(&room_id);
        }
        self.forget_member(room_id, user_id);
        self.changed.remove(&(user_id, room_id));
    }

    /// The person's last tab closed.
    pub fn forget_person(&mut self, user_id: i64) {
        if let Some(rooms) = self.people.remove(&user_id) {
            for room_id in rooms.keys() {
                self.forget_member(*room_id, user_id);
                self.changed.remove(&(user_id, *room_id));
            }
        }
    }

    /// The people connected here who are members of `room_id`.
    pub fn members_of(&self, room_id: i64) -> Vec<i64> {
        self.members.get(&room_id).map_or_else(Vec::new, |members| members.iter().copied().collect())
    }

    /// The rooms with a member whose counters are kept here.
    pub fn rooms(&self) -> Vec<i64> {
        self.members.keys().copied().collect()
    }

    /// The people whose counters are kept here.
    pub fn people(&self) -> Vec<i64> {
        self.people.keys().copied().collect()
    }

    pub fn count(&self, user_id: i64, room_id: i64) -> Option<u32> {
        self.people.get(&user_id)?.get(&room_id).map(|counter| counter.count)
    }

    /// The counters that changed since last asked: (person, room name, count).
    pub fn take_changed(&mut self) -> Vec<(i64, String, u32)> {
        let changed = std::mem::take(&mut self.changed);
        changed
            .into_iter()
            .filter_map(|(user_id, room_id)| {
                let count = self.count(user_id, room_id)?;
                Some((user_id, self.names.get(&room_id)?.clone(), count))
            })
            .collect()
    }

    fn check(&self, since: u64) -> Result<(), Stale> {
        if self.recorded - since > self.recent.len() as u64 {
            Err(Stale)
        } else {
            Ok(())
        }
    }

    /// Adds the remembered messages a freshly loaded counter does not include yet.
    fn replay(&self, user_id: i64, counters: &mut HashMap<i64, Counter>, only: Option<i64>) {
        for recent in &self.recent {
            if only.is_some_and(|room_id| room_id != recent.room_id) || recent.author_id == Some(user_id) {
                continue;
            }
            if let Some(counter) = counters.get_mut(&recent.room_id) {
                if recent.seq > counter.through {
                    counter.count = counter.count.saturating_add(1);
                }
            }
        }
    }

    fn forget_member(&mut self, room_id: i64, user_id: i64) {
        if let Some(members) = self.members.get_mut(&room_id) {
            members.remove(&user_id);
            if members.is_empty() {
                self.members.remove(&room_id);
                self.names.remove(&room_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(room_id: i64, count: u32, through: i64) -> Loaded {
        Loaded { room_id, room: format!("r{room_id}"), count, through }
    }

    #[test]
    fn a_message_counts_for_every_member_here_but_its_author() {
        let mut book = UnreadBook::default();
        book.load_person(1, vec![loaded(7, 0, 10)], book.position()).unwrap();
        book.load_person(2, vec![loaded(7, 3, 10)], book.position()).unwrap();
        book.message(7, 11, Some(1));
        assert_eq!((book.count(1, 7), book.count(2, 7)), (Some(0), Some(4)));
        let changed = book.take_changed();
        assert_eq!(changed, vec![(2, "r7".to_owned(), 4)]);
        assert!(book.take_changed().is_empty(), "told once");
        // A message in a room nobody here is in costs nothing and counts for nobody.
        book.message(8, 1, Some(3));
        assert!(book.take_changed().is_empty());
    }

    #[test]
    fn a_count_read_while_messages_arrive_is_exact() {
        let mut book = UnreadBook::default();
        let since = book.position();
        // Stored before the count was read (so in it), published while it was read:
        book.message(7, 5, Some(9));
        // Stored after the count was read:
        book.message(7, 6, Some(9));
        // The database said 2, with the room at seq 5.
        book.load_person(1, vec![loaded(7, 2, 5)], since).unwrap();
        assert_eq!(book.count(1, 7), Some(3), "5 is in the count, 6 is added");
        // A late copy of an old message (from another instance) is not counted again.
        book.message(7, 4, Some(9));
        assert_eq!(book.count(1, 7), Some(3));
        book.message(7, 7, None);
        assert_eq!(book.count(1, 7), Some(4), "a deleted account's message counts too");
    }

    #[test]
    fn reading_a_room_replaces_its_count_and_tells_the_tabs() {
        let mut book = UnreadBook::default();
        book.load_person(1, vec![loaded(7, 4, 20)], book.position()).unwrap();
        let since = book.position();
        book.message(7, 21, Some(2));
        // Read up to 20 (the database counted 0 with the room at 20): 21 still counts.
        book.load_room(1, loaded(7, 0, 20), Some(since)).unwrap();
        assert_eq!(book.count(1, 7), Some(1));
        assert_eq!(book.take_changed(), vec![(1, "r7".to_owned(), 1)]);
        // An older load arriving late changes nothing.
        book.load_room(1, loaded(7, 9, 15), Some(since)).unwrap();
        assert_eq!(book.count(1, 7), Some(1));
    }

    #[test]
    fn a_load_that_missed_too_many_messages_is_refused() {
        let mut book = UnreadBook::default();
        let since = book.position();
        for seq in 0..(RECENT as i64 + 1) {
            book.message(7, seq, None);
        }
        assert_eq!(book.load_person(1, vec![loaded(7, 0, 0)], since), Err(Stale));
        assert!(book.load_person(1, vec![loaded(7, 0, 0)], book.position()).is_ok());
    }

    #[test]
    fn leaving_forgets_the_counter_and_the_member() {
        let mut book = UnreadBook::default();
        book.load_person(1, vec![loaded(7, 0, 0), loaded(8, 0, 0)], 0).unwrap();
        book.leave_room(1, 7);
        book.message(7, 1, None);
        assert_eq!(book.count(1, 7), None);
        assert!(book.members_of(7).is_empty());
        book.forget_person(1);
        assert!(book.members_of(8).is_empty());
        assert!(book.people().is_empty());
    }
}
