//! Accounts: creating one (with its role, in the public chat), finding one, and what changes
//! on it (password, email, profile, avatar, suspension, the admin flag). Who sees whom is
//! `directory`; roles are `roles`.

use app::domain::Role;
use sqlx::FromRow;

use super::{now_ms, Conn, OnUnique, Result, Store, StoreError};

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
