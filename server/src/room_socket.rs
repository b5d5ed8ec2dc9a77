//! `/ws/chatroom/<name>/`: the room socket. Authenticated by the session cookie at the upgrade;
//! receives `{"body": "..."}` frames; sends the room's events (see `app::protocol`).

use std::time::Duration;

use app::domain::{BodyError, MessageBody, RoomName};
use app::protocol::{ClientFrame, ErrorCode, ServerEvent, MAX_FRAME_BYTES};
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use tokio::sync::broadcast::error::RecvError;

use crate::error::Error;
use crate::hub;
use crate::origin::{check_origin, OriginCheck};
use crate::state::AppState;
use crate::store::{Room, User};

/// A socket whose peer does not take a frame within this time is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-socket read buffer: small, because most frames are a line of text and there may be
/// tens of thousands of sockets (the library default is 128 KiB).
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    if check_origin(&headers, &state.config.allowed_origins) == OriginCheck::Foreign {
        return Err(Error::Forbidden("this socket only accepts connections from the chat's own pages"));
    }
    let user = state.user_from_headers(&headers).await?.ok_or(Error::Unauthorized)?;
    let name = RoomName::parse(name.trim_end_matches('/')).ok_or(Error::NotFound)?;
    let room = state.store.room_by_name(name.as_str()).await?.ok_or(Error::NotFound)?;
    Ok(ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_FRAME_BYTES * 4)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve(socket, state, room, user))
        .into_response())
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
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = handle_frame(&state, &room, &user, &text).await {
                        if send(&mut socket, hub::encode(&reply)).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = ServerEvent::error(ErrorCode::BinaryNotSupported, "send text frames of JSON, like {\"body\": \"hello\"}");
                    if send(&mut socket, hub::encode(&reply)).await.is_err() {
                        break;
                    }
                }
                // Pings are answered by the library; pongs need nothing.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(error)) => {
                    if is_too_large(&error) {
                        let limit = format!("frame too large: the limit is {} KiB", MAX_FRAME_BYTES / 1024);
                        let close = CloseFrame { code: close_code::SIZE, reason: Utf8Bytes::from(limit) };
                        let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(close)))).await;
                    } else {
                        tracing::debug!(%error, "socket read failed");
                    }
                    break;
                }
            },
            event = membership.events.recv() => match event {
                Ok(frame) => {
                    if send(&mut socket, frame).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::info!(missed, "dropping a socket that fell behind");
                    let close = CloseFrame { code: close_code::AGAIN, reason: Utf8Bytes::from_static("too slow: reconnect") };
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
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
        Err(error) => {
            tracing::error!(%error, "could not store a message");
            Some(ServerEvent::error(ErrorCode::Unavailable, "the message could not be saved: please send it again"))
        }
    }
}

async fn send(socket: &mut WebSocket, frame: Utf8Bytes) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(frame))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::info!("dropping a socket that stopped reading");
            Err(())
        }
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    let inner: &(dyn std::error::Error + 'static) = error;
    let mut source = Some(inner);
    while let Some(error) = source {
        if let Some(tungstenite::Error::Capacity(_)) = error.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}
