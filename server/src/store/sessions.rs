//! Sessions: a row per signed-in browser, found by the SHA-256 of its cookie's token, ended
//! one at a time (log out), all but one (password change) or all (sign out everywhere).

use super::users::USER_COLUMNS;
use super::{insert_token, now_ms, Result, Store, TokenTable, User};

impl Store {
    pub async fn create_session(&self, token_hash: &[u8], user_id: i64, expires_at: i64) -> Result<()> {
        on_pool!(self, db => {
            let mut conn = db.acquire().await?;
            insert_token((&mut *conn).into(), TokenTable::Sessions, token_hash, user_id, expires_at).await
        })
    }

    /// The user of a live (unexpired) session; a suspended person's sessions open nothing.
    pub async fn session_user(&self, token_hash: &[u8]) -> Result<Option<User>> {
        on_pool!(self, db => {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.suspended_at IS NULL"
            );
            Ok(sqlx::query_as::<_, User>(&sql).bind(token_hash).bind(now_ms()).fetch_optional(db).await?)
        })
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
                .bind(token_hash)
                .bind(now_ms())
                .execute(db)
                .await?;
            Ok(())
        })
    }

    /// Ends every session of a person except the one whose hash is `keep`.
    pub async fn delete_sessions_of(&self, user_id: i64, keep: Option<&[u8]>) -> Result<u64> {
        on_pool!(self, db => {
            let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep)
                .execute(db)
                .await?;
            Ok(deleted.rows_affected())
        })
    }
}
