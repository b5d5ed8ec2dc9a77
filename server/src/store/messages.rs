//! Messages: storing a batch in one transaction (each with its room's next `seq`, a resend
//! under a known client id stored once), and keyset history before and after a `seq`, each
//! message with its reply's quote and its reactions (two queries a page, not one a message).
//! Changes to stored messages are in `changes`.

use std::collections::HashMap;

use app::model::{shown_name, Attachment, Quote, Reaction, DELETED_USER};
use app::protocol::{Author, ChatMessage};
use sqlx::FromRow;

use super::attachments::{insert_attachments, NewAttachment};
use super::{now_ms, placeholders, Conn, Result, Room, Store};

/// A message row joined with its author and the message it answers.
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
    pub reply_to: Option<i64>,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// Space-separated lowercased usernames.
    pub mentions: String,
    /// The room's change number of the last change to it (0: never changed).
    pub change_seq: i64,
    /// The message answered, when it still has its row.
    pub quote_id: Option<i64>,
    pub quote_body: Option<String>,
    pub quote_deleted_at: Option<i64>,
    pub quote_username: Option<String>,
    pub quote_display_name: Option<String>,
    pub quote_avatar: Option<String>,
    /// How many files it shares.
    pub attachment_count: i64,
    /// Filled in by [`Store::with_details`].
    #[sqlx(skip)]
    pub reactions: Vec<Reaction>,
    /// Filled in by [`Store::with_details`] (and when stored).
    #[sqlx(skip)]
    pub files: Vec<Attachment>,
}

/// A message to store.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub room_id: i64,
    pub author_id: i64,
    pub body: &'a str,
    pub client_id: Option<&'a str>,
    /// The `seq` of the message it answers.
    pub reply_to: Option<i64>,
    /// The usernames it mentions (lowercased; [`app::domain::mentions`]): those who are
    /// members are stored with it.
    pub mentions: &'a [String],
    /// The files it shares (already received and typed).
    pub attachments: &'a [NewAttachment],
}

/// What storing a message did: stored it now, or found it stored already under its client id,
/// or found no such room (deleted meanwhile), or no message to answer.
#[derive(Debug)]
pub enum Inserted {
    New(StoredMessage),
    Again(StoredMessage),
    Gone,
    NoSuchReply,
}

/// An author as shown: a deleted account's messages stay, without an author.
fn author(username: Option<String>, display_name: Option<&str>, avatar: Option<&str>) -> Author {
    let username = username.unwrap_or_default();
    let display_name = match username.is_empty() {
        true => DELETED_USER.to_owned(),
        false => shown_name(&username, display_name),
    };
    Author { username, display_name, avatar: avatar.map(app::url::avatar) }
}

impl StoredMessage {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn mention_list(&self) -> Vec<String> {
        self.mentions.split_whitespace().map(str::to_owned).collect()
    }

    /// The reply's quote of the message it answers.
    fn quote(&self) -> Option<Quote> {
        let seq = self.reply_to?;
        let deleted = self.quote_id.is_none() || self.quote_deleted_at.is_some();
        if deleted {
            return Some(Quote { seq, author: Author::default(), excerpt: String::new(), deleted: true });
        }
        Some(Quote {
            seq,
            author: author(
                self.quote_username.clone(),
                self.quote_display_name.as_deref(),
                self.quote_avatar.as_deref(),
            ),
            excerpt: Quote::excerpt_of(self.quote_body.as_deref().unwrap_or_default()),
            deleted: false,
        })
    }

    pub fn into_wire(self, room: &str) -> ChatMessage {
        let reply_to = self.quote();
        let mentions = self.mention_list();
        ChatMessage {
            room: room.to_owned(),
            seq: self.seq,
            id: self.id,
            author: author(self.author_username, self.author_display_name.as_deref(), self.author_avatar.as_deref()),
            body: self.body,
            created_at: rfc3339(self.created_at),
            client_id: self.client_id,
            reply_to,
            edited_at: self.edited_at.map(rfc3339),
            reactions: self.reactions,
            mentions,
            attachments: self.files,
        }
    }
}

/// The columns a `StoredMessage` is read from (a macro, so queries can be `concat!`ed).
macro_rules! message_columns {
    () => {
        "SELECT m.id, m.seq, m.body, m.created_at, u.username AS author_username, \
         u.display_name AS author_display_name, u.avatar AS author_avatar, m.client_id, \
         m.reply_to, m.edited_at, m.deleted_at, m.mentions, m.change_seq, m.attachments AS attachment_count, \
         q.id AS quote_id, q.body AS quote_body, q.deleted_at AS quote_deleted_at, \
         qu.username AS quote_username, qu.display_name AS quote_display_name, qu.avatar AS quote_avatar \
         FROM messages m LEFT JOIN users u ON u.id = m.author_id \
         LEFT JOIN messages q ON q.room_id = m.room_id AND q.seq = m.reply_to \
         LEFT JOIN users qu ON qu.id = q.author_id "
    };
}
pub(super) use message_columns;

