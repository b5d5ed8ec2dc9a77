//! `/ws/chatroom/<name>/`: the room socket. Authenticated by the session cookie at the upgrade;
//! open to whoever may see the room (members, and anyone signed in for a public room);
//! receives `{"body": "..."}` frames from members; sends the room's events (see `app::protocol`).

use app::domain::{BodyError, ClientId, MessageBody};
use app::protocol::{ClientControl, ClientFrame, ErrorCode, ServerEvent};
use axum::extract::ws::{close_code, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use tokio::sync::broadcast::error::RecvError;

use super::{authorize, close, close_lagging, limited, on_beat, read, send, Heartbeat, Read, SESSION_ENDED};
use crate::error::Error;
use crate::hub::{self, Frame};
use crate::state::{AppState, PostError, Posted};
use crate::store::{Room, User};

/// `?after=<seq>`: the last message the client has; it is first sent every later one.
#[derive(Debug, serde::Deserialize)]
pub struct Resume {
    after: Option<String>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(resume): Query<Resume>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    let user = authorize(&state, &headers).await?;
    let after = match resume.after.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(seq)) if seq >= 0 => Some(seq),
        Some(_) => return Err(Error::BadRequest("after must be the seq of the last message you have (0 or more)")),
    };
    // A private room of others answers exactly like a room that does not exist.
    let (room, _) = state.viewable_room(&user, name.trim_end_matches('/')).await?.ok_or(Error::NotFound)?;
    Ok(limited(ws).on_upgrade(move |socket| serve(socket, state, room, user, after)).into_response())
}

/// Typing signals are passed on at most this often per person and room.
const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// How many missed messages are read from the database at a time while catching up.
const CATCH_UP_BATCH: i64 = 500;

