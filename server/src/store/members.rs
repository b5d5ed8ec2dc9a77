//! Memberships: who is in a room, what they have read (the unread counts), the rooms of a
//! person for their sidebar, and the other person of a one-to-one chat.

use app::domain::RoomName;

use super::rooms::{Room, ROOM_COLUMNS};
use super::users::{Listed, ListedRow};
use super::{now_ms, placeholders, Result, Store};

/// The unread count of the member row `rm`: later messages written by others (a deleted
/// author's messages count). A keyset range on the `(room_id, seq)` index.
macro_rules! unread_count {
    () => {
        "(SELECT COUNT(*) FROM messages m WHERE m.room_id = rm.room_id AND m.seq > rm.last_read_seq \
          AND m.deleted_at IS NULL AND (m.author_id IS NULL OR m.author_id <> rm.user_id))"
    };
}

/// A person's unread count of a room, and the room's newest `seq` when it was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadCount {
    pub user_id: i64,
    pub room_id: i64,
    pub room: String,
    pub count: u32,
    pub through: i64,
}

/// A room someone is in, for their sidebar: the room and, for a one-to-one chat, the other
/// person.
#[derive(Debug, Clone)]
pub struct MemberRoom {
    pub room: Room,
    pub other: Option<Listed>,
    /// Messages by others after the member's read position.
    pub unread: u32,
}

