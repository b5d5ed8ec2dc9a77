//! Changes to stored messages: edits, deletions and reactions. Each takes its room's next
//! change number (`rooms.last_change`, in the change's transaction, so numbers have no gaps
//! and commit in order, as `seq` does) and stamps it on the message (`change_seq`). A client
//! that was away asks for what changed since the last number it saw: [`Store::changes_after`]
//! gives the current state of each message changed since, in change order. A deleted
//! message keeps its row (emptied) for that and for the replies that quote it.

use app::model::{Reaction, MAX_REACTIONS_PER_MESSAGE};
use sqlx::FromRow;

use super::messages::{members_among, message_columns, StoredMessage};
use super::{now_ms, Conn, Result, Room, Store};

/// Who asks for a change, and what they may do.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: i64,
    /// An admin, or the room's owner: may delete anyone's message.
    pub moderates: bool,
}

/// Why a change was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such message in the room, or it was deleted.
    NoSuchMessage,
    /// Someone else's message.
    NotYours,
    /// The message carries as many different emoji as it may.
    TooManyReactions,
}

/// What a change did.
#[derive(Debug)]
pub enum Changed<T> {
    /// Made, under this change number.
    Made {
        change: i64,
        done: T,
    },
    /// Nothing to do (a reaction that was already there, or already taken back).
    Unchanged,
    Refused(Refused),
}

/// An edit as stored.
#[derive(Debug, Clone)]
pub struct Edited {
    pub edited_at: i64,
    /// The members the new body mentions (lowercased usernames).
    pub mentions: Vec<String>,
}

#[derive(FromRow)]
struct Target {
    id: i64,
    author_id: Option<i64>,
    deleted_at: Option<i64>,
}

/// Takes the room's next change number and the message with `seq` in it, if both exist and
/// the message is not deleted. Taking the number is the transaction's first statement: it
/// locks the room's row (PostgreSQL) or takes SQLite's write lock, so changes in a room
/// happen one at a time and commit in number order. A change that is then not made rolls
/// back, and its number with it.
async fn begin_change(conn: Conn<'_>, room_id: i64, seq: i64) -> Result<Option<(i64, Target)>> {
    on_pool!(conn conn, db => {
        let change: Option<i64> =
            sqlx::query_scalar("UPDATE rooms SET last_change = last_change + 1 WHERE id = $1 RETURNING last_change")
                .bind(room_id)
                .fetch_optional(&mut *db)
                .await?;
        let Some(change) = change else { return Ok(None) };
        let found: Option<Target> =
            sqlx::query_as("SELECT id, author_id, deleted_at FROM messages WHERE room_id = $1 AND seq = $2")
                .bind(room_id)
                .bind(seq)
                .fetch_optional(&mut *db)
                .await?;
        Ok(found.filter(|t| t.deleted_at.is_none()).map(|target| (change, target)))
    })
}

/// Stamps a change number on the message it changed.
async fn stamp(conn: Conn<'_>, message_id: i64, change: i64) -> Result<()> {
    on_pool!(conn conn, db => {
        sqlx::query("UPDATE messages SET change_seq = $1 WHERE id = $2").bind(change).bind(message_id).execute(db).await?;
        Ok(())
    })
}

const CHANGES_AFTER: &str = concat!(
    message_columns!(),
    // `change_seq > 0` said outright, so that the partial index on changed messages is used
    // whatever `$2` is (a planner cannot see that `> $2` implies it).
    "WHERE m.room_id = $1 AND m.change_seq > 0 AND m.change_seq > $2 AND m.seq <= $3 ORDER BY m.change_seq LIMIT $4"
);

