//! The wire protocol of the room socket (`/ws/chatroom/<name>/`), written once and compiled
//! into both the server and the WASM client. Nothing here builds JSON by hand.

use serde::{Deserialize, Serialize};

/// Frames larger than this close the socket with code 1009 (message too big).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// What a client sends on the room socket: the seed app's own message shape, `{"body": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFrame {
    pub body: String,
}

/// The person who wrote a message, as every client shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub username: String,
    pub display_name: String,
}

/// One stored message. `seq` counts up by one per room, so a client can order messages and
/// tell whether it missed any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub room: String,
    pub seq: i64,
    pub id: i64,
    pub author: Author,
    pub body: String,
    /// RFC 3339, UTC.
    pub created_at: String,
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
}

/// Everything the server sends on the room socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A message was stored in the room (sent to everyone in it, the sender included: that is
    /// the sender's acknowledgement).
    Message(ChatMessage),
    /// The number of distinct people with the room open.
    OnlineCount { room: String, count: u32 },
    /// The last frame from this client was refused; nothing was stored and the socket stays open.
    Error { code: ErrorCode, message: String },
}

impl ServerEvent {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerEvent::Error { code, message: message.into() }
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
            author: Author { username: "ana".into(), display_name: "Ana".into() },
            body: "hello".into(),
            created_at: "2026-11-24T10:00:00.000Z".into(),
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
    fn online_count_and_error_events_have_the_documented_shape() {
        let count = ServerEvent::OnlineCount { room: "public-chat".into(), count: 2 };
        assert_eq!(count.to_json(), r#"{"type":"online_count","room":"public-chat","count":2}"#);
        let error = ServerEvent::error(ErrorCode::BodyTooLong, "too long");
        assert_eq!(
            error.to_json(),
            r#"{"type":"error","code":"body_too_long","message":"too long"}"#
        );
    }

    #[test]
    fn client_frame_is_the_seed_shape() {
        let frame: ClientFrame = serde_json::from_str(r#"{"body":"hi"}"#).unwrap();
        assert_eq!(frame.body, "hi");
        assert!(serde_json::from_str::<ClientFrame>(r#"{"text":"hi"}"#).is_err());
    }
}
