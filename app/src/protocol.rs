//! The wire protocol of the two sockets, written once and compiled into both the server and
//! the WASM client: the room socket (`/ws/chatroom/<name>/`, [`ServerEvent`]) and each
//! person's own socket (`/ws/chat/`, [`UserEvent`]). Nothing here builds JSON by hand. The
//! payloads that are also page data (messages, their authors, room summaries) are defined in
//! `model`, which never imports this module.

use serde::{Deserialize, Serialize};

use crate::domain::{Email, Role, Username};
use crate::model::RoomSummary;
pub use crate::model::{Author, ChatMessage, Quote, Reaction};

/// Frames larger than this close the socket with code 1009 (message too big).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// What a client sends on the room socket: the seed app's own message shape, `{"body": "..."}`,
/// optionally naming the message with a `client_id` of its choosing
/// ([`crate::domain::ClientId`]): a message resent under the same id is stored once. A reply
/// names the `seq` of the message it answers in `reply_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFrame {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
}

/// What a client may send besides messages: `{"type":"ping"}` on either socket, answered with
/// `{"type":"pong"}`, and `{"type":"read","seq":N}` on a room socket. Browsers cannot see WebSocket-level pings, so this is how a page finds out
/// that its connection died without a close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientControl {
    Ping,
    /// On a room socket: this person has read the room up to `seq` (sent by a page open in a
    /// visible, focused tab).
    Read {
        seq: i64,
    },
    /// On a room socket: this person is typing (pages send it at most every 3 seconds while
    /// keys are pressed).
    Typing,
    /// On a room socket: the author changes their message's body (validated like a post).
    Edit {
        seq: i64,
        body: String,
    },
    /// On a room socket: deletes a message (its author's, or any for the room's owner and
    /// admins).
    Delete {
        seq: i64,
    },
    /// On a room socket: adds (`on`) or takes back this person's reaction with `emoji`.
    /// Idempotent: adding twice leaves one reaction.
    React {
        seq: i64,
        emoji: String,
        on: bool,
    },
}

impl ClientControl {
    /// A control frame, if the text is one.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// Whether a text frame is a ping.
    pub fn is_ping(text: &str) -> bool {
        matches!(Self::parse(text), Some(ClientControl::Ping))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("control frames always serialise")
    }
}

/// Machine-readable error codes sent in `{"type":"error"}` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not the JSON object `{"body": "..."}`.
    MalformedFrame,
    /// The body was empty after trimming.
    EmptyBody,
    /// The body was longer than [`crate::domain::MessageBody::MAX_CHARS`] characters.
    BodyTooLong,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// The message could not be stored; nothing was sent. Safe to retry.
    Unavailable,
    /// Someone previewing a public room tried to post: join the room first.
    NotMember,
    /// This person sent messages faster than the limit: nothing was stored; send it again
    /// after `retry_after_ms`.
    RateLimited,
    /// Someone else's message cannot be edited, or deleted by anyone but its author, the
    /// room's owner or an admin.
    NotYours,
    /// No message with that `seq` in this room (or it was deleted).
    NoSuchMessage,
    /// A reaction must be one emoji.
    BadEmoji,
    /// The message has as many different emoji as it may carry: react with one already on it.
    TooManyReactions,
}

/// Why a room socket was closed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedReason {
    /// The owner deleted the room, with its messages.
    Deleted,
    /// This person was removed from the room, or left it.
    Removed,
}

