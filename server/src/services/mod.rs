//! The domain operations, one module per concern, over the data-only [`AppState`]:
//! `accounts` (signup, login, sessions), `people` (directory and profiles), `rooms` (rooms and
//! their members), `messaging` (posting, unread counts), `changes` (edits, deletions, reactions), `search`, `presence`, `push` (push notifications), `admin` (the admin
//! page's powers) and `provisioning` (people synced from another system).
//!
//! [`Services`] is what server functions call: it implements the `app::backend` traits, one per
//! module. Imports run one way: `http` uses these; these use `store`, `realtime` and `auth`,
//! never `http`.

pub mod accounts;
mod admin;
pub mod changes;
pub mod committer;
pub mod messaging;
mod people;
pub mod presence;
pub mod provisioning;
pub mod push;
pub mod rooms;
mod search;
mod sessions;
pub mod throttle;

use std::ops::Deref;

use app::error::AppError;
use app::model::{CurrentUser, Person};

use crate::state::AppState;
use crate::store::{Listed, User};

/// The `app::backend` implementation handed to server functions: the state, seen through the
/// operations of this folder.
#[derive(Clone)]
pub struct Services(pub AppState);

impl Deref for Services {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.0
    }
}

/// The signed-in person as pages see them.
fn current(user: &User) -> CurrentUser {
    CurrentUser {
        id: user.id,
        username: user.username.clone(),
        display_name: user.shown_name(),
        is_admin: user.is_admin,
        avatar: user.avatar.as_deref().map(app::url::avatar),
    }
}

/// A person as the app shows them, with whether they have the app open right now.
fn person(state: &AppState, listed: Listed) -> Person {
    let display_name = app::model::shown_name(&listed.username, listed.display_name.as_deref());
    let online = state.hub.is_online(listed.id);
    let avatar = listed.avatar.as_deref().map(app::url::avatar);
    Person { username: listed.username, display_name, roles: listed.roles, online, avatar }
}

/// The person behind a session, fresh from the database.
async fn me(state: &AppState, user: &CurrentUser) -> Result<User, AppError> {
    state.store.user_by_id(user.id).await?.ok_or(AppError::Unauthorized)
}
