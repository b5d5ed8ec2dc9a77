//! The admin page's powers: people (suspend, roles, admin flag, password links) and rooms
//! (read, delete a message, delete the room). Only for people with the admin flag; everyone
//! else is told the page does not exist.

use app::backend::Admin;
use app::domain::Role;
use app::error::AppError;
use app::model::{AdminOverview, AdminRoom, AdminRoomPage, AdminUser, CurrentUser, RoomKind, ADMIN_ROOM_MESSAGES};
use async_trait::async_trait;
use http::HeaderMap;

use super::rooms::remove_room;
use super::{person, Services};
use crate::state::AppState;
use crate::store::{AdminRoomRow, Room, User};

fn admin_room(row: AdminRoomRow) -> AdminRoom {
    AdminRoom {
        name: row.name,
        title: row.title,
        kind: RoomKind::parse(&row.kind).unwrap_or(RoomKind::Public),
        owner: row.owner,
        members: row.members,
        messages: row.messages,
    }
}

/// The signed-in admin, fresh from the database; anyone else gets `NotFound`.
async fn admin(state: &AppState, user: &CurrentUser) -> Result<User, AppError> {
    let me = state.store.user_by_id(user.id).await?.ok_or(AppError::Unauthorized)?;
    if !me.is_admin {
        return Err(AppError::NotFound);
    }
    Ok(me)
}

async fn account(state: &AppState, username: &str) -> Result<User, AppError> {
    state
        .store
        .find_user_by_login(username)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("nobody is called {username:?}")))
}

async fn any_room(state: &AppState, name: &str) -> Result<Room, AppError> {
    state.store.room_by_name(name.trim()).await?.ok_or(AppError::NotFound)
}

/// Suspends or reinstates; a suspension ends sessions (in the store) and sockets.
pub(crate) async fn set_suspended(state: &AppState, user: &User, suspended: bool) -> Result<bool, AppError> {
    let changed = state.store.set_suspended(user.id, suspended).await?;
    if suspended {
        state.hub.end_sockets_of(user.id);
    }
    Ok(changed)
}

#[async_trait]
impl Admin for Services {
    async fn admin_overview(&self, user: &CurrentUser) -> Result<AdminOverview, AppError> {
        admin(self, user).await?;
        let people = self.store.list_users().await?;
        let users = people
            .into_iter()
            .map(|(user, roles)| AdminUser {
                person: person(self, user.listed(roles)),
                email: user.email.clone(),
                is_admin: user.is_admin,
                suspended: user.is_suspended(),
                has_password: !user.password_hash.is_empty(),
                member_since: crate::store::rfc3339(user.created_at),
            })
            .collect();
        let rooms = self.store.admin_rooms(None).await?.into_iter().map(admin_room).collect();
        Ok(AdminOverview { users, rooms })
    }

    async fn admin_set_suspended(&self, user: &CurrentUser, username: &str, suspended: bool) -> Result<(), AppError> {
        let me = admin(self, user).await?;
        let person = account(self, username).await?;
        if person.id == me.id {
            return Err(AppError::NotAllowed("you cannot suspend yourself".into()));
        }
        set_suspended(self, &person, suspended).await?;
        tracing::info!(admin = %me.username, user = %person.username, suspended, "suspension changed");
        Ok(())
    }

    async fn admin_set_roles(&self, user: &CurrentUser, username: &str, roles: Vec<Role>) -> Result<(), AppError> {
        let me = admin(self, user).await?;
        if roles.is_empty() {
            return Err(AppError::Invalid("give at least one role (like member)".into()));
        }
        let person = account(self, username).await?;
        self.store.set_roles(person.id, &roles).await?;
        tracing::info!(admin = %me.username, user = %person.username, "roles changed");
        Ok(())
    }

    async fn admin_set_admin(&self, user: &CurrentUser, username: &str, is_admin: bool) -> Result<(), AppError> {
        let me = admin(self, user).await?;
        let person = account(self, username).await?;
        if person.id == me.id && !is_admin {
            return Err(AppError::NotAllowed("you cannot take away your own admin flag: ask another admin".into()));
        }
        self.store.set_admin(person.id, is_admin).await?;
        tracing::info!(admin = %me.username, user = %person.username, is_admin, "admin flag changed");
        Ok(())
    }

    async fn admin_reset_password(
        &self,
        user: &CurrentUser,
        username: &str,
        headers: &HeaderMap,
    ) -> Result<String, AppError> {
        let me = admin(self, user).await?;
        let person = account(self, username).await?;
        let base_url = self.config.base_url(Some(headers));
        let link = super::accounts::password_link(&self.store, &base_url, person.id).await?;
        tracing::info!(admin = %me.username, user = %person.username, "password link made");
        Ok(link)
    }

    async fn admin_room(&self, user: &CurrentUser, name: &str) -> Result<AdminRoomPage, AppError> {
        admin(self, user).await?;
        let room = any_room(self, name).await?;
        let row = self.store.admin_rooms(Some(&room.name)).await?.pop();
        let row = row.ok_or(AppError::NotFound)?;
        let stored = self.store.messages_before(&room, None, ADMIN_ROOM_MESSAGES).await?;
        let messages = stored.into_iter().map(|m| m.into_wire(&room.name)).collect();
        Ok(AdminRoomPage { room: admin_room(row), messages })
    }

    async fn admin_delete_message(&self, user: &CurrentUser, name: &str, seq: i64) -> Result<(), AppError> {
        let me = admin(self, user).await?;
        let room = any_room(self, name).await?;
        match super::changes::delete(self, &room, &me, seq).await {
            Err(super::changes::ChangeError::NoSuchMessage) => {
                Err(AppError::Invalid("that message is gone already".into()))
            }
            other => Ok(other?),
        }
    }

    async fn admin_delete_room(&self, user: &CurrentUser, name: &str) -> Result<(), AppError> {
        let me = admin(self, user).await?;
        let room = any_room(self, name).await?;
        if room.is_public_chat() {
            return Err(AppError::NotAllowed("the public chat cannot be deleted".into()));
        }
        tracing::info!(admin = %me.username, room = %room.name, "room deleted by an admin");
        remove_room(self, &room).await
    }
}