impl Store {
    pub async fn is_member(&self, room_id: i64, user_id: i64) -> Result<bool> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)")
                .bind(room_id)
                .bind(user_id)
                .fetch_one(db)
                .await?)
        })
    }

    /// The `seq` a member has read up to (`None`: not a member).
    pub async fn read_position(&self, room_id: i64, user_id: i64) -> Result<Option<i64>> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .fetch_optional(db)
                .await?)
        })
    }

    /// Adds a member; false when they already were one.
    pub async fn add_member(&self, room_id: i64, user_id: i64) -> Result<bool> {
        on_pool!(self, db => {
            let added = sqlx::query(
                // A new member starts with the room's history read: it is there to scroll, not to
                // announce as hundreds of unread messages.
                "INSERT INTO room_members (room_id, user_id, joined_at, last_read_seq) \
                 SELECT $1, $2, $3, last_seq FROM rooms WHERE id = $4 ON CONFLICT DO NOTHING",
            )
            .bind(room_id)
            .bind(user_id)
            .bind(now_ms())
            .bind(room_id)
            .execute(db)
            .await?;
            Ok(added.rows_affected() == 1)
        })
    }

    /// Removes a member; false when they were not one.
    pub async fn remove_member(&self, room_id: i64, user_id: i64) -> Result<bool> {
        on_pool!(self, db => {
            let removed = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room_id)
                .bind(user_id)
                .execute(db)
                .await?;
            Ok(removed.rows_affected() == 1)
        })
    }

    /// Moves a member's read position up to `seq` (never back, never past the newest
    /// message) and gives their unread count after it, with the room's newest `seq` when it
    /// was counted; `None` for someone who is not a member.
    pub async fn mark_read(&self, room_id: i64, user_id: i64, seq: i64) -> Result<Option<UnreadCount>> {
        on_pool!(self, db => {
            let updated = sqlx::query(
                "UPDATE room_members SET last_read_seq = CASE WHEN ($1 < r.last_seq AND $1 > last_read_seq) THEN $1 \
                     WHEN ($1 >= r.last_seq AND r.last_seq > last_read_seq) THEN r.last_seq ELSE last_read_seq END \
                 FROM rooms r WHERE r.id = $2 AND room_id = $3 AND user_id = $4",
            )
            .bind(seq)
            .bind(room_id)
            .bind(room_id)
            .bind(user_id)
            .execute(db)
            .await?;
            if updated.rows_affected() == 0 {
                return Ok(None);
            }
        });
        Ok(self.unread_for(room_id, &[user_id]).await?.into_iter().next())
    }

    /// The unread counts of a room for some of its members (others are left out), each with
    /// the room's newest `seq` when it was counted (one statement, so the two agree).
    pub async fn unread_for(&self, room_id: i64, user_ids: &[i64]) -> Result<Vec<UnreadCount>> {
        let mut all = Vec::new();
        // In slices, so no statement needs more placeholders than either database takes.
        for ids in user_ids.chunks(super::MAX_LIST) {
            let counts: Vec<(i64, i64, String, i64)> = on_pool!(self, db => {
                let sql = format!(
                    "SELECT rm.user_id, rm.room_id, r.name, r.last_seq, {} FROM room_members rm JOIN rooms r ON r.id = rm.room_id \
                     WHERE rm.room_id = $1 AND rm.user_id IN ({})",
                    unread_count!(),
                    placeholders(2, ids.len())
                );
                let mut query = sqlx::query_as::<_, (i64, i64, String, i64, i64)>(&sql).bind(room_id);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(db).await?.into_iter().map(|(user, _, name, last, count)| (user, count, name, last)).collect()
            });
            all.extend(counts.into_iter().map(|(user_id, count, room, through)| UnreadCount {
                user_id,
                room_id,
                room,
                count: u32::try_from(count).unwrap_or(u32::MAX),
                through,
            }));
        }
        Ok(all)
    }

    /// A person's unread count of every room they are in, each with the room's newest `seq`
    /// when it was counted: what their counters are loaded from when their first tab opens.
    pub async fn unread_of(&self, user_id: i64) -> Result<Vec<UnreadCount>> {
        let rows: Vec<(i64, String, i64, i64)> = on_pool!(self, db => {
            sqlx::query_as(concat!(
                "SELECT rm.room_id, r.name, r.last_seq, ",
                unread_count!(),
                " FROM room_members rm JOIN rooms r ON r.id = rm.room_id WHERE rm.user_id = $1"
            ))
            .bind(user_id)
            .fetch_all(db)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(room_id, room, through, count)| UnreadCount {
                user_id,
                room_id,
                room,
                count: u32::try_from(count).unwrap_or(u32::MAX),
                through,
            })
            .collect())
    }

    /// The ids of the room's members among `usernames` (lowercase), except `except`.
    pub async fn members_named(&self, room_id: i64, usernames: &[String], except: i64) -> Result<Vec<i64>> {
        on_pool!(self, db => {
            if usernames.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT u.id FROM room_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.room_id = $1 AND u.id <> $2 AND lower(u.username) IN ({})",
                placeholders(3, usernames.len())
            );
            let mut query = sqlx::query_scalar(&sql).bind(room_id).bind(except);
            for name in usernames {
                query = query.bind(name);
            }
            Ok(query.fetch_all(db).await?)
        })
    }

    /// A room's members, by username.
    pub async fn members(&self, room_id: i64) -> Result<Vec<Listed>> {
        on_pool!(self, db => {
            let rows: Vec<ListedRow> = sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.avatar FROM room_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.room_id = $1 ORDER BY lower(u.username)",
            )
            .bind(room_id)
            .fetch_all(db)
            .await?;
            self.with_roles(rows).await
        })
    }

    /// Up to `limit` members of a room whose username or display name starts with `prefix`
    /// (letters, digits, `_` and `-` only; ignoring case), by username: who `@` may mention.
    pub async fn members_starting(&self, room_id: i64, prefix: &str, limit: i64) -> Result<Vec<ListedRow>> {
        // `_` matches any character in LIKE: escape it (`-` and the rest match themselves).
        let pattern = format!("{}%", prefix.to_lowercase().replace('_', "\\_"));
        on_pool!(self, db => {
            Ok(sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.avatar FROM room_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.room_id = $1 AND (lower(u.username) LIKE $2 ESCAPE '\\' OR lower(u.display_name) LIKE $2 ESCAPE '\\') \
                 ORDER BY lower(u.username) LIMIT $3",
            )
            .bind(room_id)
            .bind(pattern)
            .bind(limit)
            .fetch_all(db)
            .await?)
        })
    }

    /// The rooms `user_id` is in: the public chat first, then group rooms by title, then
    /// one-to-one chats with the other person attached.
    pub async fn rooms_of(&self, user_id: i64) -> Result<Vec<MemberRoom>> {
        on_pool!(self, db => {
            let sql = format!(
                "SELECT {ROOM_COLUMNS} FROM room_members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = $1 \
                 ORDER BY r.name <> $2, r.kind = 'direct', lower(r.title), r.id"
            );
            let rooms: Vec<Room> = sqlx::query_as(&sql).bind(user_id).bind(RoomName::PUBLIC).fetch_all(db).await?;
            let unread: Vec<(i64, i64)> = sqlx::query_as(concat!(
                "SELECT rm.room_id, ",
                unread_count!(),
                " FROM room_members rm WHERE rm.user_id = $1"
            ))
            .bind(user_id)
            .fetch_all(db)
            .await?;
            // The other person of every one-to-one chat, in one query.
            // The room's id, then the other person's columns.
            type OtherRow = (i64, i64, String, Option<String>, Option<String>);
            let others: Vec<OtherRow> = sqlx::query_as(
                "SELECT m.room_id, u.id, u.username, u.display_name, u.avatar FROM room_members mine \
                 JOIN rooms r ON r.id = mine.room_id AND r.kind = 'direct' \
                 JOIN room_members m ON m.room_id = r.id AND m.user_id <> mine.user_id \
                 JOIN users u ON u.id = m.user_id WHERE mine.user_id = $1",
            )
            .bind(user_id)
            .fetch_all(db)
            .await?;
            let listed = self
                .with_roles(others.iter().map(|(_, id, u, d, a)| (*id, u.clone(), d.clone(), a.clone())).collect())
                .await?;
            Ok(rooms
                .into_iter()
                .map(|room| {
                    let other = others
                        .iter()
                        .zip(&listed)
                        .find(|((room_id, ..), _)| *room_id == room.id)
                        .map(|(_, person)| person.clone());
                    let unread = unread.iter().find(|(room_id, _)| *room_id == room.id).map_or(0, |(_, n)| u32::try_from(*n).unwrap_or(u32::MAX));
                    MemberRoom { room, other, unread }
                })
                .collect())
        })
    }

    /// The other person of a one-to-one chat, seen from `user_id`.
    pub async fn other_member(&self, room: &Room, user_id: i64) -> Result<Option<Listed>> {
        on_pool!(self, db => {
            let row: Option<ListedRow> = sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.avatar FROM room_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.room_id = $1 AND m.user_id <> $2",
            )
            .bind(room.id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
            Ok(self.with_roles(row.into_iter().collect()).await?.pop())
        })
    }
}
