//! Presence as the directory shows it: who has the app open anywhere. The hub keeps it in
//! memory and tells viewers at its next flush; this says who changed.

use crate::state::AppState;
use crate::store::User;

/// Tells the people who may see `user` in the directory, and have the app open anywhere,
/// that `user` came online or went offline (at the hub's next flush).
pub async fn announce(state: &AppState, user: &User, online: bool) {
    let roles = match state.store.roles_of(user.id).await {
        Ok(roles) => roles,
        Err(error) => {
            tracing::warn!(%error, "could not announce presence");
            return;
        }
    };
    state.hub.presence_changed(user.id, &user.username, roles, online);
}
