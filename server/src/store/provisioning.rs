//! Provisioning: another system's list of people applied in one transaction.

use app::domain::Role;

use super::password_links::insert_password_link;
use super::roles::{replace_roles, roles_on};
use super::users::{insert_user, NewUser};
use super::{Result, Store};

/// One person of a sync, already validated.
pub struct SyncEntry<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub role: &'a Role,
    /// The hash of the one-time set-password link the person gets if they are created.
    pub link_hash: Vec<u8>,
}

/// What a sync did with one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Created without a password; their link was stored.
    Created,
    /// They existed with other roles; now their roles are exactly these.
    Updated { roles: Vec<String> },
    /// They existed with exactly that role already.
    Unchanged,
    /// Someone else has that email.
    EmailTaken,
}

impl Store {
    /// Creates the missing people (no password, the given role, in the public chat, with a
    /// set-password link) and gives the existing ones exactly the given role, all or nothing.
    pub async fn sync_users(&self, entries: &[SyncEntry<'_>], link_expires_at: i64) -> Result<Vec<Synced>> {
        on_pool!(self, db => {
            let mut tx = db.begin().await?;
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in entries {
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE lower(username) = lower($1)")
                    .bind(entry.username)
                    .fetch_optional(&mut *tx)
                    .await?;
                let outcome = match existing {
                    Some(id) => {
                        let roles = roles_on((&mut *tx).into(), id).await?;
                        if roles == [entry.role.as_str()] {
                            Synced::Unchanged
                        } else {
                            replace_roles((&mut *tx).into(), id, &[entry.role.as_str()]).await?;
                            Synced::Updated { roles: vec![entry.role.as_str().to_owned()] }
                        }
                    }
                    None => {
                        let email_taken = match entry.email {
                            Some(email) => {
                                sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE lower(email) = lower($1)")
                                    .bind(email)
                                    .fetch_optional(&mut *tx)
                                    .await?
                                    .is_some()
                            }
                            None => false,
                        };
                        if email_taken {
                            Synced::EmailTaken
                        } else {
                            let new = NewUser {
                                username: entry.username,
                                email: entry.email,
                                password_hash: "",
                                role: entry.role,
                            };
                            let user = insert_user((&mut *tx).into(), &new).await?;
                            insert_password_link((&mut *tx).into(), user.id, &entry.link_hash, link_expires_at)
                                .await?;
                            Synced::Created
                        }
                    }
                };
                outcomes.push(outcome);
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }
}
