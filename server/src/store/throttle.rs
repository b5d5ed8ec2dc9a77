//! Counters of what strangers repeat (failed logins per account and per address, sign-ups per
//! address), kept in the database so that every instance and the command line see the same:
//! a key's count starts over an hour after its last event, and past its free allowance each
//! event blocks the key for twice as long as the one before, up to [`MAX_BLOCK_MS`].

use super::{now_ms, Result, Store};

/// A key's events are forgotten this long after the last one.
const WINDOW_MS: i64 = 60 * 60 * 1000;
/// The longest a key is blocked for.
pub const MAX_BLOCK_MS: i64 = 15 * 60 * 1000;

/// How long the `events`-th event blocks a key allowed `free` events: nothing within the
/// allowance, then 1 s, 2 s, 4 s … up to [`MAX_BLOCK_MS`].
fn block_ms(events: i64, free: u32) -> i64 {
    let over = events - i64::from(free);
    if over <= 0 {
        return 0;
    }
    1000_i64.saturating_mul(1 << (over - 1).min(20)).min(MAX_BLOCK_MS)
}

impl Store {
    /// Counts one event of `key`; gives until when (ms) the key is now blocked, `0` if it is not.
    pub async fn throttle_hit(&self, key: &str, free: u32) -> Result<i64> {
        let now = now_ms();
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let events: i64 = sqlx::query_scalar(
                "INSERT INTO throttle (key, events, blocked_until, updated_at) VALUES ($1, 1, 0, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 events = CASE WHEN throttle.updated_at < $3 THEN 1 ELSE throttle.events + 1 END, updated_at = $2 \
                 RETURNING events",
            )
            .bind(key)
            .bind(now)
            .bind(now - WINDOW_MS)
            .fetch_one(&mut *tx)
            .await?;
            let block = block_ms(events, free);
            let until = if block > 0 { now + block } else { 0 };
            sqlx::query("UPDATE throttle SET blocked_until = $2 WHERE key = $1").bind(key).bind(until).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(until)
        })
    }

    /// Until when (ms) the most blocked of `keys` is blocked; `0` when none is.
    pub async fn throttle_blocked(&self, keys: &[String]) -> Result<i64> {
        let now = now_ms();
        let mut until = 0;
        on_pool!(self, db => {
            for key in keys {
                let blocked: Option<i64> =
                    sqlx::query_scalar("SELECT blocked_until FROM throttle WHERE key = $1 AND blocked_until > $2")
                        .bind(key)
                        .bind(now)
                        .fetch_optional(db)
                        .await?;
                until = until.max(blocked.unwrap_or(0));
            }
            Ok(until)
        })
    }

    /// Forgets `keys` (a right password, or an operator clearing them); gives how many there were.
    pub async fn throttle_clear(&self, keys: &[String]) -> Result<u64> {
        let mut cleared = 0;
        on_pool!(self, db => {
            for key in keys {
                cleared += sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(db).await?.rows_affected();
            }
            Ok(cleared)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_past_the_allowance_up_to_fifteen_minutes() {
        assert_eq!(block_ms(5, 5), 0);
        assert_eq!(block_ms(6, 5), 1000);
        assert_eq!(block_ms(7, 5), 2000);
        assert_eq!(block_ms(10, 5), 16_000);
        assert_eq!(block_ms(40, 5), MAX_BLOCK_MS);
        assert_eq!(block_ms(1_000_000, 5), MAX_BLOCK_MS);
    }
}
