//! Sessions: a row per signed-in browser, found by the SHA-256 of its cookie's token, ended
//! one at a time (log out, or from the list in settings by its handle), all but one (password
//! change) or all (sign out everywhere).

use super::users::USER_COLUMNS;
use super::{insert_token, now_ms, Result, Store, TokenTable, User};

/// Where a session was made, as the person is shown it later.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOrigin<'a> {
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// One of a person's sessions, as listed in settings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub handle: String,
    pub user_agent: Option<String>,
    pub address: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The session of the request that asked.
    pub current: bool,
}

#[derive(sqlx::FromRow)]
struct SessionUser {
    #[sqlx(flatten)]
    user: User,
    session_seen_at: Option<i64>,
}

/// A session's "last seen" is written at most this often.
const SEEN_EVERY_MS: i64 = 60 * 1000;

/// The most of a user agent kept (they are a few hundred characters; a stranger's may be more).
const USER_AGENT_CHARS: usize = 300;

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: i64,
        origin: SessionOrigin<'_>,
    ) -> Result<()> {
        let handle = format!("{:016x}", rand::random::<u64>());
        let user_agent = origin.user_agent.map(|agent| agent.chars().take(USER_AGENT_CHARS).collect::<String>());
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            insert_token((&mut *tx).into(), TokenTable::Sessions, token_hash, user_id, expires_at).await?;
            sqlx::query(
                "UPDATE sessions SET handle = $2, user_agent = $3, address = $4, last_seen_at = created_at \
                 WHERE token_hash = $1",
            )
            .bind(token_hash)
            .bind(&handle)
            .bind(user_agent.as_deref())
            .bind(origin.address)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The user of a live (unexpired) session; a suspended person's sessions open nothing.
    /// Notes that the session was used (once a minute at most: one write, not one per request).
    pub async fn session_user(&self, token_hash: &[u8]) -> Result<Option<User>> {
        let now = now_ms();
        let found = on_pool!(self, db => {
            let sql = format!(
                "SELECT {USER_COLUMNS}, s.last_seen_at AS session_seen_at FROM sessions s \
                 JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.suspended_at IS NULL"
            );
            sqlx::query_as::<_, SessionUser>(&sql).bind(token_hash).bind(now).fetch_optional(db).await?
        });
        let Some(found) = found else { return Ok(None) };
        if found.session_seen_at.is_none_or(|seen| seen < now - SEEN_EVERY_MS) {
            on_pool!(self, db => {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(db)
                    .await?;
            });
        }
        Ok(Some(found.user))
    }

    /// A person's live sessions, the most recently used first; `current` marks the one whose
    /// hash is `current`.
    pub async fn sessions_of(&self, user_id: i64, current: Option<&[u8]>) -> Result<Vec<SessionRow>> {
        on_pool!(self, db => {
            Ok(sqlx::query_as::<_, SessionRow>(
                "SELECT handle, user_agent, address, created_at, COALESCE(last_seen_at, created_at) AS last_seen_at, \
                 (token_hash = $2) AS current FROM sessions \
                 WHERE user_id = $1 AND expires_at > $3 AND handle IS NOT NULL \
                 ORDER BY COALESCE(last_seen_at, created_at) DESC, created_at DESC",
            )
            .bind(user_id)
            .bind(current.unwrap_or_default())
            .bind(now_ms())
            .fetch_all(db)
            .await?)
        })
    }

    /// Ends the session of `user_id`'s with this handle; says whether there was one.
    pub async fn delete_session_by_handle(&self, user_id: i64, handle: &str) -> Result<bool> {
        on_pool!(self, db => {
            let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND handle = $2")
                .bind(user_id)
                .bind(handle)
                .execute(db)
                .await?;
            Ok(deleted.rows_affected() > 0)
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
