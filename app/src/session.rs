//! The session every page shares: the account actions (so logging in or out refreshes
//! everything that shows who you are) and the signed-in person's live state, which their own
//! socket keeps current (`live::person`). Data only.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::accounts::{Login, Logout, Signup};
use crate::error::AppError;
use crate::model::CurrentUser;

/// The account actions and the signed-in person, shared by the header and the forms so that
/// logging in or out refreshes everything that shows who you are.
#[derive(Clone, Copy)]
pub struct Session {
    pub login: ServerAction<Login>,
    pub signup: ServerAction<Signup>,
    pub logout: ServerAction<Logout>,
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    /// Bumped whenever the rooms the person is in may have changed (their own socket says
    /// so, or they acted on a room), so the sidebar reloads.
    pub rooms_changed: RwSignal<u32>,
    /// Unread messages per room name: loaded with the sidebar, then kept current by the
    /// person's own socket. Their sum leads the document title: "(3) Public chat · Chat".
    pub unread: RwSignal<HashMap<String, u32>>,
    /// Who came online or went offline since the page's data was read, by username.
    pub presence: RwSignal<HashMap<String, bool>>,
    /// Whether the sidebar is open as a drawer (narrow screens; the menu button opens it).
    pub drawer: RwSignal<bool>,
    /// The person's rooms in the sidebar's order (the quick switcher and Alt+Up/Down use it).
    pub rooms: RwSignal<Vec<crate::model::RoomSummary>>,
}

impl Session {
    /// The sum of the unread counts. The document title asks for it; on the server the title
    /// is written after the page, and once (in one CI run of ~40 pages) the app's signals were
    /// already disposed by then: that reads as 0 rather than failing the whole answer.
    pub fn total_unread(&self) -> u32 {
        self.unread.try_with(|unread| unread.values().sum()).unwrap_or(0)
    }
}