const MESSAGES_BEFORE: &str = concat!(
    message_columns!(),
    "WHERE m.room_id = $1 AND m.seq < $2 AND m.deleted_at IS NULL ORDER BY m.seq DESC LIMIT $3"
);
const MESSAGES_AFTER: &str =
    concat!(message_columns!(), "WHERE m.room_id = $1 AND m.seq > $2 AND m.deleted_at IS NULL ORDER BY m.seq LIMIT $3");
const MESSAGE_BY_CLIENT_ID: &str =
    concat!(message_columns!(), "WHERE m.room_id = $1 AND m.author_id = $2 AND m.client_id = $3");
const MESSAGE_BY_SEQ: &str = concat!(message_columns!(), "WHERE m.room_id = $1 AND m.seq = $2");

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
                // After taking the seq, never before: SQLite's transaction must start with
                // its write (a read first could find the snapshot stale when it writes).
                // A reply needs its message, in this room and not deleted.
                let quote = match message.reply_to {
                    None => None,
                    Some(answered) => {
                        let quoted: Option<Quoted> = sqlx::query_as(
                            "SELECT q.id, q.body, u.username, u.display_name, u.avatar FROM messages q \
                             LEFT JOIN users u ON u.id = q.author_id \
                             WHERE q.room_id = $1 AND q.seq = $2 AND q.deleted_at IS NULL",
                        )
                        .bind(message.room_id)
                        .bind(answered)
                        .fetch_optional(&mut *tx)
                        .await?;
                        match quoted {
                            Some(quoted) => Some(quoted),
                            None => {
                                give_back_seq(Conn::from(&mut *tx), message.room_id).await?;
                                outcomes.push(Inserted::NoSuchReply);
                                continue;
                            }
                        }
                    }
                };
                let mentions = members_among(Conn::from(&mut *tx), message.room_id, message.mentions).await?;
                let created_at = now_ms();
                // A client id met before means a resend: the unique index refuses the row, the
                // seq taken above is given back, and the first message stands.
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO messages (room_id, seq, author_id, body, created_at, client_id, reply_to, mentions) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (room_id, author_id, client_id) WHERE client_id IS NOT NULL DO NOTHING RETURNING id",
                )
                .bind(message.room_id)
                .bind(seq)
                .bind(message.author_id)
                .bind(message.body)
                .bind(created_at)
                .bind(message.client_id)
                .bind(message.reply_to)
                .bind(&mentions)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else {
                    give_back_seq(Conn::from(&mut *tx), message.room_id).await?;
                    let stored = sqlx::query_as::<_, StoredMessage>(MESSAGE_BY_CLIENT_ID)
                        .bind(message.room_id)
                        .bind(message.author_id)
                        .bind(message.client_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    outcomes.push(Inserted::Again(stored));
                    continue;
                };
                let files = match message.attachments.is_empty() {
                    true => Vec::new(),
                    false => insert_attachments(Conn::from(&mut *tx), id, message.attachments).await?,
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
                    reply_to: message.reply_to,
                    edited_at: None,
                    deleted_at: None,
                    mentions,
                    change_seq: 0,
                    quote_id: quote.as_ref().map(|q| q.id),
                    quote_body: quote.as_ref().map(|q| q.body.clone()),
                    quote_deleted_at: None,
                    quote_username: quote.as_ref().and_then(|q| q.username.clone()),
                    quote_display_name: quote.as_ref().and_then(|q| q.display_name.clone()),
                    quote_avatar: quote.and_then(|q| q.avatar),
                    attachment_count: files.len() as i64,
                    reactions: Vec::new(),
                    files,
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
        let message = NewMessage {
            room_id: room.id,
            author_id,
            body,
            client_id,
            reply_to: None,
            mentions: &[],
            attachments: &[],
        };
        Ok(self.insert_messages(&[message]).await?.pop().unwrap_or(Inserted::Gone))
    }

    /// Up to `limit` messages of a room with a `seq` above `after`, oldest first: what a
    /// reconnecting client missed. A keyset read, like [`Store::messages_before`].
    pub async fn messages_after(&self, room: &Room, after: i64, limit: i64) -> Result<Vec<StoredMessage>> {
        let messages = on_pool!(self, db => {
            sqlx::query_as::<_, StoredMessage>(MESSAGES_AFTER)
                .bind(room.id)
                .bind(after)
                .bind(limit)
                .fetch_all(db)
                .await?
        });
        self.with_details(messages).await
    }

    /// One message of a room by its `seq`, deleted or not.
    pub async fn message_by_seq(&self, room_id: i64, seq: i64) -> Result<Option<StoredMessage>> {
        let message = on_pool!(self, db => {
            sqlx::query_as::<_, StoredMessage>(MESSAGE_BY_SEQ).bind(room_id).bind(seq).fetch_optional(db).await?
        });
        Ok(match message {
            Some(message) => self.with_details(vec![message]).await?.pop(),
            None => None,
        })
    }

    /// Fills in the reactions and files of messages, with one query for all of them each, and
    /// none when none of them ever changed (a reaction is a change: `change_seq` is then
    /// above 0) or shares a file.
    pub async fn with_details(&self, mut messages: Vec<StoredMessage>) -> Result<Vec<StoredMessage>> {
        let ids: Vec<i64> = messages.iter().filter(|m| !m.is_deleted() && m.change_seq > 0).map(|m| m.id).collect();
        let mut reactions = self.reactions_of(&ids).await?;
        let ids: Vec<i64> =
            messages.iter().filter(|m| !m.is_deleted() && m.attachment_count > 0).map(|m| m.id).collect();
        let mut files = self.attachments_of(&ids).await?;
        for message in &mut messages {
            message.reactions = reactions.remove(&message.id).unwrap_or_default();
            message.files = files.remove(&message.id).unwrap_or_default();
        }
        Ok(messages)
    }

    /// The reactions of each of these messages (those with none are left out): each emoji
    /// in the order it was first used, with who reacted, first first.
    pub async fn reactions_of(&self, message_ids: &[i64]) -> Result<HashMap<i64, Vec<Reaction>>> {
        if message_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, String, String)> = on_pool!(self, db => {
            let sql = format!(
                "SELECT r.message_id, r.emoji, u.username FROM reactions r JOIN users u ON u.id = r.user_id \
                 WHERE r.message_id IN ({}) ORDER BY r.message_id, r.created_at, r.user_id",
                placeholders(1, message_ids.len())
            );
            let mut query = sqlx::query_as(&sql);
            for id in message_ids {
                query = query.bind(id);
            }
            query.fetch_all(db).await?
        });
        let mut reactions: HashMap<i64, Vec<Reaction>> = HashMap::new();
        for (message_id, emoji, username) in rows {
            let list = reactions.entry(message_id).or_default();
            match list.iter_mut().find(|r| r.emoji == emoji) {
                Some(reaction) => {
                    reaction.count += 1;
                    reaction.people.push(username);
                }
                None => list.push(Reaction { emoji, count: 1, people: vec![username] }),
            }
        }
        Ok(reactions)
    }

    /// The newest `limit` messages of a room with a `seq` below `before` (all of them when
    /// `before` is `None`), oldest first. A keyset read on the `(room_id, seq)` index: as fast
    /// in a room of a million messages as in a new one, and stable while messages arrive.
    pub async fn messages_before(&self, room: &Room, before: Option<i64>, limit: i64) -> Result<Vec<StoredMessage>> {
        let mut messages = on_pool!(self, db => {
            sqlx::query_as::<_, StoredMessage>(MESSAGES_BEFORE)
                .bind(room.id)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(db)
                .await?
        });
        messages.reverse();
        self.with_details(messages).await
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
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL").fetch_one(db).await?)
        })
    }

    pub async fn count_messages(&self, room: &Room) -> Result<i64> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE room_id = $1 AND deleted_at IS NULL")
                .bind(room.id)
                .fetch_one(db)
                .await?)
        })
    }
}

