//! The two WebSockets: `/ws/chatroom/<name>/` (a room: its messages and online count) and
//! `/ws/chat/` (a person's own channel: rooms added and removed). Both are upgraded by the same
//! rules (Origin, then session cookie) with the same limits, and write the same way.

mod provisioning;
mod room;
mod user;

use std::time::Duration;

use app::protocol::MAX_FRAME_BYTES;
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use http::HeaderMap;

use super::origin::{check_origin, OriginCheck};
use crate::error::Error;
use crate::services::accounts::signed_in;
use crate::services::throttle::SocketSlot;
use crate::state::AppState;
use crate::store::User;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/chatroom/{name}", get(room::upgrade)).route("/ws/chat", get(user::upgrade))
}

/// Why a socket closes (1012) when the server stops: its client comes back at once.
const RESTARTING: &str = "restarting";

/// Resolves once the server is stopping (borrowing nothing, so a socket's loop can hold it).
fn stopping(state: &AppState) -> impl std::future::Future<Output = ()> + 'static {
    let mut stopping = state.stopping.subscribe();
    async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    }
}

/// Why a socket closes (1008) when its person's sessions end.
const SESSION_ENDED: &str = "session ended: sign in again";

/// A socket whose peer does not take a frame within this time is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-socket read buffer: small, because most frames are a line of text and there may be
/// tens of thousands of sockets (the library default is 128 KiB).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Frames queued for a client are written once this much is waiting (or at a flush), so a
/// burst of events costs one write. The buffer is empty (no memory) until something is sent.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// Who a socket is for: the person, their place among their sockets (theirs while the socket
/// is open), and the hash of the session it came with.
struct Admitted {
    user: User,
    slot: SocketSlot,
    session: Vec<u8>,
}

/// The checks every upgrade makes, in this order: a page of another site gets 403, a request
/// without a live session 401, a person who holds as many sockets as allowed 429.
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<Admitted, Error> {
    if check_origin(headers, &state.config.allowed_origins) == OriginCheck::Foreign {
        return Err(Error::Forbidden("this socket only accepts connections from the chat's own pages"));
    }
    let user = signed_in(state, headers).await?.ok_or(Error::Unauthorized)?;
    let session = crate::auth::session_token(headers).map(|token| crate::auth::token_hash(&token)).unwrap_or_default();
    let Some(slot) = state.sockets.take(user.id) else {
        state.metrics.refused("sockets");
        return Err(Error::TooManySockets(state.config.limits.sockets_per_person));
    };
    Ok(Admitted { user, slot, session })
}

/// Whether the socket's session still stands, asked once the socket listens for its person's
/// "sessions ended": one ended between the upgrade's check and then was told to nobody.
async fn still_signed_in(state: &AppState, session: &[u8]) -> bool {
    match Box::pin(state.store.session_user(session)).await {
        Ok(found) => found.is_some(),
        Err(error) => {
            // The upgrade's check passed a moment ago: keep the socket rather than drop it.
            tracing::warn!(%error, "could not check a socket's session again");
            true
        }
    }
}

/// The limits every socket has: frames and messages over [`MAX_FRAME_BYTES`] close it (1009),
/// and a bounded write buffer.
fn limited(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_FRAME_BYTES * 4)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
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

/// Closes with a code and reason, not waiting long for a peer that does not read.
async fn close(socket: &mut WebSocket, code: u16, reason: Utf8Bytes) {
    let frame = CloseFrame { code, reason };
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(frame)))).await;
}

/// Pings a socket now and then and notices when it stopped answering: a client whose network
/// vanished (a closed laptop lid) never closes its socket, and would count as online forever.
struct Heartbeat {
    ticks: tokio::time::Interval,
    timeout: Duration,
    last_heard: tokio::time::Instant,
}

enum Beat {
    Ping,
    Dead,
}

impl Heartbeat {
    fn new(state: &AppState) -> Self {
        let interval = state.config.heartbeat_interval;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self { ticks, timeout: state.config.heartbeat_timeout, last_heard: tokio::time::Instant::now() }
    }

    /// Waits for the next beat: time to ping, or time to give up on a silent peer.
    async fn beat(&mut self) -> Beat {
        self.ticks.tick().await;
        if self.last_heard.elapsed() > self.timeout {
            Beat::Dead
        } else {
            Beat::Ping
        }
    }

    /// Any frame from the peer (a pong included) shows it is alive.
    fn heard(&mut self) {
        self.last_heard = tokio::time::Instant::now();
    }
}

/// Acts on a beat: pings the peer, or gives up on it. `Err` means the socket is done.
async fn on_beat(socket: &mut WebSocket, beat: Beat) -> Result<(), ()> {
    match beat {
        Beat::Ping => match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        },
        Beat::Dead => {
            tracing::info!("dropping a socket that stopped answering pings");
            Err(())
        }
    }
}

/// What a read from a client means for the socket's loop.
enum Read {
    Text(Utf8Bytes),
    Binary,
    /// Control frames: pings are answered by the library, pongs need nothing.
    Nothing,
    /// The client closed, vanished or broke the rules; the socket is done.
    Stop,
}

/// Sorts what `socket.recv()` gave, closing the socket properly after a read error.
async fn read(
    socket: &mut WebSocket,
    heartbeat: &mut Heartbeat,
    incoming: Option<Result<Message, axum::Error>>,
) -> Read {
    if matches!(incoming, Some(Ok(_))) {
        heartbeat.heard();
    }
    match incoming {
        Some(Ok(Message::Text(text))) => Read::Text(text),
        Some(Ok(Message::Binary(_))) => Read::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Read::Nothing,
        Some(Ok(Message::Close(_))) | None => Read::Stop,
        Some(Err(error)) => {
            close_after_read_error(socket, &error).await;
            Read::Stop
        }
    }
}

/// What to do after a read error: a frame over the limit is told so (1009), a text frame that
/// is not UTF-8 too (1007); anything else (a vanished peer) just ends the socket.
async fn close_after_read_error(socket: &mut WebSocket, error: &axum::Error) {
    match protocol_error(error) {
        Some(tungstenite::Error::Capacity(_)) => {
            let limit = format!("frame too large: the limit is {} KiB", MAX_FRAME_BYTES / 1024);
            close(socket, close_code::SIZE, Utf8Bytes::from(limit)).await;
        }
        Some(tungstenite::Error::Utf8(_)) => {
            close(socket, close_code::INVALID, Utf8Bytes::from_static("text frames must be UTF-8")).await;
        }
        _ => tracing::debug!(%error, "socket read failed"),
    }
}

/// A socket that fell too far behind the events of its channel is closed with 1013, "try
/// again later": its client reconnects and reloads what it missed.
async fn close_lagging(state: &AppState, socket: &mut WebSocket, missed: u64) {
    tracing::info!(missed, "dropping a socket that fell behind");
    state.metrics.dropped_lagging();
    close(socket, close_code::AGAIN, Utf8Bytes::from_static("too slow: reconnect")).await;
}

/// The WebSocket protocol's own error under axum's, if that is what it is.
fn protocol_error(error: &axum::Error) -> Option<&tungstenite::Error> {
    let inner: &(dyn std::error::Error + 'static) = error;
    let mut source = Some(inner);
    while let Some(error) = source {
        if let Some(found) = error.downcast_ref::<tungstenite::Error>() {
            return Some(found);
        }
        source = error.source();
    }
    None
}
