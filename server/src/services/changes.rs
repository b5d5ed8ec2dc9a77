//! Changing stored messages: the author edits, the author (or the room's owner, or an admin)
//! deletes, any member reacts. Each change is stored under the room's next change number
//! (`store::changes`) and then published as one event carrying that number, which is also
//! the acknowledgement for the socket that asked. The room socket and the server functions
//! both come here, with values already validated.

use std::time::Duration;

use app::domain::{Emoji, MessageBody};
use app::protocol::{ErrorCode, ServerEvent};

use crate::realtime::hub;
use crate::state::AppState;
use crate::store::{rfc3339, Actor, Changed, Refused, Room, StoreError, User};

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("join the room to do that")]
    NotMember,
    #[error("that message does not exist, or was deleted")]
    NoSuchMessage,
    #[error("only its author can do that to a message")]
    NotYours,
    #[error("only its author, the room's owner or an admin can delete a message")]
    NotYoursToDelete,
    #[error("this message has as many different reactions as it can take: add one of those")]
    TooManyReactions,
    #[error("slow down")]
    TooFast(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ChangeError {
    /// The error event a socket is sent.
    pub fn event(&self) -> ServerEvent {
        let code = match self {
            ChangeError::NotMember => ErrorCode::NotMember,
            ChangeError::NoSuchMessage => ErrorCode::NoSuchMessage,
            ChangeError::NotYours | ChangeError::NotYoursToDelete => ErrorCode::NotYours,
            ChangeError::TooManyReactions => ErrorCode::TooManyReactions,
            ChangeError::TooFast(wait) => return ServerEvent::slow_down(*wait, None),
            ChangeError::Store(error) => {
                tracing::error!(%error, "could not change a message");
                return ServerEvent::error(ErrorCode::Unavailable, "that did not work: please try again");
            }
        };
        ServerEvent::error(code, self.to_string())
    }
}

fn refused(refused: Refused, deleting: bool) -> ChangeError {
    match refused {
        Refused::NoSuchMessage => ChangeError::NoSuchMessage,
        Refused::NotYours if deleting => ChangeError::NotYoursToDelete,
        Refused::NotYours => ChangeError::NotYours,
        Refused::TooManyReactions => ChangeError::TooManyReactions,
    }
}

/// Whether `user` may delete anyone's message in `room`.
pub fn moderates(room: &Room, user: &User) -> bool {
    user.is_admin || room.owner_id == Some(user.id)
}

async fn require_member(state: &AppState, room: &Room, user: &User, known_member: bool) -> Result<(), ChangeError> {
    if known_member || state.store.is_member(room.id, user.id).await? {
        Ok(())
    } else {
        Err(ChangeError::NotMember)
    }
}

fn spend_post(state: &AppState, user: &User) -> Result<(), ChangeError> {
    state.posting.take(user.id).map_err(|wait| {
        state.metrics.refused("messages");
        ChangeError::TooFast(wait)
    })
}

/// The author gives their message a new body; the room sees `message_edited`.
pub async fn edit(
    state: &AppState,
    room: &Room,
    user: &User,
    known_member: bool,
    seq: i64,
    body: &MessageBody,
) -> Result<(), ChangeError> {
    require_member(state, room, user, known_member).await?;
    spend_post(state, user)?;
    let mentioned = app::domain::mentions(body.as_str());
    match state.store.edit_message(room, seq, user.id, body.as_str(), &mentioned).await? {
        Changed::Made { change, done } => {
            let event = ServerEvent::MessageEdited {
                room: room.name.clone(),
                seq,
                body: body.as_str().to_owned(),
                edited_at: rfc3339(done.edited_at),
                mentions: done.mentions,
                change,
            };
            state.hub.publish_change(room.id, change, seq, hub::encode(&event));
            Ok(())
        }
        Changed::Unchanged => Ok(()),
        Changed::Refused(why) => Err(refused(why, false)),
    }
}

/// Deletes a message (its author's, or any for the room's owner and admins); the room sees
/// `message_deleted`, and unread counts are worked out again.
pub async fn delete(state: &AppState, room: &Room, user: &User, seq: i64) -> Result<(), ChangeError> {
    spend_post(state, user)?;
    let actor = Actor { user_id: user.id, moderates: moderates(room, user) };
    match state.store.delete_message(room, seq, actor).await? {
        Changed::Made { change, .. } => {
            tracing::info!(room = %room.name, seq, by = %user.username, "message deleted");
            let event = ServerEvent::MessageDeleted { room: room.name.clone(), seq, change };
            state.hub.publish_change(room.id, change, seq, hub::encode(&event));
            // Unread counts change too, for people on every instance.
            state.hub.recount(room.id);
            // Its files go with it, unless another message shares them.
            let (files, store) = (state.files.clone(), state.store.clone());
            tokio::spawn(async move { files.sweep(&store).await });
            Ok(())
        }
        Changed::Unchanged => Ok(()),
        Changed::Refused(why) => Err(refused(why, true)),
    }
}

/// Adds or takes back a member's reaction; the room sees the message's `reactions`. Doing
/// what is already done changes nothing and sends nothing.
pub async fn react(
    state: &AppState,
    room: &Room,
    user: &User,
    known_member: bool,
    seq: i64,
    emoji: &Emoji,
    on: bool,
) -> Result<(), ChangeError> {
    require_member(state, room, user, known_member).await?;
    state.frames.take(user.id).map_err(|wait| {
        state.metrics.refused("frames");
        ChangeError::TooFast(wait)
    })?;
    match state.store.react(room, seq, user.id, emoji.as_str(), on).await? {
        Changed::Made { change, done } => {
            let event = ServerEvent::Reactions { room: room.name.clone(), seq, reactions: done, change };
            state.hub.publish_change(room.id, change, seq, hub::encode(&event));
            Ok(())
        }
        Changed::Unchanged => Ok(()),
        Changed::Refused(why) => Err(refused(why, false)),
    }
}
