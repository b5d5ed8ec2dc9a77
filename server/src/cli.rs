//! The command line's `admin` commands (`chat-server admin …`): what an operator does from the
//! server's shell. Each command opens
//! the database named by `DATABASE_URL`, does one thing, and says what it did. A running
//! server notices suspensions within seconds (it polls), and closes those people's sockets.

use app::domain::{Email, Role, Username};

use crate::auth;
use crate::config::Config;
use crate::services::accounts;
use crate::store::{NewUser, Store, StoreError, User};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an admin account and print a one-time link to set its password, e.g.
    /// `admin create-admin ana --email ana@example.org`.
    CreateAdmin {
        username: String,
        #[arg(long)]
        email: Option<String>,
    },
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
    /// Sign a person out everywhere and stop them logging in until `unsuspend`.
    Suspend { username: String },
    /// Let a suspended person log in again.
    Unsuspend { username: String },
    /// Print a one-time link (valid 72 hours) with which the person sets a new password.
    ResetPassword { username: String },
    /// Make a provisioning token for another system (printed once; only its hash is kept).
    CreateToken { name: String },
    /// Revoke a provisioning token by name: it stops working at once.
    RevokeToken { name: String },
    /// Every provisioning token: name, created, last used, revoked.
    ListTokens,
    /// Let an account (by username or email) or a client address (`203.0.113.7`) try again at
    /// once: forgets its failed logins and sign-ups.
    ClearLimits { who: String },
    /// Copy the chat into a new folder, safely while the server runs: the SQLite database
    /// (`chat.db`, one consistent snapshot) and the avatars. See README, Backups.
    Backup { folder: std::path::PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no account is called {0:?} (usernames and emails both work)")]
    NoSuchUser(String),
    #[error("an account called {0:?} exists already: use `admin grant-admin {0}` instead")]
    Exists(String),
    #[error("no live token is called {0:?}: `admin list-tokens` shows them")]
    NoSuchToken(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Backup(String),
    #[error("the database failed: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Runs one admin command and returns the line to print; links start with the chat's address
/// (`PUBLIC_URL`, else `http://LEPTOS_SITE_ADDR`).
pub async fn run(store: &Store, config: &Config, command: AdminCommand) -> Result<String, AdminError> {
    match command {
        AdminCommand::CreateAdmin { username, email } => {
            let username = Username::parse(&username).map_err(AdminError::Invalid)?;
            let email = Email::parse_optional(email.as_deref().unwrap_or_default()).map_err(AdminError::Invalid)?;
            let new = NewUser {
                username: username.as_str(),
                email: email.as_ref().map(Email::as_str),
                password_hash: "",
                role: &config.default_role,
            };
            let user = match store.create_user(new).await {
                Err(StoreError::UsernameTaken) => return Err(AdminError::Exists(username.as_str().to_owned())),
                Err(StoreError::EmailTaken) => {
                    return Err(AdminError::Invalid("that email is already used by another account".into()))
                }
                other => other?,
            };
            store.set_admin(user.id, true).await?;
            let link = accounts::password_link(store, &config.base_url(None), user.id).await?;
            Ok(format!("{} is an admin. They set their password here (once, within 72 hours):\n{link}", user.username))
        }
        AdminCommand::Suspend { username } => suspend(store, &username, true).await,
        AdminCommand::Unsuspend { username } => suspend(store, &username, false).await,
        AdminCommand::ResetPassword { username } => {
            let user = find(store, &username).await?;
            let link = accounts::password_link(store, &config.base_url(None), user.id).await?;
            Ok(format!(
                "{} sets a new password here (once, within 72 hours; their sessions end when they do):\n{link}",
                user.username
            ))
        }
        AdminCommand::CreateToken { name } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 64 {
                return Err(AdminError::Invalid("token names are 1 to 64 characters, e.g. the other system's".into()));
            }
            let token = auth::new_session_token();
            match store.create_api_token(name, &auth::token_hash(&token)).await {
                Err(StoreError::TokenNameTaken) => {
                    return Err(AdminError::Invalid(format!(
                        "a live token is called {name:?} already: revoke it first, or choose another name"
                    )))
                }
                other => other?,
            }
            Ok(format!(
                "token {name:?} created. It is shown only now; the other system sends it as\nAuthorization: Bearer {token}"
            ))
        }
        AdminCommand::RevokeToken { name } => {
            if !store.revoke_api_token(&name).await? {
                return Err(AdminError::NoSuchToken(name));
            }
            Ok(format!("token {name:?} is revoked"))
        }
        AdminCommand::Backup { folder } => backup(store, config, &folder).await,
        AdminCommand::ClearLimits { who } => {
            use crate::services::throttle;
            let who = who.trim();
            let keys = match who.parse::<std::net::IpAddr>() {
                Ok(address) => vec![throttle::login_address_key(address), throttle::signup_address_key(address)],
                Err(_) => {
                    let mut keys = vec![throttle::unknown_login_key(who)];
                    if let Some(user) = store.find_user_by_login(who).await? {
                        keys.extend([
                            throttle::account_key(user.id),
                            throttle::rooms_by_key(user.id),
                            throttle::avatars_by_key(user.id),
                        ]);
                    }
                    keys
                }
            };
            Ok(match store.throttle_clear(&keys).await? {
                0 => format!("nothing was limited for {who:?}"),
                _ => format!("{who} may try again at once"),
            })
        }
        AdminCommand::ListTokens => {
            let tokens = store.list_api_tokens().await?;
            let day =
                |ms: Option<i64>| ms.map_or("-".to_owned(), |ms| crate::store::rfc3339(ms)[..16].replace('T', " "));
            let mut out = format!("{:<30} {:<17} {:<17} {}", "NAME", "CREATED", "LAST USED", "REVOKED");
            for token in &tokens {
                out.push_str(&format!(
                    "\n{:<30} {:<17} {:<17} {}",
                    token.name,
                    day(Some(token.created_at)),
                    day(token.last_used_at),
                    day(token.revoked_at)
                ));
            }
            out.push_str(&format!("\n{} tokens", tokens.len()));
            Ok(out)
        }
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
            let mut out = format!(
                "{:<30} {:<20} {:<30} {:<24} {:<5} {:<10} {}",
                "USERNAME", "NAME", "EMAIL", "ROLES", "ADMIN", "SINCE", "STATE"
            );
            for (user, roles) in &people {
                out.push_str(&format!(
                    "\n{:<30} {:<20} {:<30} {:<24} {:<5} {:<10} {}",
                    user.username,
                    user.shown_name(),
                    user.email.as_deref().unwrap_or("-"),
                    roles.join(","),
                    if user.is_admin { "yes" } else { "no" },
                    crate::store::rfc3339(user.created_at).get(..10).unwrap_or_default(),
                    match (user.is_suspended(), user.password_hash.is_empty()) {
                        (true, _) => "suspended",
                        (false, true) => "no-password",
                        (false, false) => "active",
                    },
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

/// The database first (the snapshot the avatars must cover), then the avatar files: a file
/// uploaded meanwhile is copied too, harmlessly; one removed meanwhile is skipped.
async fn backup(store: &Store, config: &Config, folder: &std::path::Path) -> Result<String, AdminError> {
    if store.is_postgres() {
        return Err(AdminError::Backup(
            "this chat runs on PostgreSQL: back it up with pg_dump (see README, Backups), and copy DATA_DIR/avatars"
                .into(),
        ));
    }
    let empty = match std::fs::read_dir(folder) {
        Ok(mut entries) => entries.next().is_none(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
        Err(error) => return Err(AdminError::Backup(format!("cannot read {}: {error}", folder.display()))),
    };
    if !empty {
        return Err(AdminError::Backup(format!("{} is not empty: give a new folder", folder.display())));
    }
    let failed = |error: std::io::Error| AdminError::Backup(format!("cannot write to {}: {error}", folder.display()));
    std::fs::create_dir_all(folder.join("avatars")).map_err(failed)?;
    let database = folder.join("chat.db");
    store.snapshot_into(&database).await?;
    let mut avatars = 0;
    if let Ok(entries) = std::fs::read_dir(config.data_dir.join("avatars")) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_file())
                && std::fs::copy(entry.path(), folder.join("avatars").join(entry.file_name())).is_ok()
            {
                avatars += 1;
            }
        }
    }
    Ok(format!(
        "backed up to {}: chat.db ({} messages) and {avatars} avatars. To restore, stop the server and put chat.db where DATABASE_URL points and avatars/ in DATA_DIR",
        folder.display(),
        store.count_all_messages().await?
    ))
}

async fn suspend(store: &Store, username: &str, suspended: bool) -> Result<String, AdminError> {
    let user = find(store, username).await?;
    let changed = store.set_suspended(user.id, suspended).await?;
    let name = &user.username;
    Ok(match (suspended, changed) {
        (true, true) => format!("{name} is suspended: signed out everywhere, and cannot log in"),
        (true, false) => format!("{name} was suspended already"),
        (false, true) => format!("{name} may log in again"),
        (false, false) => format!("{name} was not suspended"),
    })
}

async fn find(store: &Store, username: &str) -> Result<User, AdminError> {
    store.find_user_by_login(username).await?.ok_or_else(|| AdminError::NoSuchUser(username.to_owned()))
}
