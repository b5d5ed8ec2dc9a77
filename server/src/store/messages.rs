//! Messages: storing a batch in one transaction (each with its room's next `seq`, a resend
//! under a known client id stored once), keyset history before and after a `seq`, deleting one.

use app::model::{shown_name, DELETED_USER};
use app::protocol::{Author, ChatMessage};
use sqlx::FromRow;

use super::{now_ms, Result, Room, Store};

/// A message row joined with its author.
#[derive(Debug, Clone, FromRow)]
pub struct StoredMessage {
    pub id: i64,
    pub seq: i64,
    pub body: String,
    pub created_at: i64,
    pub author_username: Option<String>,
    pub author_display_name: Option<String>,
    pub author_avatar: Option<String>,
    pub client_id: Option<String>,
}

/// A message to store.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub author_id: i64,
    pub body: &'a str,
    pub client_id: Option<&'a str>,
}

/// What storing a message did: stored it now, or found it stored already under its client id,
/// or found no such room (deleted meanwhile).
#[derive(Debug)]
pub enum Inserted {
    New(StoredMessage),
    Again(StoredMessage),
    Gone,
}

impl StoredMessage {
    pub fn into_wire(self, room: &str) -> ChatMessage {
        // A deleted account's messages stay, without an author.
        let username = self.author_username.unwrap_or_default();
        let display_name = match username.is_empty() {
            true => DELETED_USER.to_owned(),
            false => shown_name(&username, self.author_display_name.as_deref()),
        };
        ChatMessage {
            room: room.to_owned(),
            seq: self.seq,
            id: self.id,
            author: Author { username, display_name, avatar: self.author_avatar.as_deref().map(app::url::avatar) },
            body: self.body,
            created_at: rfc3339(self.created_at),
            client_id: self.client_id,
        }
    }
}

/// The columns a `StoredMessage` is read from (a macro, so queries can be `concat!`ed).
macro_rules! message_columns {
    () => {
        "SELECT m.id, m.seq, m.body, m.created_at, u.username AS author_username, \
         u.display_name AS author_display_name, u.avatar AS author_avatar, m.client_id \
         FROM messages m LEFT JOIN users u ON u.id = m.author_id "
    };
}

const MESSAGES_BEFORE: &str =
    concat!(message_columns!(), "WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3");
