//! What every request handler shares, and the few operations every kind of handler needs:
//! who is signed in, who may see a room, posting a message (see `messaging`).

use std::sync::Arc;

use app::domain::{ClientId, MessageBody};
use axum::extract::FromRef;
use http::HeaderMap;
use leptos::prelude::LeptosOptions;

use crate::auth;
use crate::avatars::Avatars;
use crate::config::Config;
use crate::messaging::{Committer, PostError, Posted};
use crate::realtime::hub::Hub;
use crate::realtime::redis::RedisBroker;
use crate::store::{Room, Store, StoreError, User};
use app::domain::RoomName;
use app::model::RoomKind;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub config: Arc<Config>,
    pub avatars: Avatars,
    /// Where every message is stored (in batches) and published from.
    pub committer: Committer,
    /// The Redis broker, with several instances (`REDIS_URL`).
    pub bus: Option<Arc<RedisBroker>>,
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

    /// The room called `name` and whether `user` is a member, if they may see it: members see
    /// their rooms, and everyone signed in sees public rooms. For anyone else a private room
    /// is `None`, exactly like a room that does not exist.
    pub async fn viewable_room(&self, user: &User, name: &str) -> Result<Option<(Room, bool)>, StoreError> {
        let Some(name) = RoomName::parse(name) else { return Ok(None) };
        let Some(room) = self.store.room_by_name(name.as_str()).await? else { return Ok(None) };
        let is_member = self.store.is_member(room.id, user.id).await?;
        Ok((is_member || room.kind() == RoomKind::Public).then_some((room, is_member)))
    }

    /// Stores a message from a member (through the committer, with whatever else is waiting)
    /// and sends it to everyone in the room. A message whose client id was stored before is
    /// not stored or sent again: the first one is returned as `Again`.
    pub async fn post_message(
        &self,
        room: &Room,
        author: &User,
        body: &MessageBody,
        client_id: Option<&ClientId>,
    ) -> Result<Posted, PostError> {
        if !self.store.is_member(room.id, author.id).await? {
            return Err(PostError::NotMember);
        }
        let answer = self
            .committer
            .submit(Arc::new(room.clone()), Arc::new(author.clone()), body.clone(), client_id.cloned())
            .await;
        answer.await.unwrap_or(Err(PostError::RoomGone))
    }

    /// Tells the people who may see `user` in the directory, and have the app open anywhere,
    /// that `user` came online or went offline (at the hub's next flush).
    pub async fn announce_presence(&self, user: &User, online: bool) {
        let roles = match self.store.roles_of(user.id).await {
            Ok(roles) => roles,
            Err(error) => {
                tracing::warn!(%error, "could not announce presence");
                return;
            }
        };
        self.hub.presence_changed(user.id, &user.username, roles, online);
    }
}
