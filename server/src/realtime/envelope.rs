//! What the hub delivers: an [`Envelope`] is one event with where it goes. The hub delivers
//! each envelope to its own sockets and hands the same envelope to the broker, which carries
//! it to the other instances (with Redis); what arrives from them is delivered the same way.

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An event already encoded for the wire. Reference counted: every socket is sent the same
/// bytes, and the broker serialises them as a string without another copy per socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub Utf8Bytes);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(Utf8Bytes::from(String::deserialize(deserializer)?)))
    }
}

impl From<Utf8Bytes> for Text {
    fn from(text: Utf8Bytes) -> Self {
        Self(text)
    }
}

/// One event and where it goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// An event for a room's sockets.
    Room { room_id: i64, text: Text },
    /// A stored message: for the room's sockets, and one more unread message for each of its
    /// members with the app open (but its author).
    Message { room_id: i64, seq: i64, author_id: Option<i64>, text: Text },
    /// A change to a stored message (edit, deletion, reaction), under the room's change
    /// number `change`.
    Change { room_id: i64, change: i64, seq: i64, text: Text },
    /// An event about `user_id` for the others in the room (typing).
    About { room_id: i64, user_id: i64, text: Text },
    /// The room ends for `user_id` (for everyone when `None`).
    Close { room_id: i64, user_id: Option<i64>, text: Text },
    /// An event for a person's own sockets.
    User { user_id: i64, text: Text },
    /// A person's sessions ended: their sockets close everywhere.
    End { user_id: i64 },
    /// The number of distinct people with a room open, on all instances together.
    Count { room_id: i64, count: u32 },
    /// A person opened the app (their first tab anywhere) or closed it (their last). With
    /// their roles, so each instance works out who may see them without the database.
    Presence { user_id: i64, username: String, roles: Vec<String>, online: bool },
    /// A person's unread count of a room is `count`, with every message up to `through`
    /// accounted for (they read it, or joined it: `room` is its name).
    Unread { user_id: i64, room_id: i64, room: String, count: u32, through: i64 },
    /// A person is no longer in a room: their counter goes.
    Left { user_id: i64, room_id: i64 },
    /// A room's messages changed other than by a new one (a deletion): each instance
    /// recounts its own people's unread counts from the database.
    Recount { room_id: i64 },
    /// The sender dropped envelopes (Redis could not keep up): sockets re-read what they may
    /// have missed from the database and counters are recounted.
    Resync,
}