/// Everything the server sends on the room socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Built once per event and encoded at once, never held in bulk (on wasm32 the lint does not fire).
#[allow(clippy::large_enum_variant)]
pub enum ServerEvent {
    /// A message was stored in the room (sent to everyone in it, the sender included: that is
    /// the sender's acknowledgement).
    Message(ChatMessage),
    /// The number of distinct people with the room open.
    OnlineCount { room: String, count: u32 },
    /// The last frame from this client was refused; nothing was stored and the socket stays open.
    /// A refused message names its `client_id`; `rate_limited` says when to send it again.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// The owner gave the room a new title (its URL stays the same).
    RoomRenamed { room: String, title: String },
    /// This socket's person can no longer see the room; the server closes the socket next.
    RoomClosed { room: String, reason: ClosedReason },
    /// The message with this `seq` was deleted (by its author, the room's owner or an
    /// admin): pages remove it, and replies to it say so. `change` is the room's change
    /// number this took (see `MessageEdited`).
    MessageDeleted {
        room: String,
        seq: i64,
        #[serde(default)]
        change: i64,
    },
    /// The author edited the message with this `seq`. Every change to a room's messages
    /// (edit, deletion, reaction) takes the room's next `change` number: a socket resuming
    /// with `?since=<the last change seen>` is first sent the current state of each message
    /// changed since.
    MessageEdited {
        room: String,
        seq: i64,
        body: String,
        /// RFC 3339, UTC.
        edited_at: String,
        /// The room's members the new body mentions.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<String>,
        change: i64,
    },
    /// The reactions of the message with this `seq` are now these (all of them).
    Reactions { room: String, seq: i64, reactions: Vec<Reaction>, change: i64 },
    /// Someone in the room is typing; shown for 5 seconds unless repeated, and cleared when
    /// their message arrives. Not sent to the typist's own sockets.
    Typing { room: String, author: Author },
    /// The answer to a client's `{"type":"ping"}`.
    Pong,
}

/// Everything the server sends on a person's own socket, `/ws/chat/` (one per tab): what is
/// not about the room on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Built once per event and encoded at once, never held in bulk (on wasm32 the lint does not fire).
#[allow(clippy::large_enum_variant)]
pub enum UserEvent {
    /// Someone started a one-to-one chat with this person or added them to a room (or they
    /// joined or created one in another tab): the sidebar gains it.
    RoomAdded { room: RoomSummary },
    /// The person left or was removed from a room, or it was deleted: the sidebar loses it.
    RoomRemoved { room: String },
    /// The owner renamed a room this person is in: the sidebar shows the new name.
    RoomRenamed { room: String, title: String },
    /// The number of messages by others this person has not read in a room changed: a new
    /// message arrived, or they read the room (on any tab or device).
    Unread { room: String, count: u32 },
    /// People this person may see in the directory opened the app (their first tab) or
    /// closed it (their last). Changes are gathered for a moment and sent together, so a
    /// thousand people arriving cost each viewer a few events, not a thousand.
    Presence { online: Vec<String>, offline: Vec<String> },
    /// A message worth a notification when the app is not in view: one in a private chat
    /// with this person, or one that mentions them (`@username`, `mention` true). `title` is
    /// the room as this person knows it.
    Notify { title: String, message: ChatMessage, mention: bool },
    /// The answer to a client's `{"type":"ping"}`.
    Pong,
    /// A frame from the client was refused; the socket stays open.
    Error { code: ErrorCode, message: String },
    /// The answer to a provisioning frame (`{"type":"all_users",…}`) on a socket opened
    /// with a provisioning token.
    SyncResult(SyncReport),
}

/// What another system sends to provision people: the body of `POST /api/admin/users/sync`,
/// or a frame on `/ws/chat/` opened with `Authorization: Bearer <token>`. The seed's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProvisioningRequest {
    /// Everyone the other system knows: the missing are created, the others get this role.
    AllUsers { users: Vec<ProvisionedUser> },
}

/// One person in a sync. Fields besides these are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedUser {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    pub role: String,
}

/// The most people one sync may list.
pub const MAX_SYNC_USERS: usize = 10_000;

/// What a sync did, person by person (the answer of the HTTP endpoint, and the body of the
/// socket's `sync_result` event).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub created: Vec<CreatedPerson>,
    pub updated: Vec<UpdatedPerson>,
    /// Usernames that already had exactly that role.
    pub unchanged: Vec<String>,
    pub rejected: Vec<RejectedPerson>,
}

/// Someone created by a sync. They have no password: the one-time link lets them set one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPerson {
    pub username: String,
    pub set_password_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatedPerson {
    pub username: String,
    pub roles: Vec<String>,
}

/// An entry left alone, with why; `index` is its place in `users` (from 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPerson {
    pub index: usize,
    pub username: String,
    pub reason: String,
}

/// A sync's entry that can be applied: its index in `users`, and the person validated.
pub type CheckedPerson = (usize, (Username, Option<Email>, Role));

