//! What every request handler shares, and the operations that need both the database and the
//! hub (so the socket and the no-JavaScript form post a message the same way).

use std::sync::Arc;

use app::domain::MessageBody;
use app::protocol::{ChatMessage, ServerEvent};
use axum::extract::FromRef;
use http::HeaderMap;
use leptos::prelude::LeptosOptions;

use crate::auth;
use crate::config::Config;
use crate::hub::{self, Hub};
use crate::store::{Room, Store, StoreError, User};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// The signed-in user, from the session cookie.
    pub async fn user_from_headers(&self, headers: &HeaderMap) -> Result<Option<User>, StoreError> {
        match auth::session_token(headers) {
            Some(token) => self.store.session_user(&auth::token_hash(&token)).await,
            None => Ok(None),
        }
    }

    /// Stores a message, then sends it to everyone in the room. The room's write lock makes
    /// this instance publish messages in `seq` order.
    pub async fn post_message(&self, room: &Room, author: &User, body: &MessageBody) -> Result<ChatMessage, StoreError> {
        let channel = self.hub.channel(room.id, &room.name);
        let _ordered = channel.write_lock.lock().await;
        let message = self.store.insert_message(room, author.id, body.as_str()).await?.into_wire(&room.name);
        channel.publish(hub::encode(&ServerEvent::Message(message.clone())));
        Ok(message)
    }
}
