//! `/ws/chatroom/<name>/`: the room socket. Authenticated by the session cookie at the upgrade;
//! open to whoever may see the room (members, and anyone signed in for a public room);
//! receives `{"body": "..."}` frames from members; sends the room's events (see `app::protocol`).

use app::domain::{BodyError, MessageBody};
use app::protocol::{ClientFrame, ErrorCode, ServerEvent};
use axum::extract::ws::{close_code, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use tokio::sync::broadcast::error::RecvError;

use super::{authorize, close, close_lagging, limited, read, send, Read};
use crate::error::Error;
use crate::hub::{self, Frame};
use crate::state::{AppState, PostError};
use crate::store::{Room, User};

pub async fn upgrade(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    let user = authorize(&state, &headers).await?;
    // A private room of others answers exactly like a room that does not exist.
    let (room, _) = state.viewable_room(&user, name.trim_end_matches('/')).await?.ok_or(Error::NotFound)?;
    Ok(limited(ws).on_upgrade(move |socket| serve(socket, state, room, user)).into_response())
}

#[tracing::instrument(name = "room_socket", skip_all, fields(room = %room.name, user = %user.username))]
async fn serve(mut socket: WebSocket, state: AppState, room: Room, user: User) {
    let (mut membership, first) = state.hub.join(room.id, &room.name, user.id);
    if let Some(frame) = first {
        if send(&mut socket, frame).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => match read(&mut socket, incoming).await {
                Read::Text(text) => {
                    if let Some(reply) = handle_frame(&state, &room, &user, &text).await {
                        if send(&mut socket, hub::encode(&reply)).await.is_err() {
                            break;
                        }
                    }
                }
                Read::Binary => {
                    let reply = ServerEvent::error(ErrorCode::BinaryNotSupported, "send text frames of JSON, like {\"body\": \"hello\"}");
                    if send(&mut socket, hub::encode(&reply)).await.is_err() {
                        break;
                    }
                }
                Read::Nothing => {}
                Read::Stop => break,
            },
            frame = membership.events.recv() => match frame {
                Ok(Frame::Event(text)) => {
                    if send(&mut socket, text).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Close { user_id, event }) => {
                    if user_id.is_none_or(|id| id == user.id) {
                        let _ = send(&mut socket, event).await;
                        close(&mut socket, close_code::NORMAL, Utf8Bytes::from_static("room closed")).await;
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    close_lagging(&mut socket, missed).await;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
}

/// Validates and stores one client frame. Returns the error event to send back, if any;
/// success needs no reply because the broadcast itself is the acknowledgement.
async fn handle_frame(state: &AppState, room: &Room, user: &User, text: &str) -> Option<ServerEvent> {
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(_) => {
            return Some(ServerEvent::error(
                ErrorCode::MalformedFrame,
                "send a JSON object with a text body, like {\"body\": \"hello\"}",
            ))
        }
    };
    let body = match MessageBody::parse(&frame.body) {
        Ok(body) => body,
        Err(error) => {
            let code = match error {
                BodyError::Empty => ErrorCode::EmptyBody,
                BodyError::TooLong => ErrorCode::BodyTooLong,
            };
            return Some(ServerEvent::error(code, error.message()));
        }
    };
    match state.post_message(room, user, &body).await {
        Ok(_) => None,
        Err(PostError::NotMember) => Some(ServerEvent::error(ErrorCode::NotMember, "join the room to post in it")),
        Err(PostError::Store(error)) => {
            tracing::error!(%error, "could not store a message");
            Some(ServerEvent::error(ErrorCode::Unavailable, "the message could not be saved: please send it again"))
        }
    }
}