impl Store {
    /// The author changes a message's body (already validated); the members it mentions are
    /// worked out again.
    pub async fn edit_message(
        &self,
        room: &Room,
        seq: i64,
        user_id: i64,
        body: &str,
        mentioned: &[String],
    ) -> Result<Changed<Edited>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let Some((change, message)) = begin_change(Conn::from(&mut *tx), room.id, seq).await? else {
                return Ok(Changed::Refused(Refused::NoSuchMessage));
            };
            if message.author_id != Some(user_id) {
                return Ok(Changed::Refused(Refused::NotYours));
            }
            let mentions = members_among(Conn::from(&mut *tx), room.id, mentioned).await?;
            stamp(Conn::from(&mut *tx), message.id, change).await?;
            let edited_at = now_ms();
            sqlx::query("UPDATE messages SET body = $1, edited_at = $2, mentions = $3 WHERE id = $4")
                .bind(body)
                .bind(edited_at)
                .bind(&mentions)
                .bind(message.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            let mentions = mentions.split_whitespace().map(str::to_owned).collect();
            Ok(Changed::Made { change, done: Edited { edited_at, mentions } })
        })
    }

    /// Deletes a message: its author's, or anyone's for a moderator. Its body and reactions
    /// go; its row stays, emptied, so that clients catching up are told and replies can say
    /// it was deleted. Later messages keep their `seq`.
    pub async fn delete_message(&self, room: &Room, seq: i64, by: Actor) -> Result<Changed<()>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let Some((change, message)) = begin_change(Conn::from(&mut *tx), room.id, seq).await? else {
                return Ok(Changed::Refused(Refused::NoSuchMessage));
            };
            if !by.moderates && message.author_id != Some(by.user_id) {
                return Ok(Changed::Refused(Refused::NotYours));
            }
            stamp(Conn::from(&mut *tx), message.id, change).await?;
            sqlx::query("UPDATE messages SET body = '', mentions = '', edited_at = NULL, deleted_at = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(message.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM reactions WHERE message_id = $1").bind(message.id).execute(&mut *tx).await?;
            super::attachments::remove_attachments(Conn::from(&mut *tx), message.id).await?;
            tx.commit().await?;
            Ok(Changed::Made { change, done: () })
        })
    }

    /// Adds (`on`) or takes back a person's reaction; gives the message's reactions after.
    /// Adding one already there, or taking back one that is not, changes nothing.
    pub async fn react(
        &self,
        room: &Room,
        seq: i64,
        user_id: i64,
        emoji: &str,
        on: bool,
    ) -> Result<Changed<Vec<Reaction>>> {
        let made = on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let Some((change, message)) = begin_change(Conn::from(&mut *tx), room.id, seq).await? else {
                return Ok(Changed::Refused(Refused::NoSuchMessage));
            };
            let done = if on {
                let emojis: Vec<String> =
                    sqlx::query_scalar("SELECT DISTINCT emoji FROM reactions WHERE message_id = $1")
                        .bind(message.id)
                        .fetch_all(&mut *tx)
                        .await?;
                if !emojis.iter().any(|e| e == emoji) && emojis.len() >= MAX_REACTIONS_PER_MESSAGE {
                    return Ok(Changed::Refused(Refused::TooManyReactions));
                }
                sqlx::query(
                    "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(message.id)
                .bind(emoji)
                .bind(user_id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
            } else {
                sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
                    .bind(message.id)
                    .bind(emoji)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
            };
            if done.rows_affected() == 0 {
                return Ok(Changed::Unchanged);
            }
            stamp(Conn::from(&mut *tx), message.id, change).await?;
            tx.commit().await?;
            (change, message.id)
        });
        let (change, message_id) = made;
        // Read after the commit: a reaction committed meanwhile has a later change number,
        // and its own event carries the same or a newer list.
        let reactions = self.reactions_of(&[message_id]).await?.remove(&message_id).unwrap_or_default();
        Ok(Changed::Made { change, done: reactions })
    }

    /// The messages with `seq` up to `up_to` changed after change number `since`, in change
    /// order, at most `limit`, each as it is now (deleted ones emptied): what a client that
    /// has messages up to `up_to` and saw changes up to `since` missed.
    pub async fn changes_after(&self, room: &Room, since: i64, up_to: i64, limit: i64) -> Result<Vec<StoredMessage>> {
        let changed = on_pool!(self, db => {
            sqlx::query_as::<_, StoredMessage>(CHANGES_AFTER)
                .bind(room.id)
                .bind(since)
                .bind(up_to)
                .bind(limit)
                .fetch_all(db)
                .await?
        });
        self.with_details(changed).await
    }
}
