//! The server's implementation of `app::backend`: what server functions call. `accounts`
//! holds signup, login and sessions; `rooms` the directory, rooms and their members.

mod accounts;
mod admin;
mod rooms;

use app::model::{CurrentUser, Person};

use crate::state::AppState;
use crate::store::{Listed, User};

fn current(user: &User) -> CurrentUser {
    CurrentUser {
        id: user.id,
        username: user.username.clone(),
        display_name: user.shown_name(),
        is_admin: user.is_admin,
        avatar: user.avatar.as_deref().map(app::model::avatar_url),
    }
}

impl AppState {
    /// A person as the app shows them, with whether they have the app open right now.
    pub(super) fn person(&self, listed: Listed) -> Person {
        let display_name =
            listed.display_name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| listed.username.clone());
        let online = self.hub.is_online(listed.id);
        let avatar = listed.avatar.as_deref().map(app::model::avatar_url);
        Person { username: listed.username, display_name, roles: listed.roles, online, avatar }
    }
}
