//! Provisioning people from another system: a sync lists everyone, and each is created (with
//! a one-time link to set a password), updated or left as they are. It arrives over HTTP
//! (`http::provisioning`) or as a frame on `/ws/chat/` (`http::sockets::provisioning`), both
//! authorised by a token made with `chat-server admin create-token` and stored hashed.

use app::domain::Email;
use app::protocol::{CreatedPerson, ProvisioningRequest, RejectedPerson, SyncReport, UpdatedPerson, MAX_SYNC_USERS};

use crate::auth;
use crate::state::AppState;
use crate::store::{StoreError, SyncEntry, Synced};

/// Why a sync was refused whole.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("send Authorization: Bearer <token> (an operator makes one with `chat-server admin create-token <name>`)")]
    NoToken,
    #[error("that token is not valid (it may have been revoked): ask an operator for a new one")]
    BadToken,
    #[error(
        "the body must be JSON like {{\"type\":\"all_users\",\"users\":[{{\"username\":\"ana\",\"email\":\"ana@example.org\",\"role\":\"tenant\"}}]}}; nothing was changed ({0})"
    )]
    Malformed(String),
    #[error("a sync may list at most {MAX_SYNC_USERS} people: split it; nothing was changed")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// What the other system is told: the reason, or for a storage failure (logged here) a
    /// sentence without internals.
    pub fn public_message(&self) -> String {
        match self {
            SyncError::Store(error) => {
                tracing::error!(%error, "provisioning failed");
                "something went wrong on our side; nothing was changed: please try again".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Checks a token: live (not revoked) and known.
pub async fn check_token(state: &AppState, token: Option<&str>) -> Result<String, SyncError> {
    let token = token.ok_or(SyncError::NoToken)?;
    let found = state.store.use_api_token(&auth::token_hash(token)).await?;
    found.map(|t| t.name).ok_or(SyncError::BadToken)
}

pub fn parse(body: &[u8]) -> Result<ProvisioningRequest, SyncError> {
    let request: ProvisioningRequest =
        serde_json::from_slice(body).map_err(|error| SyncError::Malformed(error.to_string()))?;
    let ProvisioningRequest::AllUsers { users } = &request;
    if users.len() > MAX_SYNC_USERS {
        return Err(SyncError::TooMany);
    }
    Ok(request)
}

/// Applies a sync: every valid entry in one transaction; invalid ones are reported, not applied.
pub async fn sync(state: &AppState, request: ProvisioningRequest, base_url: &str) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let (valid, rejected) = request.check();
    report.rejected = rejected;
    let tokens: Vec<String> = valid.iter().map(|_| auth::new_session_token()).collect();
    let entries: Vec<SyncEntry> = valid
        .iter()
        .zip(&tokens)
        .map(|((_, (username, email, role)), token)| SyncEntry {
            username: username.as_str(),
            email: email.as_ref().map(Email::as_str),
            role,
            link_hash: auth::token_hash(token),
        })
        .collect();
    let outcomes = state.store.sync_users(&entries, auth::password_link_expiry()).await?;
    for (((index, (username, ..)), token), outcome) in valid.iter().zip(&tokens).zip(outcomes) {
        let username = username.as_str().to_owned();
        match outcome {
            Synced::Created => report.created.push(CreatedPerson {
                username,
                set_password_url: format!("{base_url}{}", auth::password_link_path(token)),
            }),
            Synced::Updated { roles } => report.updated.push(UpdatedPerson { username, roles }),
            Synced::Unchanged => report.unchanged.push(username),
            Synced::EmailTaken => report.rejected.push(RejectedPerson {
                index: *index,
                username,
                reason: "that email is already used by another account: leave it out or use another".into(),
            }),
        }
    }
    report.rejected.sort_by_key(|rejected| rejected.index);
    Ok(report)
}
