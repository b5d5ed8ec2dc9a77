//! `/ws/chat/`: a signed-in person's own socket, one per open tab. It carries what is not
//! about the room on screen (see `app::protocol::UserEvent`); clients send nothing on it yet.

use app::protocol::{ClientControl, ErrorCode, UserEvent};
use axum::extract::ws::{close_code, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;

use super::{
    authorize, close, close_lagging, limited, on_beat, read, send, still_signed_in, stopping, Heartbeat, Read,
    RESTARTING, SESSION_ENDED,
};
use crate::error::Error;
use crate::metrics::{Held, SocketKind};
use crate::realtime::hub::UserFrame;
use crate::realtime::presence::Viewer;
use crate::services::provisioning::{self, SyncError};
use crate::services::throttle::SocketSlot;
use crate::state::AppState;
use crate::store::User;

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    // Another system provisioning people, rather than a person.
    if let Some(token) = crate::auth::bearer_token(&headers).map(str::to_owned) {
        let name = provisioning::check_token(&state, Some(&token)).await.map_err(|error| match error {
            SyncError::Store(store) => Error::from(store),
            _ => Error::BadToken,
        })?;
        let base_url = state.config.base_url(Some(&headers));
        return Ok(limited(ws)
            .on_upgrade(move |socket| {
                let open = state.metrics.socket_opened(SocketKind::Provisioning);
                super::provisioning::serve(socket, state, token, name, base_url, open)
            })
            .into_response());
    }
    let super::Admitted { user, slot, session } = authorize(&state, &headers).await?;
    let held = (slot, state.metrics.socket_opened(SocketKind::User));
    let span = tracing::Span::current();
    Ok(limited(ws).on_upgrade(move |socket| serve(socket, state, user, session, held).instrument(span)).into_response())
}

#[tracing::instrument(name = "user_socket", skip_all, fields(user = %user.username))]
async fn serve(mut socket: WebSocket, state: AppState, user: User, session: Vec<u8>, _held: (SocketSlot, Held)) {
    let roles = match state.store.roles_of(user.id).await {
        Ok(roles) => roles,
        Err(error) => {
            tracing::error!(%error, "could not read a person's roles");
            close(&mut socket, close_code::AGAIN, Utf8Bytes::from_static("try again")).await;
            return;
        }
    };
    let viewer = Viewer { roles: roles.clone(), is_admin: user.is_admin };
    let mut subscription = state.hub.subscribe_user(user.id, viewer);
    if !still_signed_in(&state, &session).await {
        // Nobody was told they came online: nothing to undo but the subscription.
        close(&mut socket, close_code::POLICY, Utf8Bytes::from_static(SESSION_ENDED)).await;
        return;
    }
    if subscription.first {
        // Their badges are counted here from now on.
        crate::services::messaging::load_unread(&state.store, &state.hub, user.id).await;
        // Their first tab, here and (with several instances) elsewhere: they came online.
        if !online_elsewhere(&state, user.id).await {
            state.hub.presence_changed(user.id, &user.username, roles.clone(), true);
        }
    }
    let mut heartbeat = Heartbeat::new(&state);
    let mut stop = std::pin::pin!(stopping(&state));
    loop {
        tokio::select! {
            () = &mut stop => {
                close(&mut socket, close_code::RESTART, Utf8Bytes::from_static(RESTARTING)).await;
                break;
            }
            beat = heartbeat.beat() => {
                if on_beat(&mut socket, beat).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match read(&mut socket, &mut heartbeat, incoming).await {
                Read::Text(text) if ClientControl::is_ping(&text) => {
                    if send(&mut socket, Utf8Bytes::from(UserEvent::Pong.to_json())).await.is_err() {
                        break;
                    }
                }
                Read::Text(_) | Read::Binary => {
                    let reply = UserEvent::Error {
                        code: ErrorCode::MalformedFrame,
                        message: "this socket only sends events (and answers {\"type\":\"ping\"}): post messages on the room's socket".into(),
                    };
                    if send(&mut socket, Utf8Bytes::from(reply.to_json())).await.is_err() {
                        break;
                    }
                }
                Read::Nothing => {}
                Read::Stop => break,
            },
            event = subscription.events.recv() => match event {
                Ok(UserFrame::Event(frame)) => {
                    if send(&mut socket, frame).await.is_err() {
                        break;
                    }
                }
                Ok(UserFrame::End) => {
                    close(&mut socket, close_code::POLICY, Utf8Bytes::from_static(SESSION_ENDED)).await;
                    break;
                }
                Err(RecvError::Lagged(missed)) => {
                    close_lagging(&state, &mut socket, missed).await;
                    break;
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    // The last tab closing, here and elsewhere, takes the person offline.
    drop(subscription);
    if !state.hub.is_connected_here(user.id) && !online_elsewhere(&state, user.id).await {
        state.hub.presence_changed(user.id, &user.username, roles, false);
    }
}

/// With several instances: writes this instance's open tabs, then asks whether the person has
/// one open on another instance. Alone: never.
async fn online_elsewhere(state: &AppState, user_id: i64) -> bool {
    match &state.bus {
        Some(bus) => {
            bus.note_online().await;
            bus.online_elsewhere_now(user_id).await
        }
        None => false,
    }
}
