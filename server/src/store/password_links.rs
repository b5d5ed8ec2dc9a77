//! One-time links to set a password: `admin reset-password` prints one, and provisioning
//! hands one out for each person it creates. Only the token's SHA-256 is stored.

use super::users::USER_COLUMNS;
use super::{insert_token, now_ms, Conn, Result, Store, TokenTable, User};

/// Stores a link on `conn` (a pooled connection, or inside the caller's transaction).
pub(super) async fn insert_password_link(
    conn: Conn<'_>,
    user_id: i64,
    token_hash: &[u8],
    expires_at: i64,
) -> Result<()> {
    insert_token(conn, TokenTable::PasswordLinks, token_hash, user_id, expires_at).await
}

impl Store {
    pub async fn create_password_link(&self, user_id: i64, token_hash: &[u8], expires_at: i64) -> Result<()> {
        on_pool!(self, db => {
            let mut conn = db.acquire().await?;
            insert_password_link((&mut *conn).into(), user_id, token_hash, expires_at).await
        })
    }

    /// The person an unexpired link belongs to (suspended people's links open nothing).
    pub async fn password_link_user(&self, token_hash: &[u8]) -> Result<Option<User>> {
        on_pool!(self, db => {
            let sql = link_user_query();
            Ok(sqlx::query_as::<_, User>(&sql).bind(token_hash).bind(now_ms()).fetch_optional(db).await?)
        })
    }

    /// Uses a link: sets the password, and ends every session and every other link of that
    /// person, in one transaction. `None` when the link is unknown, used or expired.
    pub async fn use_password_link(&self, token_hash: &[u8], password_hash: &str) -> Result<Option<User>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let sql = link_user_query();
            let Some(user) =
                sqlx::query_as::<_, User>(&sql).bind(token_hash).bind(now_ms()).fetch_optional(&mut *tx).await?
            else {
                return Ok(None);
            };
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM password_links WHERE user_id = $1 OR expires_at <= $2")
                .bind(user.id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(user))
        })
    }
}

/// The person of a live link: unexpired, and not suspended.
fn link_user_query() -> String {
    format!(
        "SELECT {USER_COLUMNS} FROM password_links l JOIN users u ON u.id = l.user_id \
         WHERE l.token_hash = $1 AND l.expires_at > $2 AND u.suspended_at IS NULL"
    )
}
