//! Limits on what a stranger can repeat: password guesses (per account and per client
//! address), sign-ups (per address), rooms made and avatars uploaded (per person). The counts
//! live in the database (`store::throttle`), so they hold across instances and an operator can
//! clear them with `chat-server admin clear-limits`. How fast one person may post, and send
//! read and typing frames: token buckets per person, in memory ([`Buckets`]), checked before
//! anything reaches the database. And how many sockets one person may hold ([`SocketSlots`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
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

/// The key of the rooms one person made.
pub fn rooms_by_key(user_id: i64) -> String {
    format!("rooms-by:{user_id}")
}

/// The key of the files one person shared.
pub fn files_by_key(user_id: i64) -> String {
    format!("files-by:{user_id}")
}

/// The key of the avatars one person uploaded.
pub fn avatars_by_key(user_id: i64) -> String {
    format!("avatars-by:{user_id}")
}

/// Spends one of the `free` events `key` has in an hour: refused (and not counted) while the
/// key is blocked, and refused once past the allowance.
pub async fn spend(state: &AppState, key: String, free: u32) -> Result<(), AppError> {
    check(state, std::slice::from_ref(&key)).await?;
    count(state, &[(key, free)]).await
}

/// `TooManyAttempts` while any of `keys` is blocked.
pub async fn check(state: &AppState, keys: &[String]) -> Result<(), AppError> {
    let (mut until, mut blocking) = (0, None);
    for key in keys {
        let blocked = state.store.throttle_blocked(std::slice::from_ref(key)).await?;
        if blocked > until {
            (until, blocking) = (blocked, Some(key.as_str()));
        }
    }
    refuse_until(state, blocking, until)
}

/// Counts an event of each key with its allowance; `TooManyAttempts` if that blocked one.
pub async fn count(state: &AppState, keys: &[(String, u32)]) -> Result<(), AppError> {
    let (mut until, mut blocking) = (0, None);
    for (key, free) in keys {
        let blocked = state.store.throttle_hit(key, *free).await?;
        if blocked > until {
            (until, blocking) = (blocked, Some(key.as_str()));
        }
    }
    refuse_until(state, blocking, until)
}

/// Refuses while `until` (ms) is ahead, counting the refusal under the kind of `key`
/// (`account`, `login-from`, `rooms-by`, …).
fn refuse_until(state: &AppState, key: Option<&str>, until: i64) -> Result<(), AppError> {
    let wait = until - crate::store::now_ms();
    if wait <= 0 {
        return Ok(());
    }
    let kind = key.and_then(|key| key.split(':').next()).unwrap_or("unknown");
    state.metrics.refused(kind);
    Err(AppError::TooManyAttempts(u32::try_from((wait + 999) / 1000).unwrap_or(u32::MAX)))
}

/// How fast each person may do one thing (post, send read frames), on this instance: a bucket
/// of `burst` tokens per person, refilled at `per_second`. Memory grows with the people who
/// acted recently: full buckets are forgotten once there are many.
pub struct Buckets {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

/// Past this many buckets, the full ones are dropped (a full bucket is the same as none).
const BUCKETS_KEPT: usize = 4096;

impl Buckets {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self { per_second: f64::from(per_second), burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token of `user_id`'s, or says how long until there is one (taking nothing).
    pub fn take(&self, user_id: i64) -> Result<(), Duration> {
        let missing = self.with_tokens(user_id, |tokens| {
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                return 0.0;
            }
            1.0 - *tokens
        });
        if missing > 0.0 {
            return Err(self.time_for(missing));
        }
        Ok(())
    }

    /// Takes a token of `user_id`'s even when there is none (the bucket goes into debt), and
    /// says how long to wait before acting on it: what comes faster than the rate is spaced out.
    pub fn reserve(&self, user_id: i64) -> Duration {
        let debt = self.with_tokens(user_id, |tokens| {
            *tokens -= 1.0;
            (-*tokens).max(0.0)
        });
        self.time_for(debt)
    }

    fn time_for(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64(tokens / self.per_second)
    }

    /// Refills `user_id`'s bucket to now and hands its tokens to `act`.
    fn with_tokens(&self, user_id: i64, act: impl FnOnce(&mut f64) -> f64) -> f64 {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("bucket lock");
        if buckets.len() > BUCKETS_KEPT {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst);
        }
        let (tokens, at) = buckets.entry(user_id).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        act(tokens)
    }
}

/// How many sockets each person holds open on this instance, each counted by a [`SocketSlot`]
/// that gives its place back when dropped.
pub struct SocketSlots {
    per_person: u32,
    open: Mutex<HashMap<i64, u32>>,
}

/// One open socket of one person's.
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    user_id: i64,
}

impl SocketSlots {
    pub fn new(per_person: u32) -> Arc<Self> {
        Arc::new(Self { per_person, open: Mutex::new(HashMap::new()) })
    }

    /// A place for one more socket of `user_id`'s, unless they hold as many as allowed.
    pub fn take(self: &Arc<Self>, user_id: i64) -> Option<SocketSlot> {
        let mut open = self.open.lock().expect("socket slots lock");
        let held = open.entry(user_id).or_insert(0);
        if *held >= self.per_person {
            return None;
        }
        *held += 1;
        Some(SocketSlot { slots: self.clone(), user_id })
    }

    /// Waits until no socket is open, at most `within`; says whether that happened.
    pub async fn all_closed(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while !self.open.lock().expect("socket slots lock").is_empty() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("socket slots lock");
        if let Some(held) = open.get_mut(&self.user_id) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_person() {
        let posting = Buckets::new(10, 3);
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

    #[test]
    fn reserving_spaces_out_what_comes_too_fast() {
        let reads = Buckets::new(10, 2);
        assert_eq!(reads.reserve(1), Duration::ZERO);
        assert_eq!(reads.reserve(1), Duration::ZERO);
        let third = reads.reserve(1);
        let fourth = reads.reserve(1);
        assert!(third > Duration::from_millis(90) && third <= Duration::from_millis(100), "{third:?}");
        assert!(fourth > Duration::from_millis(190) && fourth <= Duration::from_millis(200), "each waits its turn");
    }

    #[test]
    fn a_person_holds_so_many_sockets_and_gets_them_back_when_closed() {
        let slots = SocketSlots::new(2);
        let first = slots.take(1).unwrap();
        let _second = slots.take(1).unwrap();
        assert!(slots.take(1).is_none());
        assert!(slots.take(2).is_some(), "another person has places of their own");
        drop(first);
        assert!(slots.take(1).is_some());
    }
}
