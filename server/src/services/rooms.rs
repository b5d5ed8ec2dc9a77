//! Rooms, their members and history, as one signed-in person sees them. Every method starts
//! from "which rooms may this person see": a room they may not see is `NotFound`, answered
//! exactly as for a room that does not exist.

use app::backend::Rooms;
use app::domain::{Emoji, MessageBody, RoomName, RoomTitle, Visibility};
use app::error::AppError;
use app::model::{
    shown_name, CurrentUser, HistoryPage, PublicRoom, RoomKind, RoomPage, RoomSettings, RoomSummary, DELETED_USER,
    HISTORY_PAGE_MESSAGES, ROOM_PAGE_MESSAGES,
};
use app::protocol::{Author, ClosedReason, ServerEvent, UserEvent};
use async_trait::async_trait;
use axum::extract::ws::Utf8Bytes;

use super::{changes, me, messaging, person, throttle, Services};
use crate::realtime::hub;
use crate::state::AppState;
use crate::store::{Listed, Room, StoreError, StoredMessage, User};

/// The room called `name` and whether `user` is a member, if they may see it: members see
/// their rooms, and everyone signed in sees public rooms. For anyone else a private room
/// is `None`, exactly like a room that does not exist.
pub async fn viewable(state: &AppState, user: &User, name: &str) -> Result<Option<(Room, bool)>, StoreError> {
    let Some(name) = RoomName::parse(name) else { return Ok(None) };
    let Some(room) = state.store.room_by_name(name.as_str()).await? else { return Ok(None) };
    let is_member = state.store.is_member(room.id, user.id).await?;
    Ok((is_member || room.kind() == RoomKind::Public).then_some((room, is_member)))
}

/// How many people the `@` autocomplete offers at once.
const MENTION_SUGGESTIONS: i64 = 8;

/// How many public rooms "browse rooms" lists at once; a search narrows it.
const PUBLIC_ROOMS_LIMIT: i64 = 200;

/// Owners cannot leave (or be removed from) their own room.
fn owner_stays() -> AppError {
    AppError::NotAllowed("you own this room: hand it to another member first, or delete it".into())
}

fn not_owner() -> AppError {
    AppError::NotAllowed("only the room's owner can do that".into())
}

/// Splits off the extra row fetched to learn whether older messages exist.
fn page(mut messages: Vec<StoredMessage>, limit: i64, room: &str) -> (Vec<app::protocol::ChatMessage>, bool) {
    let has_older = messages.len() as i64 > limit;
    if has_older {
        messages.remove(0);
    }
    (messages.into_iter().map(|m| m.into_wire(room)).collect(), has_older)
}

/// A room as the sidebar and headers show it to one person.
fn summary(state: &AppState, room: &Room, other: Option<Listed>) -> RoomSummary {
    let other = other.map(|listed| person(state, listed));
    let title = match (room.kind(), &other) {
        (RoomKind::Direct, Some(other)) => other.display_name.clone(),
        (RoomKind::Direct, None) => DELETED_USER.to_owned(),
        _ => room.title.clone(),
    };
    RoomSummary { name: room.name.clone(), title, kind: room.kind(), other, unread: 0 }
}

async fn seen_room(state: &AppState, me: &User, name: &str) -> Result<(Room, bool), AppError> {
    viewable(state, me, name).await?.ok_or(AppError::NotFound)
}

/// A group room `me` owns (never the public chat or a one-to-one chat).
async fn owned_room(state: &AppState, me: &User, name: &str) -> Result<Room, AppError> {
    let (room, is_member) = seen_room(state, me, name).await?;
    if room.kind() == RoomKind::Direct || room.is_public_chat() || !is_member || room.owner_id != Some(me.id) {
        return Err(not_owner());
    }
    Ok(room)
}

/// Someone `me` may see in the directory, by username.
async fn visible_person(state: &AppState, me: &User, username: &str) -> Result<User, AppError> {
    let other = state.store.visible_user(me, username).await?;
    other.ok_or_else(|| AppError::Invalid(format!("nobody called {username:?} is in your directory")))
}

/// A member of the room, by username.
async fn member(state: &AppState, room: &Room, username: &str) -> Result<Listed, AppError> {
    let members = state.store.members(room.id).await?;
    members
        .into_iter()
        .find(|m| m.username.eq_ignore_ascii_case(username.trim()))
        .ok_or_else(|| AppError::Invalid(format!("{username:?} is not a member of this room: add them first")))
}

async fn summary_for(state: &AppState, room: &Room, user_id: i64) -> Result<RoomSummary, AppError> {
    let other = match room.kind() {
        RoomKind::Direct => state.store.other_member(room, user_id).await?,
        _ => None,
    };
    Ok(summary(state, room, other))
}

/// Tells every open tab of `user_id` that they are now in `room` (their sidebar gains it).
pub(super) async fn announce_added(state: &AppState, room: &Room, user_id: i64) -> Result<(), AppError> {
    let event = UserEvent::RoomAdded { room: summary_for(state, room, user_id).await? };
    // Their badge for it counts from now on, wherever they have the app open.
    messaging::refresh_member(&state.store, &state.hub, room.id, user_id).await;
    state.hub.notify_user(user_id, Utf8Bytes::from(event.to_json()));
    Ok(())
}

