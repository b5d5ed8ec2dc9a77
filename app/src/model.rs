//! What server functions return to pages. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

use crate::protocol::ChatMessage;

/// The signed-in person, as the pages show them. Never carries secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// Everything the room page needs for its first render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub name: String,
    pub title: String,
    /// The latest messages, oldest first.
    pub messages: Vec<ChatMessage>,
    pub online: u32,
}

/// How many messages a room page shows when it opens.
pub const ROOM_PAGE_MESSAGES: i64 = 20;
