//! Push subscriptions: where each browser that turned push notifications on is sent them, one
//! row per endpoint, owned by the session that made it (signing out ends it).

use sqlx::FromRow;

use super::{now_ms, placeholders, Result, Store, MAX_LIST};

/// One browser's subscription, as stored (keys in base64url).
#[derive(Debug, Clone, FromRow)]
pub struct PushRow {
    pub user_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// The most browsers one person gets pushes on; a new one past that replaces the oldest.
pub const PUSH_SUBSCRIPTIONS_PER_PERSON: i64 = 20;

impl Store {
    /// Keeps (or moves to this person and session) the subscription at `endpoint`.
    pub async fn save_push_subscription(
        &self,
        user_id: i64,
        session_hash: &[u8],
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<()> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            sqlx::query(
                "INSERT INTO push_subscriptions (endpoint, user_id, session_hash, p256dh, auth, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, session_hash = excluded.session_hash, \
                 p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at",
            )
            .bind(endpoint)
            .bind(user_id)
            .bind(session_hash)
            .bind(p256dh)
            .bind(auth)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint NOT IN \
                 (SELECT endpoint FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at DESC, endpoint LIMIT $2)",
            )
            .bind(user_id)
            .bind(PUSH_SUBSCRIPTIONS_PER_PERSON)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stops pushes to `endpoint` for this person; gives whether they had it.
    pub async fn drop_push_subscription(&self, user_id: i64, endpoint: &str) -> Result<bool> {
        on_pool!(self, db => {
            let done = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2")
                .bind(user_id)
                .bind(endpoint)
                .execute(db)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Forgets an endpoint its push service says is gone.
    pub async fn forget_push_endpoint(&self, endpoint: &str) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1").bind(endpoint).execute(db).await?;
            Ok(())
        })
    }

    /// The subscriptions of these people whose sessions have not expired.
    pub async fn push_subscriptions_of(&self, user_ids: &[i64]) -> Result<Vec<PushRow>> {
        let mut all = Vec::new();
        for ids in user_ids.chunks(MAX_LIST) {
            let sql = format!(
                "SELECT p.user_id, p.endpoint, p.p256dh, p.auth FROM push_subscriptions p \
                 JOIN sessions s ON s.token_hash = p.session_hash \
                 WHERE s.expires_at > $1 AND p.user_id IN ({}) ORDER BY p.user_id, p.created_at",
                placeholders(2, ids.len())
            );
            let rows: Vec<PushRow> = on_pool!(self, db => {
                let mut query = sqlx::query_as::<_, PushRow>(&sql).bind(now_ms());
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(db).await?
            });
            all.extend(rows);
        }
        Ok(all)
    }
}