/// Tells every open tab of `user_id` they are no longer in `room`, and closes their
/// sockets on it unless anyone may still read it (a public room).
fn announce_removed(state: &AppState, room: &Room, user_id: i64, reason: ClosedReason) {
    state.hub.left_room(user_id, room.id);
    state.hub.notify_user(user_id, Utf8Bytes::from(UserEvent::RoomRemoved { room: room.name.clone() }.to_json()));
    if room.kind() != RoomKind::Public {
        let closed = ServerEvent::RoomClosed { room: room.name.clone(), reason };
        state.hub.close_room(room.id, Some(user_id), hub::encode(&closed));
    }
}

#[async_trait]
impl Rooms for Services {
    async fn my_rooms(&self, user: &CurrentUser) -> Result<Vec<RoomSummary>, AppError> {
        let rooms = self.store.rooms_of(user.id).await?;
        Ok(rooms.into_iter().map(|r| RoomSummary { unread: r.unread, ..summary(self, &r.room, r.other) }).collect())
    }

    async fn room_page(&self, user: &CurrentUser, name: &str, before: Option<i64>) -> Result<RoomPage, AppError> {
        let me = me(self, user).await?;
        let (room, is_member) = seen_room(self, &me, name).await?;
        let limit = if before.is_some() { HISTORY_PAGE_MESSAGES } else { ROOM_PAGE_MESSAGES };
        // Read before the messages: a change made in between is then both shown and sent
        // again when the socket resumes from here, never missed.
        let (_, last_change) = self.store.position(room.id).await?;
        let stored = self.store.messages_before(&room, before, limit + 1).await?;
        let (messages, has_older) = page(stored, limit, &room.name);
        // Where the "New messages" line goes: read before the page is seen (and marked read).
        let read_up_to =
            if is_member && before.is_none() { self.store.read_position(room.id, me.id).await? } else { None };
        Ok(RoomPage {
            room: summary_for(self, &room, me.id).await?,
            messages,
            has_older,
            is_history: before.is_some(),
            online: self.hub.online_count(room.id),
            is_member,
            is_owner: is_member && room.owner_id == Some(me.id),
            last_change,
            me: me.username.clone(),
            moderates: super::changes::moderates(&room, &me),
            read_up_to,
        })
    }

    async fn history(&self, user: &CurrentUser, name: &str, before: i64) -> Result<HistoryPage, AppError> {
        let me = me(self, user).await?;
        let (room, _) = seen_room(self, &me, name).await?;
        let stored = self.store.messages_before(&room, Some(before), HISTORY_PAGE_MESSAGES + 1).await?;
        let (messages, has_older) = page(stored, HISTORY_PAGE_MESSAGES, &room.name);
        Ok(HistoryPage { messages, has_older })
    }

