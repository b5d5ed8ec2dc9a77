use app::domain::{RoomName, RoomTitle, Visibility};
use app::model::RoomKind;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sqlx::FromRow;

use super::users::{Listed, ListedRow, User};
use super::{now_ms, placeholders, Result, Store, StoreError};

/// The unread count of the member row `rm`: later messages written by others (a deleted
/// author's messages count). A keyset range on the `(room_id, seq)` index.
macro_rules! unread_count {
    () => {
        "(SELECT COUNT(*) FROM messages m WHERE m.room_id = rm.room_id AND m.seq > rm.last_read_seq \
          AND (m.author_id IS NULL OR m.author_id <> rm.user_id))"
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

#[derive(Debug, Clone, FromRow)]
pub struct Room {
    pub id: i64,
    pub name: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    pub owner_id: Option<i64>,
}

/// [`RoomKind`] as stored in the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub RoomKind);

impl TryFrom<String> for Kind {
    type Error = String;

    fn try_from(value: String) -> std::result::Result<Self, Self::Error> {
        RoomKind::parse(&value).map(Kind).ok_or_else(|| format!("unknown room kind {value:?}"))
    }
}

impl Room {
    pub fn kind(&self) -> RoomKind {
        self.kind.0
    }

    /// The public chat: everyone is in it; nobody owns, renames, leaves or deletes it.
    pub fn is_public_chat(&self) -> bool {
        self.name == RoomName::PUBLIC
    }
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

/// A public room under "browse rooms".
#[derive(Debug, Clone, FromRow)]
pub struct ListedRoom {
    pub name: String,
    pub title: String,
    pub members: i64,
    pub is_member: bool,
}

const ROOM_COLUMNS: &str = "r.id, r.name, r.title, r.kind, r.owner_id";
const ROOM_RETURNING: &str = "id, name, title, kind, owner_id";

impl Store {
    pub async fn room_by_name(&self, name: &str) -> Result<Option<Room>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.name = $1");
            Ok(sqlx::query_as::<_, Room>(&sql).bind(name).fetch_optional(db).await?)
        })
    }

    pub async fn is_member(&self, room_id: i64, user_id: i64) -> Result<bool> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)")
                .bind(room_id)
                .bind(user_id)
                .fetch_one(db)
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

    /// Public rooms whose title contains `query`, with member counts, most members first.
    pub async fn public_rooms(&self, user_id: i64, query: &str, limit: i64) -> Result<Vec<ListedRoom>> {
        on_pool!(self, db => {
            let pattern = format!("%{}%", query.trim().to_lowercase().replace(['%', '_'], ""));
            Ok(sqlx::query_as::<_, ListedRoom>(
                "SELECT r.name, r.title, \
                        (SELECT COUNT(*) FROM room_members c WHERE c.room_id = r.id) AS members, \
                        EXISTS (SELECT 1 FROM room_members me WHERE me.room_id = r.id AND me.user_id = $1) AS is_member \
                 FROM rooms r WHERE r.kind = 'public' AND lower(r.title) LIKE $2 \
                 ORDER BY r.name <> $3, members DESC, lower(r.title) LIMIT $4",
            )
            .bind(user_id)
            .bind(pattern)
            .bind(RoomName::PUBLIC)
            .bind(limit)
            .fetch_all(db)
            .await?)
        })
    }

    /// Creates a group room owned (and joined) by `owner`. Its slug comes from the title; when
    /// taken, `-2`, `-3`… are tried, relying on the unique index rather than a check first.
    pub async fn create_group_room(&self, title: &RoomTitle, visibility: Visibility, owner: &User) -> Result<Room> {
        on_pool!(self, db => {
            let kind = match visibility {
                Visibility::Public => RoomKind::Public,
                Visibility::Private => RoomKind::Private,
            };
            let base = title.slug();
            for attempt in 1..=MAX_SLUG_ATTEMPTS {
                let name = match attempt {
                    1 => base.clone(),
                    n if n < MAX_SLUG_ATTEMPTS => format!("{base}-{n}"),
                    _ => format!("{base}-{}", random_suffix(6)),
                };
                let mut tx = db.begin().await?;
                let sql = format!(
                    "INSERT INTO rooms (name, title, kind, owner_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (name) DO NOTHING RETURNING {ROOM_RETURNING}"
                );
                let room: Option<Room> = sqlx::query_as(&sql)
                    .bind(&name)
                    .bind(title.as_str())
                    .bind(kind.as_str())
                    .bind(owner.id)
                    .bind(now_ms())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(room) = room else { continue };
                sqlx::query("INSERT INTO room_members (room_id, user_id, joined_at) VALUES ($1, $2, $3)")
                    .bind(room.id)
                    .bind(owner.id)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(room);
            }
            Err(StoreError::NoFreeName)
        })
    }

    /// The one-to-one room of two people, created (with both as members) if they have none.
    /// Returns whether it was created by this call. Two simultaneous calls for the same pair
    /// meet at the unique index on `direct_key`: one inserts, the other finds its row.
    pub async fn direct_room(&self, a: &User, b: &User) -> Result<(Room, bool)> {
        on_pool!(self, db => {
            let (low, high) = if a.id < b.id { (a.id, b.id) } else { (b.id, a.id) };
            let key = format!("{low}:{high}");
            let mut tx = db.begin().await?;
            // A write first, so this transaction takes the write lock before it reads anything.
            let sql = format!(
                "INSERT INTO rooms (name, title, kind, direct_key, created_at) VALUES ($1, $2, 'direct', $3, $4) \
                 ON CONFLICT (direct_key) WHERE direct_key IS NOT NULL DO NOTHING RETURNING {ROOM_RETURNING}"
            );
            let name = format!("{}{}", RoomName::DIRECT_PREFIX, random_suffix(12).to_lowercase());
            let created: Option<Room> = sqlx::query_as(&sql)
                .bind(&name)
                .bind(format!("{} and {}", a.username, b.username))
                .bind(&key)
                .bind(now_ms())
                .fetch_optional(&mut *tx)
                .await?;
            let (room, is_new) = match created {
                Some(room) => {
                    for user in [low, high] {
                        sqlx::query("INSERT INTO room_members (room_id, user_id, joined_at) VALUES ($1, $2, $3)")
                            .bind(room.id)
                            .bind(user)
                            .bind(now_ms())
                            .execute(&mut *tx)
                            .await?;
                    }
                    (room, true)
                }
                None => {
                    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.direct_key = $1");
                    (sqlx::query_as::<_, Room>(&sql).bind(&key).fetch_one(&mut *tx).await?, false)
                }
            };
            tx.commit().await?;
            Ok((room, is_new))
        })
    }

    pub async fn rename_room(&self, room_id: i64, title: &RoomTitle) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE rooms SET title = $1 WHERE id = $2")
                .bind(title.as_str())
                .bind(room_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }

    pub async fn set_owner(&self, room_id: i64, user_id: i64) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE rooms SET owner_id = $1 WHERE id = $2")
                .bind(user_id)
                .bind(room_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }

    /// Deletes a room; its messages and memberships go with it (foreign keys cascade).
    pub async fn delete_room(&self, room_id: i64) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("DELETE FROM rooms WHERE id = $1").bind(room_id).execute(db).await?;
            Ok(())
        })
    }
}