impl ProvisioningRequest {
    /// Sorts a sync's entries into those that can be applied and those left alone, each with
    /// the reason: every entry is one or the other, and a username (ignoring case) counts once.
    pub fn check(&self) -> (Vec<CheckedPerson>, Vec<RejectedPerson>) {
        let ProvisioningRequest::AllUsers { users } = self;
        let mut seen = std::collections::HashSet::new();
        let (mut valid, mut rejected) = (Vec::new(), Vec::new());
        for (index, entry) in users.iter().enumerate() {
            let checked = (|| {
                let username = Username::parse(&entry.username)?;
                let email = Email::parse_optional(entry.email.as_deref().unwrap_or_default())?;
                let role = Role::parse(&entry.role)?;
                if !seen.insert(username.as_str().to_lowercase()) {
                    return Err("listed more than once in this sync: only the first entry counts".to_owned());
                }
                Ok((username, email, role))
            })();
            match checked {
                Ok(entry) => valid.push((index, entry)),
                Err(reason) => rejected.push(RejectedPerson { index, username: entry.username.clone(), reason }),
            }
        }
        (valid, rejected)
    }
}

impl UserEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("user events always serialise")
    }
}

impl ServerEvent {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerEvent::Error { code, message: message.into(), retry_after_ms: None, client_id: None }
    }

    /// A message refused for coming too fast: `client_id` is sent again after `wait`.
    pub fn slow_down(wait: std::time::Duration, client_id: Option<String>) -> Self {
        let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        ServerEvent::Error {
            code: ErrorCode::RateLimited,
            message: "slow down: you are sending messages faster than this chat takes them".into(),
            retry_after_ms: Some(retry_after_ms),
            client_id,
        }
    }

    /// The JSON text sent over the socket.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail (no maps with non-string keys, no
        // custom serialisers); a failure would be a programming error caught by the tests.
        serde_json::to_string(self).expect("server events always serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_event_has_the_documented_shape() {
        let event = ServerEvent::Message(ChatMessage {
            room: "public-chat".into(),
            seq: 17,
            id: 42,
            author: Author { username: "ana".into(), display_name: "Ana".into(), avatar: None },
            body: "hello".into(),
            created_at: "2026-11-24T10:00:00.000Z".into(),
            ..Default::default()
        });
        let value: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "type": "message", "room": "public-chat", "seq": 17, "id": 42,
                "author": {"username": "ana", "display_name": "Ana"},
                "body": "hello", "created_at": "2026-11-24T10:00:00.000Z"
            })
        );
    }

    #[test]
    fn change_events_and_frames_have_the_documented_shape() {
        let edited = ServerEvent::MessageEdited {
            room: "r".into(),
            seq: 3,
            body: "fixed".into(),
            edited_at: "2026-12-02T10:00:00.000Z".into(),
            mentions: vec![],
            change: 7,
        };
        assert_eq!(
            edited.to_json(),
            r#"{"type":"message_edited","room":"r","seq":3,"body":"fixed","edited_at":"2026-12-02T10:00:00.000Z","change":7}"#
        );
        let reactions = ServerEvent::Reactions {
            room: "r".into(),
            seq: 3,
            reactions: vec![Reaction { emoji: "👍".into(), count: 2, people: vec!["ana".into(), "bob".into()] }],
            change: 8,
        };
        assert_eq!(
            reactions.to_json(),
            r#"{"type":"reactions","room":"r","seq":3,"reactions":[{"emoji":"👍","count":2,"people":["ana","bob"]}],"change":8}"#
        );
        let deleted: ServerEvent = serde_json::from_str(r#"{"type":"message_deleted","room":"r","seq":3}"#).unwrap();
        assert_eq!(deleted, ServerEvent::MessageDeleted { room: "r".into(), seq: 3, change: 0 });
        assert_eq!(
            ClientControl::parse(r#"{"type":"react","seq":3,"emoji":"👍","on":true}"#),
            Some(ClientControl::React { seq: 3, emoji: "👍".into(), on: true })
        );
        assert_eq!(
            ClientControl::parse(r#"{"type":"edit","seq":3,"body":"x"}"#),
            Some(ClientControl::Edit { seq: 3, body: "x".into() })
        );
        assert_eq!(ClientControl::parse(r#"{"type":"delete","seq":3}"#), Some(ClientControl::Delete { seq: 3 }));
        let reply: ClientFrame = serde_json::from_str(r#"{"body":"yes","reply_to":3}"#).unwrap();
        assert_eq!(reply.reply_to, Some(3));
    }

    #[test]
    fn online_count_and_error_events_have_the_documented_shape() {
        let count = ServerEvent::OnlineCount { room: "public-chat".into(), count: 2 };
        assert_eq!(count.to_json(), r#"{"type":"online_count","room":"public-chat","count":2}"#);
        let error = ServerEvent::error(ErrorCode::BodyTooLong, "too long");
        assert_eq!(error.to_json(), r#"{"type":"error","code":"body_too_long","message":"too long"}"#);
    }

    #[test]
    fn client_frame_is_the_seed_shape() {
        let frame: ClientFrame = serde_json::from_str(r#"{"body":"hi"}"#).unwrap();
        assert_eq!(frame.body, "hi");
        assert!(serde_json::from_str::<ClientFrame>(r#"{"text":"hi"}"#).is_err());
    }

    #[test]
    fn room_and_user_events_have_the_documented_shape() {
        let closed = ServerEvent::RoomClosed { room: "rent".into(), reason: ClosedReason::Deleted };
        assert_eq!(closed.to_json(), r#"{"type":"room_closed","room":"rent","reason":"deleted"}"#);
        let renamed = ServerEvent::RoomRenamed { room: "rent".into(), title: "Rent!".into() };
        assert_eq!(renamed.to_json(), r#"{"type":"room_renamed","room":"rent","title":"Rent!"}"#);
        let added = UserEvent::RoomAdded {
            room: RoomSummary {
                name: "rent".into(),
                title: "Rent".into(),
                kind: crate::model::RoomKind::Private,
                other: None,
                unread: 0,
            },
        };
        assert_eq!(
            added.to_json(),
            r#"{"type":"room_added","room":{"name":"rent","title":"Rent","kind":"private","other":null,"unread":0}}"#
        );
        assert_eq!(
            UserEvent::Unread { room: "rent".into(), count: 3 }.to_json(),
            r#"{"type":"unread","room":"rent","count":3}"#
        );
        assert_eq!(UserEvent::Pong.to_json(), r#"{"type":"pong"}"#);
        assert_eq!(ClientControl::parse(r#"{"type":"read","seq":7}"#), Some(ClientControl::Read { seq: 7 }));
        assert!(ClientControl::is_ping(r#"{"type":"ping"}"#));
        assert_eq!(ClientControl::parse(r#"{"body":"hi"}"#), None);
        assert_eq!(
            UserEvent::RoomRemoved { room: "rent".into() }.to_json(),
            r#"{"type":"room_removed","room":"rent"}"#
        );
    }

    #[test]
    fn the_frames_a_page_sends_are_the_ones_the_server_reads() {
        assert_eq!(ClientControl::Ping.to_json(), r#"{"type":"ping"}"#);
        assert_eq!(ClientControl::Typing.to_json(), r#"{"type":"typing"}"#);
        assert_eq!(ClientControl::Read { seq: 42 }.to_json(), r#"{"type":"read","seq":42}"#);
        for control in [ClientControl::Ping, ClientControl::Typing, ClientControl::Read { seq: 42 }] {
            assert_eq!(ClientControl::parse(&control.to_json()), Some(control));
        }
    }
}

/// What a notification shows, the same whether a page makes it (from [`UserEvent::Notify`])
/// or the service worker does (from a Web Push, whose payload is this in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The page a click opens: the room, at the message.
    pub url: String,
    /// One notification per room: a newer one replaces the older (and a page's and a push's
    /// for the same message are one).
    pub tag: String,
}

/// The most characters of a message a notification shows.
const NOTICE_CHARS: usize = 300;

impl Notice {
    pub fn new(title: &str, message: &ChatMessage, mention: bool) -> Self {
        let summary: String = message.summary().chars().take(NOTICE_CHARS).collect();
        let body = if mention { format!("{} mentioned you: {summary}", message.author.display_name) } else { summary };
        Self {
            title: title.to_owned(),
            body,
            url: crate::url::room_at(&message.room, message.seq),
            tag: message.room.clone(),
        }
    }
}
