//! Validated values. Each newtype's `parse` is its only constructor, so holding one means the
//! value was checked; the messages are the ones people see, and say what to do.
//!
//! `people` (Username, Password, Email, Role, DisplayName, Bio), `rooms` (RoomName, RoomTitle,
//! Visibility), `messages` (MessageBody, ClientId, Emoji, mentions), `search` (SearchQuery), `theme` (Theme), `push` (PushSubscription). They use nothing else of the app.

mod messages;
mod people;
mod push;
mod rooms;
mod search;
mod theme;

pub use messages::{mentions, BodyError, ClientId, Emoji, MessageBody, REACTION_PALETTE};
pub use people::{Bio, DisplayName, Email, Password, Role, Username};
pub use push::PushSubscription;
pub use rooms::{RoomName, RoomTitle, Visibility};
pub use search::{Day, SearchQuery};
pub use theme::Theme;