/// After this many taken slugs (`name`, `name-2` … `name-19`), a random suffix is used.
const MAX_SLUG_ATTEMPTS: u32 = 20;

fn random_suffix(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect::<String>().to_lowercase()
}

/// A room as the admin page lists it.
#[derive(Debug, Clone, FromRow)]
pub struct AdminRoomRow {
    pub name: String,
    pub title: String,
    pub kind: String,
    pub owner: Option<String>,
    pub members: i64,
    pub messages: i64,
}

impl Store {
    /// Every room (or the one called `name`), the public chat first, then by title.
    pub async fn admin_rooms(&self, name: Option<&str>) -> Result<Vec<AdminRoomRow>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as(
                "SELECT r.name, r.title, r.kind, o.username AS owner, \
                        (SELECT COUNT(*) FROM room_members c WHERE c.room_id = r.id) AS members, \
                        (SELECT COUNT(*) FROM messages m WHERE m.room_id = r.id) AS messages \
                 FROM rooms r LEFT JOIN users o ON o.id = r.owner_id \
                 WHERE $1 IS NULL OR r.name = $1 \
                 ORDER BY r.name <> $2, r.kind = 'direct', lower(r.title), r.id",
            )
            .bind(name)
            .bind(RoomName::PUBLIC)
            .fetch_all(db)
            .await?)
        })
    }
}