impl Store {
    /// The `seq` of a room's newest message (0 for none).
    pub async fn last_seq(&self, room_id: i64) -> Result<i64> {
        Ok(self.position(room_id).await?.0)
    }

    /// Where a room stands: the `seq` of its newest message and its last change number (0
    /// and 0 for a new room, or one that is gone).
    pub async fn position(&self, room_id: i64) -> Result<(i64, i64)> {
        on_pool!(self, db => {
            Ok(sqlx::query_as("SELECT last_seq, last_change FROM rooms WHERE id = $1")
                .bind(room_id)
                .fetch_optional(db)
                .await?
                .unwrap_or((0, 0)))
        })
    }
}

/// The message a reply answers, as the reply is stored.
#[derive(FromRow)]
struct Quoted {
    id: i64,
    body: String,
    username: Option<String>,
    display_name: Option<String>,
    avatar: Option<String>,
}

/// Gives back the seq just taken for a message that is not stored.
async fn give_back_seq(conn: Conn<'_>, room_id: i64) -> Result<()> {
    on_pool!(conn conn, db => {
        sqlx::query("UPDATE rooms SET last_seq = last_seq - 1 WHERE id = $1").bind(room_id).execute(db).await?;
        Ok(())
    })
}

/// Which of `names` (lowercased usernames) are members of the room, space separated.
pub(super) async fn members_among(conn: Conn<'_>, room_id: i64, names: &[String]) -> Result<String> {
    if names.is_empty() {
        return Ok(String::new());
    }
    let sql = format!(
        "SELECT lower(u.username) FROM room_members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = $1 AND lower(u.username) IN ({})",
        placeholders(2, names.len())
    );
    let found: Vec<String> = on_pool!(conn conn, db => {
        let mut query = sqlx::query_scalar(&sql).bind(room_id);
        for name in names {
            query = query.bind(name);
        }
        query.fetch_all(db).await?
    });
    // In the order they are written.
    Ok(names.iter().filter(|name| found.contains(name)).cloned().collect::<Vec<_>>().join(" "))
}
