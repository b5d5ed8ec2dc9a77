//! The signed-in person's live state, kept in [`Session`] by their own socket (`/ws/chat/`):
//! the sidebar reloads when rooms come and go, unread badges and presence follow the events,
//! and notifications show for private messages and mentions.

use leptos::prelude::*;

use crate::protocol::UserEvent;
use crate::session::Session;

/// Folds one event of the person's own socket into the session.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn apply(session: Session, event: UserEvent) {
    match event {
        UserEvent::RoomAdded { .. } | UserEvent::RoomRemoved { .. } | UserEvent::RoomRenamed { .. } => {
            session.rooms_changed.update(|n| *n += 1)
        }
        UserEvent::Unread { room, count } => session.unread.update(|unread| {
            unread.insert(room, count);
        }),
        UserEvent::Presence { online, offline } => session.presence.update(|presence| {
            presence.extend(online.into_iter().map(|username| (username, true)));
            presence.extend(offline.into_iter().map(|username| (username, false)));
        }),
        UserEvent::Notify { title, message, mention } => {
            super::notify::show(&crate::protocol::Notice::new(&title, &message, mention));
        }
        UserEvent::Error { message, .. } => leptos::logging::warn!("{message}"),
        UserEvent::Pong | UserEvent::SyncResult(_) => {}
    }
}

/// Opens the person's own socket for as long as the calling component lives, folding its
/// events into `session`. Nothing on the server.
pub fn connect(session: Session) {
    #[cfg(feature = "hydrate")]
    {
        use super::transport::{Connection, Handlers, Status, Storage};
        use crate::protocol::ClientControl;

        let handlers = Handlers {
            ping: ClientControl::Ping.to_json(),
            on_open: Box::new(|| {}),
            on_text: Box::new(move |text| match serde_json::from_str(text) {
                Ok(event) => apply(session, event),
                Err(error) => leptos::logging::warn!("ignoring an event this page does not understand: {error}"),
            }),
            still_welcome: Box::new(super::still_signed_in),
        };
        let connection =
            Connection::open(|| crate::url::USER_SOCKET.to_owned(), RwSignal::new(Status::Connecting), handlers);
        let connection = StoredValue::<_, Storage>::new_with_storage(connection);
        on_cleanup(move || {
            if let Some(Some(connection)) = connection.try_update_value(|c| c.take()) {
                connection.stop();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = session;
}
