//! Limits on what a stranger can repeat before an account: password guesses (per account and
//! per client address) and sign-ups (per address). The counts live in the database
//! (`store::throttle`), so they hold across instances and an operator can clear them with
//! `chat-server admin clear-limits`.

use std::net::IpAddr;

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
