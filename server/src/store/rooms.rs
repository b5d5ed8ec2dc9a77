//! Rooms: looking one up, the public rooms to browse, creating group rooms (a slug from the
//! title) and one-to-one rooms (one per pair), renaming, handing over, deleting, and the admin
//! page's list. Who is in a room is `members`.

use app::domain::{RoomName, RoomTitle, Visibility};
use app::model::RoomKind;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sqlx::FromRow;

use super::users::User;
use super::{now_ms, Result, Store, StoreError};

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

/// A public room under "browse rooms".
#[derive(Debug, Clone, FromRow)]
pub struct ListedRoom {
    pub name: String,
    pub title: String,
    pub members: i64,
    pub is_member: bool,
}

pub(super) const ROOM_COLUMNS: &str = "r.id, r.name, r.title, r.kind, r.owner_id";
const ROOM_RETURNING: &str = "id, name, title, kind, owner_id";

impl Store {
    pub async fn room_by_name(&self, name: &str) -> Result<Option<Room>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.name = $1");
            Ok(sqlx::query_as::<_, Room>(&sql).bind(name).fetch_optional(db).await?)
        })
    }

    pub async fn room_by_id(&self, id: i64) -> Result<Option<Room>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1");
            Ok(sqlx::query_as::<_, Room>(&sql).bind(id).fetch_optional(db).await?)
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
                        (SELECT COUNT(*) FROM messages m WHERE m.room_id = r.id AND m.deleted_at IS NULL) AS messages \
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
