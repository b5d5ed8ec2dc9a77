//! Limits on what a stranger can repeat before an account: password guesses (per account and
//! per client address) and sign-ups (per address). The counts live in the database
//! (`store::throttle`), so they hold across instances and an operator can clear them with
//! `chat-server admin clear-limits`. And how fast one person may post: a token bucket per
//! person, in memory ([`Posting`]), checked before a message reaches the committer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::error::AppError;

use crate::state::AppState;

/// The key of the failed logins of one account, however it was named (username or email).
pub fn account_key(user_id: i64) -> String {
    format!("account:{user_id}")
}

/// The key of the failed logins under a name no account has (guessing usernames counts too).
pub fn unknown_login_key(login: &str) -> String {
    format!("login:{}", login.trim().to_lowercase())
}

/// The key of the failed logins from one address.
pub fn login_address_key(address: IpAddr) -> String {
    format!("login-from:{address}")
}

/// The key of the sign-ups from one address.
pub fn signup_address_key(address: IpAddr) -> String {
    format!("signup-from:{address}")
}

/// `TooManyAttempts` while any of `keys` is blocked.
pub async fn check(state: &AppState, keys: &[String]) -> Result<(), AppError> {
    let until = state.store.throttle_blocked(keys).await?;
    refuse_until(until)
}

/// Counts an event of each key with its allowance; `TooManyAttempts` if that blocked one.
pub async fn count(state: &AppState, keys: &[(String, u32)]) -> Result<(), AppError> {
    let mut until = 0;
    for (key, free) in keys {
        until = until.max(state.store.throttle_hit(key, *free).await?);
    }
    refuse_until(until)
}

fn refuse_until(until: i64) -> Result<(), AppError> {
    let wait = until - crate::store::now_ms();
    if wait <= 0 {
        return Ok(());
    }
    Err(AppError::TooManyAttempts(u32::try_from((wait + 999) / 1000).unwrap_or(u32::MAX)))
}

/// How fast each person may post, on this instance: a bucket of `burst` tokens per person,
/// refilled at `per_second`; a message takes one. Memory grows with the people who posted
/// recently: full buckets are forgotten once there are many.
pub struct Posting {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

/// Past this many buckets, the full ones are dropped (a full bucket is the same as none).
const BUCKETS_KEPT: usize = 4096;

impl Posting {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second: f64::from(per_second), burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token for one message of `user_id`, or says how long until there is one.
    pub fn take(&self, user_id: i64) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("posting lock");
        if buckets.len() > BUCKETS_KEPT {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst);
        }
        let (tokens, at) = buckets.entry(user_id).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_person() {
        let posting = Posting::new(10, 3);
        for _ in 0..3 {
            assert_eq!(posting.take(1), Ok(()));
        }
        let wait = posting.take(1).unwrap_err();
        assert!(wait > Duration::from_millis(50) && wait <= Duration::from_millis(100), "{wait:?}");
        assert_eq!(posting.take(2), Ok(()), "another person has a bucket of their own");
        std::thread::sleep(Duration::from_millis(110));
        assert_eq!(posting.take(1), Ok(()), "a token came back");
        assert!(posting.take(1).is_err());
    }
}
