//! The directory (`/api/directory`), profiles (`/api/profile`, `/api/update_profile`) and
//! starting a one-to-one chat (`/api/start_chat`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Person, Profile};

/// The people the signed-in person may see, filtered by `q` (username, display name or role).
#[server(endpoint = "directory")]
pub async fn directory(q: Option<String>) -> Result<Vec<Person>, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.directory(&require_user().await?, q.as_deref().unwrap_or_default()).await }.await;
    respond(result)
}

/// Why `/chat/<username>/` asks first: the browser says the link was followed from another
/// site, which must not be able to start chats on someone's behalf.
pub const CONFIRM_CROSS_SITE: &str = "you followed a link from another site: confirm to start this chat";

/// The one-to-one room with `username`, created if needed: its name, or `None` when
/// `username` is the signed-in person themselves. A page opened from another site's link
/// (`Sec-Fetch-Site: cross-site`) gets `NotAllowed` instead, and the page asks first.
#[server(endpoint = "start_chat")]
pub async fn start_chat(username: String) -> Result<Option<String>, AppError> {
    use crate::api::request::*;

    let fetched_from = request_headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if fetched_from.is_some_and(|site| site != "same-origin" && site != "none") {
        // Not a failure of the page (which asks, with a 200): no status is set.
        return Err(AppError::NotAllowed(CONFIRM_CROSS_SITE.into()));
    }
    respond(open_chat_for(&username).await)
}

/// The confirmed start of a chat (a form on the page that asked): creates or finds the room
/// and goes there.
#[server(endpoint = "open_chat")]
pub async fn open_chat(username: String) -> Result<Option<String>, AppError> {
    use crate::api::request::*;

    let result = open_chat_for(&username).await;
    let target = match &result {
        Ok(Some(room)) => url::room(room),
        _ => url::DIRECTORY.to_owned(),
    };
    finish_form(result, &target, url::DIRECTORY, &[])
}

#[cfg(feature = "ssr")]
async fn open_chat_for(username: &str) -> Result<Option<String>, AppError> {
    use crate::api::request::*;

    let user = require_user().await?;
    if user.username.eq_ignore_ascii_case(username.trim()) {
        return Ok(None);
    }
    backend()?.start_chat(&user, username).await.map(Some)
}

/// The profile of `username`, for people who may see them in the directory (and themselves).
#[server(endpoint = "profile")]
pub async fn get_profile(username: String) -> Result<Profile, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.profile(&require_user().await?, &username).await }.await;
    respond(result)
}

/// Changes the signed-in person's display name (empty: show the username) and bio. A browser
/// form goes on to `next` (a path on this site), else to the person's profile.
#[server(endpoint = "update_profile")]
pub async fn update_profile(display_name: String, bio: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::{Bio, DisplayName};

    let result = async {
        let user = require_user().await?;
        let display_name = DisplayName::parse(&display_name).map_err(AppError::Invalid)?;
        let bio = Bio::parse(&bio).map_err(AppError::Invalid)?;
        backend()?.update_profile(&user, display_name, bio).await?;
        Ok(user.username)
    }
    .await;
    let form = if next.is_some() { url::WELCOME } else { url::SETTINGS };
    let path = match (&result, next.as_deref()) {
        (Ok(_), Some(next)) => safe_next(Some(next)),
        (Ok(username), None) => url::profile(username.as_str()),
        (Err(_), _) => form.to_owned(),
    };
    finish_form(result.map(|_| ()), &path, form, &[])
}