#[tracing::instrument(name = "room_socket", skip_all, fields(room = %room.name, user = %user.username))]
async fn serve(mut socket: WebSocket, state: AppState, room: Room, user: User, after: Option<i64>) {
    // Where this socket starts: after what the client has, else after the room's newest
    // message (read before subscribing, so that one stored in between shows up as a gap).
    let start = match after {
        Some(after) => after,
        None => match state.store.last_seq(room.id).await {
            Ok(last) => last,
            Err(error) => {
                tracing::error!(%error, "could not read where a room is");
                close(&mut socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
                return;
            }
        },
    };
    // Subscribe before reading what was missed: a message stored meanwhile is then both read
    // and received, and the `seq` check below sends it once. Nothing falls in between.
    let (mut membership, first) = state.hub.join(room.id, &room.name, user.id);
    if let Some(frame) = first {
        if send(&mut socket, frame).await.is_err() {
            return;
        }
    }
    // The last `seq` this socket was sent. Messages go out in `seq` order, each once: one
    // that arrives ahead of others (they were stored through another instance and their copies
    // are late, or lost while the bus was down) makes the socket read the ones in between from
    // the database first.
    let mut sent = start;
    if after.is_some() {
        if tell_deletions(&mut socket, &state, &room, start).await.is_err() {
            return;
        }
        match catch_up(&mut socket, &state, &room, start).await {
            Ok(last) => sent = last,
            Err(()) => return,
        }
    }
    let mut heartbeat = Heartbeat::new(&state);
    loop {
        tokio::select! {
            beat = heartbeat.beat() => {
                if on_beat(&mut socket, beat).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match read(&mut socket, &mut heartbeat, incoming).await {
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
                Ok(Frame::Message { seq, text }) => {
                    if seq > sent + 1 {
                        match catch_up(&mut socket, &state, &room, sent).await {
                            Ok(last) => sent = last,
                            Err(()) => break,
                        }
                    }
                    if seq <= sent {
                        continue;
                    }
                    sent = seq;
                    if send(&mut socket, text).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Resync) => match catch_up(&mut socket, &state, &room, sent).await {
                    Ok(last) => sent = last,
                    Err(()) => break,
                },
                Ok(Frame::About { user_id, text }) => {
                    if user_id != user.id && send(&mut socket, text).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::Event(text)) => {
                    if send(&mut socket, text).await.is_err() {
                        break;
                    }
                }
                Ok(Frame::End { user_id }) => {
                    if user_id == user.id {
                        close(&mut socket, close_code::POLICY, Utf8Bytes::from_static(SESSION_ENDED)).await;
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

/// How far back a reconnecting client is told of deleted messages it may still show.
const DELETIONS_TOLD_FOR: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);
const DELETIONS_TOLD_AT_MOST: i64 = 500;

/// Tells a client resuming after `after` which of the messages it may have (up to `after`)
/// were deleted while it was away: it removes them.
async fn tell_deletions(socket: &mut WebSocket, state: &AppState, room: &Room, after: i64) -> Result<(), ()> {
    let since = crate::store::now_ms() - DELETIONS_TOLD_FOR.as_millis() as i64;
    let deleted = match state.store.deletions(room, after, since, DELETIONS_TOLD_AT_MOST).await {
        Ok(deleted) => deleted,
        Err(error) => {
            // Only a stale line on a screen: not worth refusing the socket for.
            tracing::warn!(%error, "could not read deleted messages");
            return Ok(());
        }
    };
    for seq in deleted {
        let event = ServerEvent::MessageDeleted { room: room.name.clone(), seq };
        send(socket, hub::encode(&event)).await?;
    }
    Ok(())
}

/// Sends every message after `after`, oldest first, and returns the last `seq` sent. `Err`
/// means the socket is gone (or the database failed, which closes it: the client reconnects
/// and asks again).
async fn catch_up(socket: &mut WebSocket, state: &AppState, room: &Room, after: i64) -> Result<i64, ()> {
    let mut last = after;
    loop {
        let batch = match state.store.messages_after(room, last, CATCH_UP_BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::error!(%error, "could not read missed messages");
                close(socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
                return Err(());
            }
        };
        let done = (batch.len() as i64) < CATCH_UP_BATCH;
        for stored in batch {
            last = stored.seq;
            send(socket, hub::encode(&ServerEvent::Message(stored.into_wire(&room.name)))).await.map_err(|_| ())?;
        }
        if done {
            return Ok(last);
        }
    }
}

/// Passes on that a member is typing, at most once per [`TYPING_EVERY`] per person and room
/// whatever the client sends.
async fn typing(state: &AppState, room: &Room, user: &User) {
    let channel = state.hub.channel(room.id, &room.name);
    if !channel.typing_allowed(user.id, TYPING_EVERY) {
        return;
    }
    match state.store.is_member(room.id, user.id).await {
        Ok(true) => {
            channel.publish_about(user.id, &ServerEvent::Typing { room: room.name.clone(), author: user.author() });
        }
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "could not check a typist's membership"),
    }
}

/// Validates and stores one client frame. Returns the error event to send back, if any;
/// success needs no reply because the broadcast itself is the acknowledgement.
async fn handle_frame(state: &AppState, room: &Room, user: &User, text: &str) -> Option<ServerEvent> {
    match ClientControl::parse(text) {
        Some(ClientControl::Ping) => return Some(ServerEvent::Pong),
        Some(ClientControl::Read { seq }) => {
            match state.store.mark_read(room.id, user.id, seq).await {
                // Every tab and device of this person learns the new count.
                Ok(Some(count)) => state.notify_unread(room, user.id, count),
                // Someone previewing a public room has nothing to mark.
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not mark a room read"),
            }
            return None;
        }
        Some(ClientControl::Typing) => {
            typing(state, room, user).await;
            return None;
        }
        None => {}
    }
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
    let client_id = match frame.client_id.as_deref().map(ClientId::parse).transpose() {
        Ok(client_id) => client_id,
        Err(message) => return Some(ServerEvent::error(ErrorCode::MalformedFrame, &message)),
    };
    match state.post_message(room, user, &body, client_id.as_ref()).await {
        Ok(Posted::New(_)) => None,
        // Sent again after a dropped connection: the sender alone is told it is stored.
        Ok(Posted::Again(message)) => Some(ServerEvent::Message(message)),
        Err(PostError::NotMember) => Some(ServerEvent::error(ErrorCode::NotMember, "join the room to post in it")),
        Err(PostError::Store(error)) => {
            tracing::error!(%error, "could not store a message");
            Some(ServerEvent::error(ErrorCode::Unavailable, "the message could not be saved: please send it again"))
        }
    }
}
