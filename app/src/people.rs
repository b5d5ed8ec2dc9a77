//! The directory (`/api/directory`) and starting a one-to-one chat (`/api/start_chat`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Person;

/// The people the signed-in person may see, filtered by `q` (username, display name or role).
#[server(endpoint = "directory")]
pub async fn directory(q: Option<String>) -> Result<Vec<Person>, AppError> {
    use crate::server_fns::*;

    let result = async { backend()?.directory(&require_user().await?, q.as_deref().unwrap_or_default()).await }.await;
    respond(result)
}

/// The one-to-one room with `username`, created if needed: its name, or `None` when
/// `username` is the signed-in person themselves.
#[server(endpoint = "start_chat")]
pub async fn start_chat(username: String) -> Result<Option<String>, AppError> {
    use crate::server_fns::*;

    let result = async {
        let user = require_user().await?;
        if user.username.eq_ignore_ascii_case(username.trim()) {
            return Ok(None);
        }
        backend()?.start_chat(&user, &username).await.map(Some)
    }
    .await;
    respond(result)
}
