//! `/ws/chat/` opened with `Authorization: Bearer <token>` instead of a session: another
//! system's socket. Each `{"type":"all_users",…}` frame is a sync, answered with a
//! `sync_result` event (or an `error` event, when the frame is refused whole); pings are
//! answered. The token is checked again at every frame, so revoking it stops the next sync.

use app::protocol::{ClientControl, ErrorCode, UserEvent};
use axum::extract::ws::{close_code, Utf8Bytes, WebSocket};

use super::{close, on_beat, read, send, stopping, Heartbeat, Read, RESTARTING};
use crate::metrics::Held;
use crate::services::provisioning::{self, SyncError};
use crate::state::AppState;

#[tracing::instrument(name = "provisioning_socket", skip_all, fields(token = %token_name))]
pub async fn serve(
    mut socket: WebSocket,
    state: AppState,
    token: String,
    token_name: String,
    base_url: String,
    _open: Held,
) {
    let mut heartbeat = Heartbeat::new(&state);
    let mut stop = std::pin::pin!(stopping(&state));
    loop {
        let reply = tokio::select! {
            // A sync under way finishes first (the select waits for this branch's body).
            () = &mut stop => {
                close(&mut socket, close_code::RESTART, Utf8Bytes::from_static(RESTARTING)).await;
                break;
            }
            beat = heartbeat.beat() => {
                if on_beat(&mut socket, beat).await.is_err() {
                    break;
                }
                continue;
            }
            incoming = socket.recv() => match read(&mut socket, &mut heartbeat, incoming).await {
                Read::Text(text) if ClientControl::is_ping(&text) => UserEvent::Pong,
                Read::Text(text) => match sync(&state, &token, &text, &base_url).await {
                    Ok(event) => event,
                    Err(SyncError::BadToken | SyncError::NoToken) => {
                        close(&mut socket, close_code::POLICY, Utf8Bytes::from_static("token revoked")).await;
                        break;
                    }
                    Err(error) => {
                        let code = match error {
                            SyncError::Store(_) => ErrorCode::Unavailable,
                            _ => ErrorCode::MalformedFrame,
                        };
                        UserEvent::Error { code, message: error.public_message() }
                    }
                },
                Read::Binary => UserEvent::Error {
                    code: ErrorCode::BinaryNotSupported,
                    message: "send provisioning frames as text (JSON)".into(),
                },
                Read::Nothing => continue,
                Read::Stop => break,
            },
        };
        if send(&mut socket, Utf8Bytes::from(reply.to_json())).await.is_err() {
            break;
        }
    }
}

async fn sync(state: &AppState, token: &str, text: &str, base_url: &str) -> Result<UserEvent, SyncError> {
    provisioning::check_token(state, Some(token)).await?;
    let request = provisioning::parse(text.as_bytes())?;
    Ok(UserEvent::SyncResult(provisioning::sync(state, request, base_url).await?))
}
