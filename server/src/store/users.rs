use app::domain::Role;
use sqlx::FromRow;

use super::{now_ms, placeholders, Conn, OnUnique, Result, Store, StoreError};

/// A person's account. Deliberately not `Serialize`: it carries the password hash.
#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
    pub is_admin: bool,
    pub bio: String,
    /// When an admin suspended them; `None` for an active account.
    pub suspended_at: Option<i64>,
    /// The avatar's file name under the avatars folder; `None` shows initials.
    pub avatar: Option<String>,
}

/// The columns of [`User`], for every query that loads one (aliased as `u`).
pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.email, u.display_name, u.password_hash, \
     u.created_at, u.is_admin, u.bio, u.suspended_at, u.avatar";

impl User {
    /// The name shown on messages: the chosen display name, else the username.
    pub fn shown_name(&self) -> String {
        app::model::shown_name(&self.username, self.display_name.as_deref())
    }

    /// How their messages and typing signals name them.
    pub fn author(&self) -> app::protocol::Author {
        app::protocol::Author {
            username: self.username.clone(),
            display_name: self.shown_name(),
            avatar: self.avatar.as_deref().map(app::url::avatar),
        }
    }

    /// How lists show them, with their roles.
    pub fn listed(&self, roles: Vec<String>) -> Listed {
        Listed {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            avatar: self.avatar.clone(),
            roles,
        }
    }

    pub fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }
}

/// Someone in the directory, a member list or a chat header, with their roles.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar: Option<String>,
    pub roles: Vec<String>,
}

/// The columns `with_roles` takes: id, username, display name, avatar.
pub(super) type ListedRow = (i64, String, Option<String>, Option<String>);

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    /// Empty for a provisioned person who has not set a password yet: nothing verifies
    /// against it, so they can only get in through a one-time link.
    pub password_hash: &'a str,
    /// The role every new person gets.
    pub role: &'a Role,
}

/// The visibility rule of the directory, for the person `?1` (an admin, when `?2` is true)
/// looking at the person `u`: admins see everyone, others the people who share one of their
/// roles. Used for listing and for every single-person lookup, so the two never disagree.
const VISIBLE_TO: &str = "($2 OR EXISTS (SELECT 1 FROM user_roles mine JOIN user_roles theirs \
     ON theirs.role = mine.role WHERE mine.user_id = $1 AND theirs.user_id = u.id))";

/// Creates an account with its role, in the public chat, on `conn` (inside the caller's
/// transaction).
pub(super) async fn insert_user(conn: Conn<'_>, new: &NewUser<'_>) -> Result<User> {
    let sql = format!(
        "INSERT INTO users (username, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {}",
        USER_COLUMNS.replace("u.", "")
    );
    on_pool!(conn conn, db => {
        let user = sqlx::query_as::<_, User>(&sql)
            .bind(new.username)
            .bind(new.email)
            .bind(new.password_hash)
            .bind(now_ms())
            .fetch_one(&mut *db)
            .await
            .on_unique("users_email_key", || StoreError::EmailTaken)
            .on_unique("users_username_key", || StoreError::UsernameTaken)?;
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user.id)
            .bind(new.role.as_str())
            .execute(&mut *db)
            .await?;
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, joined_at, last_read_seq) \
             SELECT id, $1, $2, last_seq FROM rooms WHERE name = $3",
        )
        .bind(user.id)
        .bind(now_ms())
        .bind(app::domain::RoomName::PUBLIC)
        .execute(&mut *db)
        .await?;
        Ok(user)
    })
}

