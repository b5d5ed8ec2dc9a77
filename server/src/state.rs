//! What every request handler shares, and the operations that need both the database and the
//! hub (so the socket and the no-JavaScript form post a message the same way).

use std::sync::Arc;

use app::domain::{ClientId, MessageBody};
use app::protocol::{ChatMessage, UserEvent};
use axum::extract::ws::Utf8Bytes;
use axum::extract::FromRef;
use http::HeaderMap;
use leptos::prelude::LeptosOptions;

use crate::auth;
use crate::avatars::Avatars;
use crate::config::Config;
use crate::hub::Hub;
use crate::store::{Inserted, Room, Store, StoreError, User};
use app::domain::RoomName;
use app::model::RoomKind;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub config: Arc<Config>,
    pub avatars: Avatars,
    /// The Redis bus, with several instances (`REDIS_URL`).
    pub bus: Option<Arc<crate::bus::Bus>>,
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

    /// Stores a message from a member, then sends it to everyone in the room. The room's write
    /// lock makes this instance publish messages in `seq` order. A message whose client id was
    /// stored before is not stored or sent again: the first one is returned as `Again`.
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
        let channel = self.hub.channel(room.id, &room.name);
        let _ordered = channel.write_lock.lock().await;
        match self.store.insert_message(room, author.id, body.as_str(), client_id.map(ClientId::as_str)).await? {
            Inserted::New(stored) => {
                let message = stored.into_wire(&room.name);
                channel.publish_message(&message, Some(author.id));
                // Still under the room's lock, so each person's counts arrive in order.
                self.announce_unread(room, Some(author.id)).await;
                self.notify_people(room, author, &message).await;
                Ok(Posted::New(message))
            }
            Inserted::Again(stored) => Ok(Posted::Again(stored.into_wire(&room.name))),
        }
    }
}

impl AppState {
    /// Tells every member with the app open here (except `skip`) their unread count of the
    /// room. Each instance does this for its own people. A failure only costs a badge update,
    /// so it is logged, not returned.
    pub async fn announce_unread(&self, room: &Room, skip: Option<i64>) {
        self.announce_unread_of(room.id, &room.name, skip).await;
    }

    /// [`AppState::announce_unread`] by the room's id and name, which is all it needs (a
    /// message from another instance carries both, so no room is read per message).
    pub async fn announce_unread_of(&self, room_id: i64, room_name: &str, skip: Option<i64>) {
        let online: Vec<i64> = self.hub.connected_users().into_iter().filter(|id| Some(*id) != skip).collect();
        if online.is_empty() {
            return;
        }
        match self.store.unread_for(room_id, &online).await {
            Ok(counts) => {
                for (user_id, count) in counts {
                    let event = UserEvent::Unread { room: room_name.to_owned(), count };
                    self.hub.notify_user_here(user_id, Utf8Bytes::from(event.to_json()));
                }
            }
            Err(error) => tracing::warn!(%error, "could not count unread messages"),
        }
    }

    /// Sends a `notify` event for a new message to the other person of a private chat and to
    /// the members it mentions. Their pages decide whether to show it (only when not in view).
    async fn notify_people(&self, room: &Room, author: &User, message: &ChatMessage) {
        let mut told: Vec<i64> = Vec::new();
        if room.kind() == RoomKind::Direct {
            match self.store.other_member(room, author.id).await {
                Ok(Some(other)) => {
                    let event =
                        UserEvent::Notify { title: author.shown_name(), message: message.clone(), mention: false };
                    self.hub.notify_user(other.id, Utf8Bytes::from(event.to_json()));
                    told.push(other.id);
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not find the other person of a chat"),
            }
        }
        let mentioned = app::domain::mentions(&message.body);
        match self.store.members_named(room.id, &mentioned, author.id).await {
            Ok(ids) => {
                let title = if room.kind() == RoomKind::Direct { author.shown_name() } else { room.title.clone() };
                let event =
                    Utf8Bytes::from(UserEvent::Notify { title, message: message.clone(), mention: true }.to_json());
                for id in ids.into_iter().filter(|id| !told.contains(id)) {
                    self.hub.notify_user(id, event.clone());
                }
            }
            Err(error) => tracing::warn!(%error, "could not look up mentions"),
        }
    }

    /// Tells the people who may see `user` in the directory, and have the app open, that
    /// `user` came online or went offline (here, and through the other instances).
    pub async fn announce_presence(&self, user: &User, online: bool) {
        self.hub.send_envelope(crate::hub::Envelope::Presence { user_id: user.id, online });
        self.announce_presence_here(user, online).await;
    }

    /// [`AppState::announce_presence`] for the people with the app open on this instance.
    pub async fn announce_presence_here(&self, user: &User, online: bool) {
        let connected = self.hub.connected_users();
        match self.store.viewers_among(user.id, &connected).await {
            Ok(viewers) => {
                let event = Utf8Bytes::from(UserEvent::Presence { username: user.username.clone(), online }.to_json());
                for viewer in viewers {
                    self.hub.notify_user_here(viewer, event.clone());
                }
            }
            Err(error) => tracing::warn!(%error, "could not announce presence"),
        }
    }

    pub fn notify_unread(&self, room: &Room, user_id: i64, count: u32) {
        let event = UserEvent::Unread { room: room.name.clone(), count };
        self.hub.notify_user(user_id, Utf8Bytes::from(event.to_json()));
    }
}

/// A message that was posted: now, or before under the same client id.
#[derive(Debug)]
pub enum Posted {
    New(ChatMessage),
    Again(ChatMessage),
}

/// Why a message was not posted.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("join the room to post in it")]
    NotMember,
    #[error(transparent)]
    Store(#[from] StoreError),
}
