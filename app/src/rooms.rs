//! Room server functions: the page data (`/api/room`) and the no-JavaScript message form
//! (`/api/send_message`). Live messages go over the room socket instead.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::RoomPage;

#[server(endpoint = "room")]
pub async fn get_room(name: String) -> Result<RoomPage, AppError> {
    use crate::server_fns::*;

    let result = async { backend()?.room_page(&require_user().await?, &name).await }.await;
    respond(result)
}

/// The message box's fallback when JavaScript is off: the form posts here and the browser is
/// sent back to the room, where the message now is.
#[server(endpoint = "send_message")]
pub async fn send_message(room: String, body: String) -> Result<(), AppError> {
    use crate::domain::MessageBody;
    use crate::server_fns::*;

    let room_path = format!("/chat/room/{room}/");
    let result = async {
        let user = require_user().await?;
        let body = MessageBody::parse(&body).map_err(|e| AppError::Invalid(e.message()))?;
        backend()?.post_message(&user, &room, body).await
    }
    .await;
    finish_form(result, &room_path, &room_path, &[])
}
