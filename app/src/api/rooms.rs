//! Room server functions: the room page and its history, the sidebar, browsing and creating
//! rooms, and everything a group room's owner and members do. The ones a form posts to work
//! as plain HTML forms too (see `server_fns::finish_form`). Live messages go over the room
//! socket instead.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{HistoryPage, PublicRoom, RoomPage, RoomSettings, RoomSummary};

/// The room page: its latest messages, or the page of older ones before `before`.
#[server(endpoint = "room")]
pub async fn get_room(name: String, before: Option<i64>) -> Result<RoomPage, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.room_page(&require_user().await?, &name, before).await }.await;
    respond(result)
}

/// Up to 50 messages of `room` with a `seq` below `before`, oldest first.
#[server(endpoint = "history")]
pub async fn history(room: String, before: i64) -> Result<HistoryPage, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.history(&require_user().await?, &room, before).await }.await;
    respond(result)
}

/// The message box's fallback when JavaScript is off: the form posts here and the browser is
/// sent back to the room, where the message now is. `reply_to` answers the message with that
/// `seq`.
#[server(endpoint = "send_message")]
pub async fn send_message(room: String, body: String, reply_to: Option<i64>) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::MessageBody;

    let result = async {
        let user = require_user().await?;
        let body = MessageBody::parse(&body).map_err(|e| AppError::Invalid(e.message()))?;
        backend()?.post_message(&user, &room, body, reply_to).await
    }
    .await;
    finish_form(result, &url::room(&room), &url::room(&room), &[])
}

/// The author gives their message (`seq`) a new body, validated like a new message. A plain
/// form post is sent back to the room, at the message.
#[server(endpoint = "edit_message")]
pub async fn edit_message(room: String, seq: i64, body: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::MessageBody;

    let result = async {
        let user = require_user().await?;
        let body = MessageBody::parse(&body).map_err(|e| AppError::Invalid(e.message()))?;
        backend()?.edit_message(&user, &room, seq, body).await
    }
    .await;
    finish_form(result, &url::room_at(&room, seq), &url::room(&room), &[])
}

/// Deletes a message: the author's own, or any for the room's owner and admins.
#[server(endpoint = "delete_message")]
pub async fn delete_message(room: String, seq: i64) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.delete_message(&require_user().await?, &room, seq).await }.await;
    finish_form(result, &url::room(&room), &url::room(&room), &[])
}

/// Adds (`on`, the default) or takes back the person's reaction `emoji` to a message.
/// Idempotent: adding a reaction that is there already changes nothing.
#[server(endpoint = "react")]
pub async fn react(room: String, seq: i64, emoji: String, on: Option<bool>) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::Emoji;

    let result = async {
        let user = require_user().await?;
        let emoji = Emoji::parse(&emoji).map_err(AppError::Invalid)?;
        backend()?.react(&user, &room, seq, emoji, on.unwrap_or(true)).await
    }
    .await;
    finish_form(result, &url::room_at(&room, seq), &url::room(&room), &[])
}

/// Up to 8 of the room's members whose username or display name starts with `prefix`: the
/// composer's `@` autocomplete.
#[server(endpoint = "mentionable")]
pub async fn mentionable(room: String, prefix: String) -> Result<Vec<crate::protocol::Author>, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.mentionable(&require_user().await?, &room, &prefix).await }.await;
    respond(result)
}

/// The rooms the signed-in person is in (empty when signed out).
#[server(endpoint = "my_rooms")]
pub async fn my_rooms() -> Result<Vec<RoomSummary>, AppError> {
    use crate::api::request::*;

    let result = async {
        match current_user().await? {
            Some(user) => backend()?.my_rooms(&user).await,
            None => Ok(Vec::new()),
        }
    }
    .await;
    respond(result)
}

#[server(endpoint = "public_rooms")]
pub async fn public_rooms(q: Option<String>) -> Result<Vec<PublicRoom>, AppError> {
    use crate::api::request::*;

    let result =
        async { backend()?.public_rooms(&require_user().await?, q.as_deref().unwrap_or_default()).await }.await;
    respond(result)
}

/// Creates a group room and opens it.
#[server(endpoint = "create_room")]
pub async fn create_room(title: String, visibility: String) -> Result<String, AppError> {
    use crate::api::request::*;
    use crate::domain::{RoomTitle, Visibility};

    let result = async {
        let user = require_user().await?;
        let room_title = RoomTitle::parse(&title).map_err(AppError::Invalid)?;
        let visibility = Visibility::parse(&visibility).map_err(AppError::Invalid)?;
        backend()?.create_room(&user, room_title, visibility).await
    }
    .await;
    let success = result.as_ref().map(|name| url::room(name)).unwrap_or_default();
    finish_form(result, &success, url::ROOMS, &[("title", &title)])
}

#[server(endpoint = "join_room")]
pub async fn join_room(room: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.join_room(&require_user().await?, &room).await }.await;
    finish_form(result, &url::room(&room), &url::room(&room), &[])
}

#[server(endpoint = "leave_room")]
pub async fn leave_room(room: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.leave_room(&require_user().await?, &room).await }.await;
    finish_form(result, url::ROOMS, &url::room_settings(&room), &[])
}

#[server(endpoint = "room_settings")]
pub async fn get_room_settings(room: String) -> Result<RoomSettings, AppError> {
    use crate::api::request::*;

    let result = async { backend()?.room_settings(&require_user().await?, &room).await }.await;
    respond(result)
}

#[server(endpoint = "add_member")]
pub async fn add_member(room: String, username: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.add_member(&require_user().await?, &room, &username).await }.await;
    finish_form(result, &url::room_settings(&room), &url::room_settings(&room), &[("username", &username)])
}

#[server(endpoint = "remove_member")]
pub async fn remove_member(room: String, username: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.remove_member(&require_user().await?, &room, &username).await }.await;
    finish_form(result, &url::room_settings(&room), &url::room_settings(&room), &[])
}

#[server(endpoint = "transfer_room")]
pub async fn transfer_room(room: String, username: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.transfer_room(&require_user().await?, &room, &username).await }.await;
    finish_form(result, &url::room_settings(&room), &url::room_settings(&room), &[])
}

#[server(endpoint = "rename_room")]
pub async fn rename_room(room: String, title: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::RoomTitle;

    let result = async {
        let user = require_user().await?;
        let new_title = RoomTitle::parse(&title).map_err(AppError::Invalid)?;
        backend()?.rename_room(&user, &room, new_title).await
    }
    .await;
    finish_form(result, &url::room_settings(&room), &url::room_settings(&room), &[])
}

/// Deletes the room and its messages; `confirm` must repeat the room's name.
#[server(endpoint = "delete_room")]
pub async fn delete_room(room: String, confirm: String) -> Result<(), AppError> {
    use crate::api::request::*;

    let result = async { backend()?.delete_room(&require_user().await?, &room, &confirm).await }.await;
    finish_form(result, url::ROOMS, &url::room_settings(&room), &[])
}
