//! Posting messages and keeping unread counts: the operations that need both the database
//! and the hub. Posting (with files or without) hands the message to the [`Committer`].
//!
//! **Unread counts** are kept in the hub's memory for the people with the app open; the
//! functions here load them from the database when that is needed: a first tab, a read, a
//! join, a deletion, or after the broker was away.

use std::sync::Arc;

use app::domain::{ClientId, MessageBody};

use app::error::AppError;

use super::committer::Post;
pub use super::committer::{PostError, Posted};
use super::throttle;
use crate::files::{Files, Received};
use crate::realtime::hub::{Hub, Reload};
use crate::realtime::unread::{Loaded, Stale};
use crate::state::AppState;
use crate::store::{Room, Store, UnreadCount, User};

fn loaded(count: UnreadCount) -> Loaded {
    Loaded { room_id: count.room_id, room: count.room, count: count.count, through: count.through }
}

/// How often a count is read again when too many messages passed while it was read.
const ATTEMPTS: usize = 3;

/// Stores a message from a member (through the committer, with whatever else is waiting)
/// and sends it to everyone in the room. A message whose client id was stored before is
/// not stored or sent again: the first one is returned as `Again`.
pub async fn post(
    state: &AppState,
    room: &Room,
    author: &User,
    body: &MessageBody,
    client_id: Option<&ClientId>,
    reply_to: Option<i64>,
) -> Result<Posted, PostError> {
    may_post(state, room, author).await?;
    let answer = state
        .committer
        .submit(Arc::new(room.clone()), Arc::new(author.clone()), body.clone(), client_id.cloned(), reply_to)
        .await;
    answer.await.unwrap_or(Err(PostError::RoomGone))
}

/// A member, within the posting rate.
async fn may_post(state: &AppState, room: &Room, author: &User) -> Result<(), PostError> {
    if !state.store.is_member(room.id, author.id).await? {
        return Err(PostError::NotMember);
    }
    state.posting.take(author.id).map_err(|wait| {
        state.metrics.refused("messages");
        PostError::TooFast(wait)
    })
}

/// How many shared files are typed and re-encoded at once: an image takes a core for up to a
/// few seconds, so a burst of uploads queues here instead of starving everything else.
static PREPARING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Posts a message sharing files (received, not yet typed): the checks of [`post`], then the
/// files' own allowance (`FILES_PER_HOUR`), then each is typed by its content and images are
/// re-encoded, and the message with its files is stored in one transaction. On any refusal
/// the received files are removed: nothing is left behind.
pub async fn post_files(
    state: &AppState,
    room: &Room,
    author: &User,
    body: &MessageBody,
    client_id: Option<&ClientId>,
    reply_to: Option<i64>,
    received: Vec<Received>,
) -> Result<Posted, AppError> {
    let checked = async {
        may_post(state, room, author).await?;
        for _ in &received {
            throttle::spend(state, throttle::files_by_key(author.id), state.config.limits.files_per_hour).await?;
        }
        Ok::<_, AppError>(())
    };
    if let Err(error) = checked.await {
        Received::discard_all(received).await;
        return Err(error);
    }
    let mut prepared = Vec::with_capacity(received.len());
    let mut refused = None;
    for file in received {
        if refused.is_some() {
            file.discard().await;
            continue;
        }
        let _turn = PREPARING.acquire().await.map_err(|_| AppError::Internal)?;
        match tokio::task::spawn_blocking(move || file.prepare()).await {
            Ok(Ok(file)) => prepared.push(file),
            Ok(Err(error)) => refused = Some(AppError::Invalid(error.to_string())),
            Err(error) => {
                tracing::error!(%error, "preparing a file failed");
                refused = Some(AppError::Internal);
            }
        }
    }
    if let Some(error) = refused {
        Files::discard(prepared).await;
        return Err(error);
    }
    let post = Post {
        room: Arc::new(room.clone()),
        author: Arc::new(author.clone()),
        body: body.clone(),
        client_id: client_id.cloned(),
        reply_to,
        files: prepared,
    };
    let answer = state.committer.post(post).await;
    Ok(answer.await.unwrap_or(Err(PostError::RoomGone))?)
}

/// Loads a person's counters (their first tab opened here). A failure leaves them without
/// live badges until their next tab; it is logged, not returned.
pub async fn load_unread(store: &Store, hub: &Hub, user_id: i64) {
    for _ in 0..ATTEMPTS {
        let since = hub.unread_position();
        match store.unread_of(user_id).await {
            Ok(counts) => match hub.load_person_unread(user_id, counts.into_iter().map(loaded).collect(), since) {
                Ok(()) => return,
                Err(Stale) => continue,
            },
            Err(error) => {
                tracing::warn!(%error, "could not count unread messages");
                return;
            }
        }
    }
}

/// Marks a room read up to `seq` for a member; every tab and device of theirs learns the new
/// count. Someone previewing a public room has nothing to mark.
pub async fn mark_read(store: &Store, hub: &Hub, room_id: i64, user_id: i64, seq: i64) {
    let since = hub.unread_position();
    match store.mark_read(room_id, user_id, seq).await {
        Ok(Some(count)) => {
            if hub.set_unread(user_id, loaded(count), since).is_err() {
                refresh_member(store, hub, room_id, user_id).await;
            }
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "could not mark a room read"),
    }
}

/// Reads a member's count of a room again and puts it in place everywhere (they joined it).
pub async fn refresh_member(store: &Store, hub: &Hub, room_id: i64, user_id: i64) {
    for _ in 0..ATTEMPTS {
        let since = hub.unread_position();
        match store.unread_for(room_id, &[user_id]).await {
            Ok(counts) => match counts.into_iter().next() {
                Some(count) => {
                    if hub.set_unread(user_id, loaded(count), since).is_ok() {
                        return;
                    }
                }
                None => return,
            },
            Err(error) => {
                tracing::warn!(%error, "could not count unread messages");
                return;
            }
        }
    }
}

/// Recounts a room for its members connected here (a message was deleted).
async fn recount_here(store: &Store, hub: &Hub, room_id: i64) {
    let members = hub.unread_members_of(room_id);
    if members.is_empty() {
        return;
    }
    for _ in 0..ATTEMPTS {
        let since = hub.unread_position();
        match store.unread_for(room_id, &members).await {
            Ok(counts) => {
                let stale = counts
                    .into_iter()
                    .map(|count| hub.load_unread(count.user_id, loaded(count), Some(since)))
                    .any(|loaded| loaded.is_err());
                if !stale {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not recount unread messages");
                return;
            }
        }
    }
}

/// Serves the hub's requests that need the database, for as long as the hub lives.
pub async fn serve_reloads(store: Store, hub: Arc<Hub>) {
    let Some(mut reloads) = hub.take_reloads() else { return };
    while let Some(reload) = reloads.recv().await {
        match reload {
            Reload::Room(room_id) => recount_here(&store, &hub, room_id).await,
            Reload::Everyone => {
                for user_id in hub.unread_people() {
                    load_unread(&store, &hub, user_id).await;
                }
            }
        }
    }
}
