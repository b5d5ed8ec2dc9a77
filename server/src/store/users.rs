use sqlx::FromRow;

use super::{now_ms, Result, Store, StoreError};

/// A person's account. Deliberately not `Serialize`: it carries the password hash.
#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
}

impl User {
    /// The name shown on messages: the chosen display name, else the username.
    pub fn shown_name(&self) -> String {
        self.display_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| self.username.clone())
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
}

impl Store {
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User> {
        sqlx::query_as::<_, User>(
            "INSERT INTO users (username, email, password_hash, created_at) VALUES (?, ?, ?, ?) \
             RETURNING id, username, email, display_name, password_hash, created_at",
        )
        .bind(new.username)
        .bind(new.email)
        .bind(new.password_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // SQLite names the violated index in its message.
                if db.message().contains("email") { StoreError::EmailTaken } else { StoreError::UsernameTaken }
            }
            _ => StoreError::Database(error),
        })
    }

    /// Finds an account by username or email, ignoring case.
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<User>> {
        let login = login.trim();
        let column = if login.contains('@') { "email" } else { "username" };
        let sql = format!(
            "SELECT id, username, email, display_name, password_hash, created_at FROM users \
             WHERE lower({column}) = lower(?)"
        );
        Ok(sqlx::query_as::<_, User>(&sql).bind(login).fetch_optional(&self.pool).await?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>(
            "SELECT id, username, email, display_name, password_hash, created_at FROM users WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