    async fn post_message(
        &self,
        user: &CurrentUser,
        name: &str,
        body: MessageBody,
        reply_to: Option<i64>,
    ) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, _) = seen_room(self, &me, name).await?;
        messaging::post(self, &room, &me, &body, None, reply_to).await?;
        Ok(())
    }

    async fn edit_message(&self, user: &CurrentUser, name: &str, seq: i64, body: MessageBody) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, is_member) = seen_room(self, &me, name).await?;
        Ok(changes::edit(self, &room, &me, is_member, seq, &body).await?)
    }

    async fn delete_message(&self, user: &CurrentUser, name: &str, seq: i64) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, _) = seen_room(self, &me, name).await?;
        Ok(changes::delete(self, &room, &me, seq).await?)
    }

    async fn react(&self, user: &CurrentUser, name: &str, seq: i64, emoji: Emoji, on: bool) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, is_member) = seen_room(self, &me, name).await?;
        Ok(changes::react(self, &room, &me, is_member, seq, &emoji, on).await?)
    }

    async fn mentionable(&self, user: &CurrentUser, name: &str, prefix: &str) -> Result<Vec<Author>, AppError> {
        let me = me(self, user).await?;
        let (room, _) = seen_room(self, &me, name).await?;
        let prefix = prefix.trim().trim_start_matches('@');
        if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || prefix.len() > 40 {
            return Ok(Vec::new());
        }
        let found = self.store.members_starting(room.id, prefix, MENTION_SUGGESTIONS).await?;
        Ok(found
            .into_iter()
            .map(|(_, username, display_name, avatar)| Author {
                display_name: shown_name(&username, display_name.as_deref()),
                username,
                avatar: avatar.as_deref().map(app::url::avatar),
            })
            .collect())
    }

    async fn public_rooms(&self, user: &CurrentUser, query: &str) -> Result<Vec<PublicRoom>, AppError> {
        let rooms = self.store.public_rooms(user.id, query, PUBLIC_ROOMS_LIMIT).await?;
        Ok(rooms
            .into_iter()
            .map(|r| PublicRoom { name: r.name, title: r.title, members: r.members, is_member: r.is_member })
            .collect())
    }

    async fn create_room(
        &self,
        user: &CurrentUser,
        title: RoomTitle,
        visibility: Visibility,
    ) -> Result<String, AppError> {
        let me = me(self, user).await?;
        throttle::spend(self, throttle::rooms_by_key(me.id), self.config.limits.rooms_per_hour).await?;
        let room = self.store.create_group_room(&title, visibility, &me).await?;
        tracing::info!(room = %room.name, "room created");
        announce_added(self, &room, me.id).await?;
        Ok(room.name)
    }

    async fn join_room(&self, user: &CurrentUser, name: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, _) = seen_room(self, &me, name).await?;
        if self.store.add_member(room.id, me.id).await? {
            announce_added(self, &room, me.id).await?;
        }
        Ok(())
    }

    async fn leave_room(&self, user: &CurrentUser, name: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let (room, is_member) = seen_room(self, &me, name).await?;
        if room.is_public_chat() {
            return Err(AppError::NotAllowed("everyone stays in the public chat".into()));
        }
        if room.kind() == RoomKind::Direct {
            return Err(AppError::NotAllowed("one-to-one chats cannot be left".into()));
        }
        if room.owner_id == Some(me.id) {
            return Err(owner_stays());
        }
        if is_member && self.store.remove_member(room.id, me.id).await? {
            announce_removed(self, &room, me.id, ClosedReason::Removed);
        }
        Ok(())
    }

    async fn room_settings(&self, user: &CurrentUser, name: &str) -> Result<RoomSettings, AppError> {
        let me = me(self, user).await?;
        let (room, is_member) = seen_room(self, &me, name).await?;
        if room.kind() == RoomKind::Direct || room.is_public_chat() {
            return Err(AppError::NotAllowed("only group rooms have members to manage".into()));
        }
        let members = self.store.members(room.id).await?;
        let owner = members.iter().find(|m| Some(m.id) == room.owner_id).map(|m| m.username.clone());
        Ok(RoomSettings {
            room: summary(self, &room, None),
            owner,
            members: members.into_iter().map(|p| person(self, p)).collect(),
            is_member,
            is_owner: is_member && room.owner_id == Some(me.id),
        })
    }

    async fn add_member(&self, user: &CurrentUser, name: &str, username: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let room = owned_room(self, &me, name).await?;
        let other = visible_person(self, &me, username).await?;
        if self.store.add_member(room.id, other.id).await? {
            announce_added(self, &room, other.id).await?;
        }
        Ok(())
    }

    async fn remove_member(&self, user: &CurrentUser, name: &str, username: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let room = owned_room(self, &me, name).await?;
        let other = member(self, &room, username).await?;
        if other.id == me.id {
            return Err(owner_stays());
        }
        if self.store.remove_member(room.id, other.id).await? {
            announce_removed(self, &room, other.id, ClosedReason::Removed);
        }
        Ok(())
    }

    async fn transfer_room(&self, user: &CurrentUser, name: &str, username: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let room = owned_room(self, &me, name).await?;
        let other = member(self, &room, username).await?;
        self.store.set_owner(room.id, other.id).await?;
        Ok(())
    }

    async fn rename_room(&self, user: &CurrentUser, name: &str, title: RoomTitle) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let room = owned_room(self, &me, name).await?;
        self.store.rename_room(room.id, &title).await?;
        let renamed = ServerEvent::RoomRenamed { room: room.name.clone(), title: title.as_str().to_owned() };
        self.hub.publish(room.id, hub::encode(&renamed));
        let renamed = Utf8Bytes::from(
            UserEvent::RoomRenamed { room: room.name.clone(), title: title.as_str().to_owned() }.to_json(),
        );
        for member in self.store.members(room.id).await? {
            self.hub.notify_user(member.id, renamed.clone());
        }
        Ok(())
    }

    async fn delete_room(&self, user: &CurrentUser, name: &str, confirm: &str) -> Result<(), AppError> {
        let me = me(self, user).await?;
        let room = owned_room(self, &me, name).await?;
        let confirm = confirm.trim();
        if confirm != room.title && confirm != room.name {
            return Err(AppError::Invalid(format!(
                "to delete the room and all its messages, type its name ({}) exactly",
                room.title
            )));
        }
        remove_room(self, &room).await
    }
}

/// Deletes a room with its messages: its open sockets close (`room_closed`, reason
/// `deleted`) and every member's sidebar loses it.
pub(super) async fn remove_room(state: &AppState, room: &Room) -> Result<(), AppError> {
    let members = state.store.members(room.id).await?;
    state.store.delete_room(room.id).await?;
    tracing::info!(room = %room.name, "room deleted");
    state.files.sweep(&state.store).await;
    let closed = ServerEvent::RoomClosed { room: room.name.clone(), reason: ClosedReason::Deleted };
    state.hub.close_room(room.id, None, hub::encode(&closed));
    let removed = Utf8Bytes::from(UserEvent::RoomRemoved { room: room.name.clone() }.to_json());
    for member in members {
        state.hub.left_room(member.id, room.id);
        state.hub.notify_user(member.id, removed.clone());
    }
    Ok(())
}
