//! The directory and profiles, as one signed-in person sees them: people see the others who
//! share one of their roles (admins see everyone); anyone else is `NotFound`, exactly like
//! someone who does not exist.

use app::backend::People;
use app::domain::{Bio, DisplayName};
use app::error::AppError;
use app::model::{CurrentUser, Person, Profile, DIRECTORY_LIMIT};
use async_trait::async_trait;

use super::rooms::announce_added;
use super::{me, person, Services};

#[async_trait]
impl People for Services {
    async fn profile(&self, user: &CurrentUser, username: &str) -> Result<Profile, AppError> {
        let me = me(self, user).await?;
        let found = if me.username.eq_ignore_ascii_case(username.trim()) {
            me.clone()
        } else {
            // Someone outside the directory gets the same answer as someone who does not exist.
            self.store.visible_user(&me, username).await?.ok_or(AppError::NotFound)?
        };
        let roles = self.store.roles_of(found.id).await?;
        Ok(Profile {
            person: person(self, found.listed(roles)),
            bio: found.bio.clone(),
            member_since: crate::store::rfc3339(found.created_at),
            is_me: found.id == me.id,
        })
    }

    async fn update_profile(
        &self,
        user: &CurrentUser,
        display_name: Option<DisplayName>,
        bio: Bio,
    ) -> Result<(), AppError> {
        self.store.set_profile(user.id, display_name.as_ref().map(DisplayName::as_str), bio.as_str()).await?;
        Ok(())
    }

    async fn directory(&self, user: &CurrentUser, query: &str) -> Result<Vec<Person>, AppError> {
        let me = me(self, user).await?;
        let people = self.store.directory(&me, query, DIRECTORY_LIMIT).await?;
        Ok(people.into_iter().map(|p| person(self, p)).collect())
    }

    async fn start_chat(&self, user: &CurrentUser, username: &str) -> Result<String, AppError> {
        let me = me(self, user).await?;
        // Someone not in your directory gets the same answer as someone who does not exist.
        let other = self.store.visible_user(&me, username).await?.ok_or(AppError::NotFound)?;
        if other.id == me.id {
            return Err(AppError::Invalid("that is you: pick someone else from the directory".into()));
        }
        let (room, created) = self.store.direct_room(&me, &other).await?;
        if created {
            tracing::info!(room = %room.name, "one-to-one chat started");
            announce_added(self, &room, other.id).await?;
            announce_added(self, &room, me.id).await?;
        }
        Ok(room.name)
    }
}