impl Store {
    /// Creates the account with the default role, in the public chat, in one transaction.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let user = insert_user((&mut *tx).into(), &new).await?;
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Finds an account by username or email, ignoring case.
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<User>> {
        on_pool!(self, db => {
            let login = login.trim();
            let column = if login.contains('@') { "email" } else { "username" };
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.{column}) = lower($1)");
            Ok(sqlx::query_as::<_, User>(&sql).bind(login).fetch_optional(db).await?)
        })
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
            Ok(sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(db).await?)
        })
    }

    /// The person called `username` (ignoring case), if `viewer` may see them in the directory.
    pub async fn visible_user(&self, viewer: &User, username: &str) -> Result<Option<User>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.username) = lower($3) AND {VISIBLE_TO}");
            Ok(sqlx::query_as::<_, User>(&sql)
                .bind(viewer.id)
                .bind(viewer.is_admin)
                .bind(username.trim())
                .fetch_optional(db)
                .await?)
        })
    }

    /// Those of `candidates` who may see `user_id` in the directory (not `user_id` itself).
    pub async fn viewers_among(&self, user_id: i64, candidates: &[i64]) -> Result<Vec<i64>> {
        let mut viewers = Vec::new();
        // In slices, so no statement needs more placeholders than either database takes.
        for ids in candidates.chunks(super::MAX_LIST) {
            let found: Vec<i64> = on_pool!(self, db => {
                let sql = format!(
                    "SELECT v.id FROM users v WHERE v.id <> $1 AND v.id IN ({}) \
                     AND (v.is_admin OR EXISTS (SELECT 1 FROM user_roles mine JOIN user_roles theirs \
                          ON theirs.role = mine.role WHERE mine.user_id = v.id AND theirs.user_id = $1))",
                    placeholders(2, ids.len())
                );
                let mut query = sqlx::query_scalar(&sql).bind(user_id);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(db).await?
            });
            viewers.extend(found);
        }
        Ok(viewers)
    }

    /// The people `viewer` may see, except themselves, whose username, display name or one of
    /// whose roles contains `query` (ignoring ASCII case), by username, at most `limit`.
    pub async fn directory(&self, viewer: &User, query: &str, limit: i64) -> Result<Vec<Listed>> {
        on_pool!(self, db => {
            let pattern = format!("%{}%", escape_like(&query.trim().to_lowercase()));
            let sql = format!(
                "SELECT u.id, u.username, u.display_name, u.avatar FROM users u \
                 WHERE u.id <> $1 AND {VISIBLE_TO} \
                   AND (lower(u.username) LIKE $3 ESCAPE '\\' \
                        OR lower(coalesce(u.display_name, '')) LIKE $3 ESCAPE '\\' \
                        OR EXISTS (SELECT 1 FROM user_roles s WHERE s.user_id = u.id AND s.role LIKE $3 ESCAPE '\\')) \
                 ORDER BY lower(u.username) LIMIT $4"
            );
            let rows: Vec<ListedRow> = sqlx::query_as(&sql)
                .bind(viewer.id)
                .bind(viewer.is_admin)
                .bind(pattern)
                .bind(limit)
                .fetch_all(db)
                .await?;
            self.with_roles(rows).await
        })
    }

    /// Attaches each person's roles (one query for all of them).
    pub(super) async fn with_roles(&self, rows: Vec<ListedRow>) -> Result<Vec<Listed>> {
        on_pool!(self, db => {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT user_id, role FROM user_roles WHERE user_id IN ({}) ORDER BY role",
                placeholders(1, rows.len())
            );
            let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
            for (id, _, _, _) in &rows {
                query = query.bind(*id);
            }
            let roles = query.fetch_all(db).await?;
            Ok(rows
                .into_iter()
                .map(|(id, username, display_name, avatar)| Listed {
                    id,
                    username,
                    display_name,
                    avatar,
                    roles: roles.iter().filter(|(user, _)| *user == id).map(|(_, role)| role.clone()).collect(),
                })
                .collect())
        })
    }

    pub async fn roles_of(&self, user_id: i64) -> Result<Vec<String>> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
                .bind(user_id)
                .fetch_all(db)
                .await?)
        })
    }

    /// Replaces a person's roles.
    pub async fn set_roles(&self, user_id: i64, roles: &[Role]) -> Result<()> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            for role in roles {
                sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(user_id)
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(user_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }

    /// Sets (or, with `None`, removes) a person's email; another account's email is refused.
    pub async fn set_email(&self, user_id: i64, email: Option<&str>) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
                .bind(email)
                .bind(user_id)
                .execute(db)
                .await
                .on_unique("users_email_key", || StoreError::EmailTaken)?;
            Ok(())
        })
    }

    /// Every account with its roles, by username (for the admin command line).
    pub async fn list_users(&self) -> Result<Vec<(User, Vec<String>)>> {
        on_pool!(self, db => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY lower(u.username)");
            let users: Vec<User> = sqlx::query_as(&sql).fetch_all(db).await?;
            let roles: Vec<(i64, String)> =
                sqlx::query_as("SELECT user_id, role FROM user_roles ORDER BY role").fetch_all(db).await?;
            Ok(users
                .into_iter()
                .map(|user| {
                    let mine = roles.iter().filter(|(id, _)| *id == user.id).map(|(_, role)| role.clone()).collect();
                    (user, mine)
                })
                .collect())
        })
    }

    pub async fn set_profile(&self, user_id: i64, display_name: Option<&str>, bio: &str) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE users SET display_name = $1, bio = $2 WHERE id = $3")
                .bind(display_name)
                .bind(bio)
                .bind(user_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }

    pub async fn set_display_name(&self, user_id: i64, display_name: Option<&str>) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                .bind(display_name)
                .bind(user_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }

    /// Suspends (`true`) or reinstates a person. Suspending also ends every session of theirs;
    /// gives whether anything changed.
    pub async fn set_suspended(&self, user_id: i64, suspended: bool) -> Result<bool> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let update = if suspended {
                sqlx::query("UPDATE users SET suspended_at = $1 WHERE id = $2 AND suspended_at IS NULL").bind(now_ms())
            } else {
                sqlx::query("UPDATE users SET suspended_at = NULL WHERE id = $1 AND suspended_at IS NOT NULL")
            };
            let changed = update.bind(user_id).execute(&mut *tx).await?.rows_affected() > 0;
            if suspended {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(changed)
        })
    }

    /// The people suspended at or after `since` (ms): what a running server polls, so that a
    /// suspension made from the command line closes their sockets too.
    pub async fn suspended_since(&self, since: i64) -> Result<Vec<i64>> {
        on_pool!(self, db => {
            Ok(sqlx::query_scalar("SELECT id FROM users WHERE suspended_at >= $1")
                .bind(since)
                .fetch_all(db)
                .await?)
        })
    }

    /// Deletes an account: sessions, roles, memberships and links go with it; their messages
    /// stay, without an author ("deleted user"); rooms they owned stay, without an owner.
    pub async fn delete_user(&self, user_id: i64) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(db).await?;
            Ok(())
        })
    }

    /// Sets (or removes) the avatar's file name; gives the one it replaced.
    pub async fn set_avatar(&self, user_id: i64, avatar: Option<&str>) -> Result<Option<String>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let old: Option<String> = sqlx::query_scalar("SELECT avatar FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
            sqlx::query("UPDATE users SET avatar = $1 WHERE id = $2").bind(avatar).bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(old)
        })
    }

    pub async fn set_admin(&self, user_id: i64, is_admin: bool) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
                .bind(is_admin)
                .bind(user_id)
                .execute(db)
                .await?;
            Ok(())
        })
    }
}

/// Makes `%`, `_` and `\` in a search match themselves.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
