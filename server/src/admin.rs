//! `chat-server admin …`: what an operator does from the server's shell. Each command opens
//! the database named by `DATABASE_URL`, does one thing, and says what it did.

use app::domain::Role;

use crate::store::{Store, User};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Replace a person's roles, e.g. `admin set-roles ana tenant landlord`. People see the
    /// others who share at least one of their roles.
    SetRoles {
        username: String,
        #[arg(required = true, num_args = 1..)]
        roles: Vec<String>,
    },
    /// Make a person an admin: they see everyone in the directory.
    GrantAdmin { username: String },
    /// Take the admin flag away again.
    RevokeAdmin { username: String },
    /// Everyone, one line each: username, display name, email, roles, admin, member since.
    ListUsers,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no account is called {0:?} (usernames and emails both work)")]
    NoSuchUser(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the database failed: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Runs one admin command and returns the line to print.
pub async fn run(store: &Store, command: AdminCommand) -> Result<String, AdminError> {
    match command {
        AdminCommand::SetRoles { username, roles } => {
            let roles =
                roles.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>().map_err(AdminError::Invalid)?;
            let user = find(store, &username).await?;
            store.set_roles(user.id, &roles).await?;
            let mut roles: Vec<&str> = roles.iter().map(Role::as_str).collect();
            roles.sort_unstable();
            roles.dedup();
            Ok(format!("{} now has the roles: {}", user.username, roles.join(", ")))
        }
        AdminCommand::GrantAdmin { username } => {
            let user = find(store, &username).await?;
            store.set_admin(user.id, true).await?;
            Ok(format!("{} is now an admin", user.username))
        }
        AdminCommand::ListUsers => {
            let people = store.list_users().await?;
            let mut out =
                format!("{:<30} {:<20} {:<30} {:<24} {:<5} {}", "USERNAME", "NAME", "EMAIL", "ROLES", "ADMIN", "SINCE");
            for (user, roles) in &people {
                out.push_str(&format!(
                    "\n{:<30} {:<20} {:<30} {:<24} {:<5} {}",
                    user.username,
                    user.shown_name(),
                    user.email.as_deref().unwrap_or("-"),
                    roles.join(","),
                    if user.is_admin { "yes" } else { "no" },
                    crate::store::rfc3339(user.created_at).get(..10).unwrap_or_default(),
                ));
            }
            out.push_str(&format!("\n{} people", people.len()));
            Ok(out)
        }
        AdminCommand::RevokeAdmin { username } => {
            let user = find(store, &username).await?;
            store.set_admin(user.id, false).await?;
            Ok(format!("{} is no longer an admin", user.username))
        }
    }
}

async fn find(store: &Store, username: &str) -> Result<User, AdminError> {
    store.find_user_by_login(username).await?.ok_or_else(|| AdminError::NoSuchUser(username.to_owned()))
}