const MESSAGES_AFTER: &str = concat!(message_columns!(), "WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3");
const MESSAGE_BY_CLIENT_ID: &str =
    concat!(message_columns!(), "WHERE m.room_id = $1 AND m.author_id = $2 AND m.client_id = $3");

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Stores messages, each under its room's next `seq`, in one transaction: one commit (and
    /// one fsync) for all of them. Taking each seq and inserting happen in that transaction,
    /// so `seq` has no gaps and no repeats whatever the concurrency, on either database (the
    /// room's row stays locked from its seq being taken until the commit). The outcome of each
    /// message, in order. An error fails them all: nothing was stored.
    pub async fn insert_messages(&self, messages: &[NewMessage<'_>]) -> Result<Vec<Inserted>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let mut outcomes = Vec::with_capacity(messages.len());
            // Authors as read in this transaction (a batch often holds several from one).
            let mut authors: std::collections::HashMap<i64, (String, Option<String>, Option<String>)> =
                std::collections::HashMap::new();
            for message in messages {
                let seq: Option<i64> =
                    sqlx::query_scalar("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
                        .bind(message.room_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(seq) = seq else {
                    outcomes.push(Inserted::Gone);
                    continue;
                };
                let created_at = now_ms();
                // A client id met before means a resend: the unique index refuses the row, the
                // seq taken above is given back, and the first message stands.
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO messages (room_id, seq, author_id, body, created_at, client_id) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (room_id, author_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING id",
                )
                .bind(message.room_id)
                .bind(seq)
                .bind(message.author_id)
                .bind(message.body)
                .bind(created_at)
                .bind(message.client_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else {
                    sqlx::query("UPDATE rooms SET last_seq = last_seq - 1 WHERE id = $1")
                        .bind(message.room_id)
                        .execute(&mut *tx)
                        .await?;
                    let stored = sqlx::query_as::<_, StoredMessage>(MESSAGE_BY_CLIENT_ID)
                        .bind(message.room_id)
                        .bind(message.author_id)
                        .bind(message.client_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    outcomes.push(Inserted::Again(stored));
                    continue;
                };
                let author = match authors.get(&message.author_id) {
                    Some(author) => author.clone(),
                    None => {
                        let author: (String, Option<String>, Option<String>) =
                            sqlx::query_as("SELECT username, display_name, avatar FROM users WHERE id = $1")
                                .bind(message.author_id)
                                .fetch_one(&mut *tx)
                                .await?;
                        authors.insert(message.author_id, author.clone());
                        author
                    }
                };
                let (author_username, author_display_name, author_avatar) = author;
                outcomes.push(Inserted::New(StoredMessage {
                    id,
                    seq,
                    body: message.body.to_owned(),
                    created_at,
                    author_username: Some(author_username),
                    author_display_name,
                    author_avatar,
                    client_id: message.client_id.map(str::to_owned),
                }));
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }

    /// Stores one message (see [`Store::insert_messages`]).
    pub async fn insert_message(
        &self,
        room: &Room,
        author_id: i64,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<Inserted> {
        let message = NewMessage { room_id: room.id, author_id, body, client_id };
        Ok(self.insert_messages(&[message]).await?.pop().unwrap_or(Inserted::Gone))
    }

    /// Up to `limit` messages of a room with a `seq` above `after`, oldest first: what a
    /// reconnecting client missed. A keyset read, like [`Store::messages_before`].
    pub async fn messages_after(&self, room: &Room, after: i64, limit: i64) -> Result<Vec<StoredMessage>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as::<_, StoredMessage>(MESSAGES_AFTER)
                .bind(room.id)
                .bind(after)
                .bind(limit)
                .fetch_all(db)
                .await?)
        })
    }

    /// The newest `limit` messages of a room with a `seq` below `before` (all of them when
    /// `before` is `None`), oldest first. A keyset read on the `(room_id, seq)` index: as fast
    /// in a room of a million messages as in a new one, and stable while messages arrive.
    pub async fn messages_before(&self, room: &Room, before: Option<i64>, limit: i64) -> Result<Vec<StoredMessage>> {
        on_pool!(self, db => {
            let mut messages = sqlx::query_as::<_, StoredMessage>(MESSAGES_BEFORE)
                .bind(room.id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(db)
                .await?;
            messages.reverse();
            Ok(messages)
        })
    }

    /// How SQLite plans the history query (for the test that keeps it on the index).
    pub async fn explain_history(&self) -> Result<Vec<String>> {
        match &self.pool {
            super::Pool::Sqlite(db) => {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(&format!("EXPLAIN QUERY PLAN {MESSAGES_BEFORE}"))
                        .bind(1)
                        .bind(i64::MAX)
                        .bind(50)
                        .fetch_all(db)
                        .await?;
                Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
            }
            super::Pool::Postgres(db) => Ok(sqlx::query_scalar(&format!("EXPLAIN {MESSAGES_BEFORE}"))
                .bind(1_i64)
                .bind(i64::MAX)
                .bind(50_i64)
                .fetch_all(db)
                .await?),
        }
    }

    /// Every stored message, in every room.
    pub async fn count_all_messages(&self) -> Result<i64> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(db).await?)
        })
    }

    pub async fn count_messages(&self, room: &Room) -> Result<i64> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE room_id = $1")
                .bind(room.id)
                .fetch_one(db)
                .await?)
        })
    }
}

impl Store {
    /// The `seq` of a room's newest message (0 for none).
    pub async fn last_seq(&self, room_id: i64) -> Result<i64> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = $1")
                .bind(room_id)
                .fetch_optional(db)
                .await?
                .unwrap_or(0))
        })
    }

    /// Deletes one message of a room, noting the deletion; gives whether it existed. Later
    /// messages keep their `seq`: a deleted message leaves a gap.
    pub async fn delete_message(&self, room: &Room, seq: i64) -> Result<bool> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let done = sqlx::query("DELETE FROM messages WHERE room_id = $1 AND seq = $2")
                .bind(room.id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO message_deletions (room_id, seq, deleted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(room.id)
            .bind(seq)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The `seq`s of a room's messages up to `up_to` deleted since `since` (ms), newest first,
    /// at most `limit`: what a client catching up may still show.
    pub async fn deletions(&self, room: &Room, up_to: i64, since: i64, limit: i64) -> Result<Vec<i64>> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar(
                "SELECT seq FROM message_deletions WHERE room_id = $1 AND seq <= $2 AND deleted_at > $3 \
                 ORDER BY seq DESC LIMIT $4",
            )
            .bind(room.id)
            .bind(up_to)
            .bind(since)
            .bind(limit)
            .fetch_all(db)
            .await?)
        })
    }
}
