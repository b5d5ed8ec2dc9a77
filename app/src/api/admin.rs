//! The admin page's server functions (`/api/admin_*`). The server answers 404 to anyone
//! without the admin flag, as if they did not exist.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AdminOverview, AdminRoomPage};

#[server(endpoint = "admin_overview")]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    use crate::api::request::*;
    respond(async { backend()?.admin_overview(&require_user().await?).await }.await)
}

/// Suspends (`suspended` true) or reinstates someone.
#[server(endpoint = "admin_set_suspended")]
pub async fn admin_set_suspended(username: String, suspended: bool) -> Result<(), AppError> {
    use crate::api::request::*;
    let result = async { backend()?.admin_set_suspended(&require_user().await?, &username, suspended).await }.await;
    finish_form(result, url::ADMIN, url::ADMIN, &[])
}

/// Replaces someone's roles: words separated by spaces or commas.
#[server(endpoint = "admin_set_roles")]
pub async fn admin_set_roles(username: String, roles: String) -> Result<(), AppError> {
    use crate::api::request::*;
    use crate::domain::Role;
    let result = async {
        let roles = roles
            .split([' ', ','])
            .filter(|r| !r.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(AppError::Invalid)?;
        backend()?.admin_set_roles(&require_user().await?, &username, roles).await
    }
    .await;
    finish_form(result, url::ADMIN, url::ADMIN, &[])
}

#[server(endpoint = "admin_set_admin")]
pub async fn admin_set_admin(username: String, is_admin: bool) -> Result<(), AppError> {
    use crate::api::request::*;
    let result = async { backend()?.admin_set_admin(&require_user().await?, &username, is_admin).await }.await;
    finish_form(result, url::ADMIN, url::ADMIN, &[])
}

/// A one-time link with which `username` sets a new password (shown to the admin once).
#[server(endpoint = "admin_reset_password")]
pub async fn admin_reset_password(username: String) -> Result<String, AppError> {
    use crate::api::request::*;
    respond(
        async { backend()?.admin_reset_password(&require_user().await?, &username, &request_headers()).await }.await,
    )
}

#[server(endpoint = "admin_room")]
pub async fn get_admin_room(room: String) -> Result<AdminRoomPage, AppError> {
    use crate::api::request::*;
    respond(async { backend()?.admin_room(&require_user().await?, &room).await }.await)
}

/// Deletes one message; every open page of the room drops it at once.
#[server(endpoint = "admin_delete_message")]
pub async fn admin_delete_message(room: String, seq: i64) -> Result<(), AppError> {
    use crate::api::request::*;
    let result = async { backend()?.admin_delete_message(&require_user().await?, &room, seq).await }.await;
    let back = crate::url::admin_room(&room);
    finish_form(result, &back, &back, &[])
}

/// Deletes a room with its messages (never the public chat).
#[server(endpoint = "admin_delete_room")]
pub async fn admin_delete_room(room: String) -> Result<(), AppError> {
    use crate::api::request::*;
    let result = async { backend()?.admin_delete_room(&require_user().await?, &room).await }.await;
    finish_form(result, url::ADMIN, url::ADMIN, &[])
}
