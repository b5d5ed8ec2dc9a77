//! Configuration from the environment (and an optional `.env` file, read by `main`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use app::domain::Role;

use crate::store::SqliteSync;

#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` (the default: a file under `./data/`).
    pub database_url: String,
    /// How SQLite writes (`SQLITE_SYNCHRONOUS`, `full` by default).
    pub sqlite_sync: SqliteSync,
    /// Where to listen; port 0 picks a free port (the tests use this).
    pub site_addr: SocketAddr,
    /// The folder holding `pkg/` (the WASM bundle, its JS glue and the stylesheet).
    pub site_root: PathBuf,
    /// Where uploaded files live (`avatars/` under it).
    pub data_dir: PathBuf,
    /// The chat's address as people reach it (`https://chat.example.org`), used in the
    /// one-time links the server hands out; when unset, the request's host (or, on the command
    /// line, `http://LEPTOS_SITE_ADDR`).
    pub public_url: Option<String>,
    /// Redis, for several instances to serve one chat (`None`: this instance alone).
    pub redis_url: Option<String>,
    /// What every Redis key and channel of this chat starts with.
    pub redis_prefix: String,
    /// How long an instance's presence keys live unless rewritten: an instance that dies stops
    /// counting within this time (plus a third of it).
    pub presence_ttl: Duration,
    /// Origins allowed to open sockets and post forms, besides the request's own host.
    pub allowed_origins: Vec<String>,
    /// Set the `Secure` flag on the session cookie (turn on behind HTTPS).
    pub secure_cookies: bool,
    /// The role every new account gets.
    pub default_role: Role,
    /// How often the server pings each socket.
    pub heartbeat_interval: Duration,
    /// A socket silent for this long (no frame, no pong) is dropped, so a vanished client
    /// stops counting as online within `heartbeat_timeout + heartbeat_interval`.
    pub heartbeat_timeout: Duration,
    /// A request's header must arrive within this time; an idle keep-alive connection is
    /// closed after it (`HEADER_TIMEOUT_SECONDS`).
    pub header_timeout: Duration,
    /// The most connections open at once, WebSockets included (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Behind a reverse proxy: take the client's address from the last `X-Forwarded-For`
    /// entry (`TRUST_FORWARDED_FOR`), not from the connection.
    pub trust_forwarded_for: bool,
    /// The client addresses `/metrics` answers (`METRICS_ALLOW`, loopback by default).
    pub metrics_allow: Vec<IpAddr>,
    pub limits: Limits,
    /// PostgreSQL's text search configuration for queries (`SEARCH_CONFIG`, `chat_search`: `simple` without accents); it must
    /// be the one the `messages.search` column is built with (see the migration).
    pub search_config: String,
    /// The largest file a message may share, in bytes (`MAX_UPLOAD_MB`, 25).
    pub max_upload_bytes: u64,
    /// The push services browsers' subscriptions may point at (`PUSH_SERVICES`): origins such
    /// as `https://fcm.googleapis.com`, a leading `*.` for any subdomain. The server posts to
    /// nothing else, so a subscription cannot aim it at a machine of the inside network.
    pub push_services: Vec<String>,
    /// Who runs this chat, for the push services (`PUSH_CONTACT`: `mailto:` or `https://`;
    /// `PUBLIC_URL` by default).
    pub push_contact: String,
}

/// How much a stranger may repeat before being asked to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wrong passwords for one account before each further one makes it wait (an hour after
    /// the last one the count starts over).
    pub login_failures_per_account: u32,
    /// Wrong passwords from one address, whatever the accounts.
    pub login_failures_per_address: u32,
    /// Accounts made from one address in an hour.
    pub signups_per_address: u32,
    /// Messages one person may post each second, on average,
    pub messages_per_second: u32,
    /// and at once.
    pub message_burst: u32,
    /// Read and typing frames one person may send each second, on average (a read over it is
    /// applied late, a typing signal dropped); bursts of three times as many pass.
    pub frames_per_second: u32,
    /// Rooms one person may make in an hour,
    pub rooms_per_hour: u32,
    /// and avatars they may upload,
    pub avatars_per_hour: u32,
    /// and files they may share.
    pub files_per_hour: u32,
    /// Sockets one person may have open at once on one instance (tabs, devices and apps).
    pub sockets_per_person: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            signups_per_address: 10,
            messages_per_second: 10,
            message_burst: 30,
            frames_per_second: 20,
            rooms_per_hour: 20,
            avatars_per_hour: 20,
            files_per_hour: 200,
            sockets_per_person: 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR must be an address such as 127.0.0.1:3000, not {0:?}")]
    SiteAddr(String),
    #[error("DATABASE_URL must start with sqlite: or postgres:, not {0:?}")]
    DatabaseUrl(String),
    #[error("REDIS_URL must start with redis:// or rediss://, not {0:?}")]
    RedisUrl(String),
    #[error("PUBLIC_URL must start with http:// or https://, not {0:?}")]
    PublicUrl(String),
    #[error("DEFAULT_ROLE: {0}")]
    DefaultRole(String),
    #[error("SQLITE_SYNCHRONOUS must be full or normal, not {0:?}")]
    SqliteSync(String),
    #[error("SEARCH_CONFIG must name a PostgreSQL text search configuration such as simple or english, not {0:?}")]
    SearchConfig(String),
    #[error("{name} must be true or false, not {value:?}")]
    Flag { name: &'static str, value: String },
    #[error("{name} must be a whole number of seconds from 1 to 3600, not {value:?}")]
    Seconds { name: &'static str, value: String },
    #[error("{name} must be a whole number from 1 to 1000000, not {value:?}")]
    Count { name: &'static str, value: String },
    #[error("METRICS_ALLOW must be client addresses separated by commas, such as 127.0.0.1,::1, not {0:?}")]
    MetricsAllow(String),
    #[error("MAX_CONNECTIONS must be a whole number from 1 to 1000000, not {0:?}")]
    MaxConnections(String),
    #[error("PUSH_SERVICES must be origins such as https://fcm.googleapis.com or https://*.push.apple.com, separated by commas, not {0:?}")]
    PushServices(String),
    #[error("PUSH_CONTACT must be a mailto: or https:// address, not {0:?}")]
    PushContact(String),
    #[error("SOCKET_TIMEOUT_SECONDS ({timeout}) must be longer than HEARTBEAT_SECONDS ({interval})")]
    Heartbeat { interval: u64, timeout: u64 },
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/chat.db";
pub const DEFAULT_DATA_DIR: &str = "data";
/// The role new accounts get unless `DEFAULT_ROLE` says otherwise.
pub const DEFAULT_ROLE: &str = "member";
/// Pings every 15 s and a 40 s timeout: a vanished client stops counting within 55 s.
pub const DEFAULT_HEARTBEAT_SECONDS: u64 = 15;
pub const DEFAULT_SOCKET_TIMEOUT_SECONDS: u64 = 40;
/// Presence keys live 30 s and are rewritten every 10 s: a dead instance stops counting
/// within 40 s.
pub const DEFAULT_PRESENCE_TTL_SECONDS: u64 = 30;
/// A request's header within 10 s: a client that trickles one in is cut off.
pub const DEFAULT_HEADER_TIMEOUT_SECONDS: u64 = 10;
/// Room for 10,000 people with two tabs open, and their page loads, under the usual
/// `ulimit -n` of a service (raise it for more).
/// The largest shared file, in MB.
pub const DEFAULT_MAX_UPLOAD_MB: u32 = 25;
pub const DEFAULT_MAX_CONNECTIONS: usize = 25_000;

/// Who may read `/metrics` unless `METRICS_ALLOW` says otherwise: this machine.
pub const DEFAULT_METRICS_ALLOW: [&str; 2] = ["127.0.0.1", "::1"];

/// The push services of Chrome and Edge (Firebase), Firefox (Mozilla), Safari (Apple) and
/// Windows' own (WNS).
pub const DEFAULT_PUSH_SERVICES: [&str; 4] = [
    "https://fcm.googleapis.com",
    "https://*.push.services.mozilla.com",
    "https://*.push.apple.com",
    "https://*.notify.windows.com",
];

/// How log lines are written (`LOG_FORMAT`): `text` for people, `json` for a log collector
/// (one object per line, with the request id of the request it belongs to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("LOG_FORMAT").ok().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("LOG_FORMAT must be text or json, not {other:?}")),
        }
    }
}

/// A whole number within `range`, or `default` when the setting is absent; the text as given
/// when it is not one.
fn whole<T: std::str::FromStr + PartialOrd>(
    value: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String> {
    match value {
        None => Ok(default),
        Some(value) => value.trim().parse::<T>().ok().filter(|n| range.contains(n)).ok_or(value),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| database_url.starts_with(scheme)) {
            return Err(ConfigError::DatabaseUrl(redact_url(&database_url)));
        }
        let sqlite_sync = match var("SQLITE_SYNCHRONOUS").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("full") => SqliteSync::Full,
            Some("normal") => SqliteSync::Normal,
            Some(other) => return Err(ConfigError::SqliteSync(other.to_owned())),
        };
        let site_addr = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let site_addr = site_addr.parse().map_err(|_| ConfigError::SiteAddr(site_addr))?;
        let site_root = var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()).into();
        let data_dir = var("DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()).into();
        let public_url = match var("PUBLIC_URL") {
            None => None,
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim().trim_end_matches('/').to_owned())
            }
            Some(url) => return Err(ConfigError::PublicUrl(url)),
        };
        let allowed_origins = var("ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect()
            })
            .unwrap_or_default();
        let flag = |name: &'static str| match var(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ConfigError::Flag { name, value: other.to_owned() }),
        };
        let secure_cookies = flag("SECURE_COOKIES")?;
        let trust_forwarded_for = flag("TRUST_FORWARDED_FOR")?;
        let count = |name: &'static str, default: u32| {
            whole(var(name), default, 1..=1_000_000).map_err(|value| ConfigError::Count { name, value })
        };
        let defaults = Limits::default();
        let limits = Limits {
            login_failures_per_account: count("LOGIN_FAILURES_PER_ACCOUNT", defaults.login_failures_per_account)?,
            login_failures_per_address: count("LOGIN_FAILURES_PER_ADDRESS", defaults.login_failures_per_address)?,
            signups_per_address: count("SIGNUPS_PER_ADDRESS", defaults.signups_per_address)?,
            messages_per_second: count("MESSAGES_PER_SECOND", defaults.messages_per_second)?,
            message_burst: count("MESSAGE_BURST", defaults.message_burst)?,
            frames_per_second: count("FRAMES_PER_SECOND", defaults.frames_per_second)?,
            rooms_per_hour: count("ROOMS_PER_HOUR", defaults.rooms_per_hour)?,
            avatars_per_hour: count("AVATARS_PER_HOUR", defaults.avatars_per_hour)?,
            files_per_hour: count("FILES_PER_HOUR", defaults.files_per_hour)?,
            sockets_per_person: count("SOCKETS_PER_PERSON", defaults.sockets_per_person)?,
        };
        let default_role = Role::parse(&var("DEFAULT_ROLE").unwrap_or_else(|| DEFAULT_ROLE.to_owned()))
            .map_err(ConfigError::DefaultRole)?;
        let seconds = |name: &'static str, default: u64| {
            whole(var(name), default, 1..=3600).map_err(|value| ConfigError::Seconds { name, value })
        };
        let redis_url = var("REDIS_URL");
        if let Some(url) = &redis_url {
            if !url.starts_with("redis://") && !url.starts_with("rediss://") {
                return Err(ConfigError::RedisUrl(redact_url(url)));
            }
        }
        let redis_prefix = var("REDIS_PREFIX").unwrap_or_else(|| "chat".to_owned());
        let presence_ttl = Duration::from_secs(seconds("PRESENCE_TTL_SECONDS", DEFAULT_PRESENCE_TTL_SECONDS)?.max(3));
        let interval = seconds("HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS)?;
        let timeout = seconds("SOCKET_TIMEOUT_SECONDS", DEFAULT_SOCKET_TIMEOUT_SECONDS)?;
        if timeout <= interval {
            return Err(ConfigError::Heartbeat { interval, timeout });
        }
        let header_timeout = Duration::from_secs(seconds("HEADER_TIMEOUT_SECONDS", DEFAULT_HEADER_TIMEOUT_SECONDS)?);
        let metrics_allow = match var("METRICS_ALLOW") {
            None => DEFAULT_METRICS_ALLOW.iter().map(|a| a.parse().expect("a loopback address")).collect(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| a.parse().map_err(|_| ConfigError::MetricsAllow(a.to_owned())))
                .collect::<Result<_, _>>()?,
        };
        let max_connections = whole(var("MAX_CONNECTIONS"), DEFAULT_MAX_CONNECTIONS, 1..=1_000_000)
            .map_err(ConfigError::MaxConnections)?;
        let search_config = var("SEARCH_CONFIG").unwrap_or_else(|| "chat_search".to_owned()).trim().to_owned();
        if !search_config.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(ConfigError::SearchConfig(search_config));
        }
        let max_upload_bytes = u64::from(count("MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)?.min(1024)) * 1024 * 1024;
        let push_services = match var("PUSH_SERVICES") {
            None => DEFAULT_PUSH_SERVICES.iter().map(|s| (*s).to_owned()).collect(),
            Some(list) => list
                .split(',')
                .map(|s| s.trim().trim_end_matches('/'))
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let origin = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
                    match origin {
                        Some(host) if !host.is_empty() && !host.contains('/') => Ok(s.to_owned()),
                        _ => Err(ConfigError::PushServices(s.to_owned())),
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let push_contact = match var("PUSH_CONTACT") {
            Some(c) if c.starts_with("mailto:") || c.starts_with("https://") => c.trim().to_owned(),
            Some(c) => return Err(ConfigError::PushContact(c)),
            None => public_url
                .clone()
                .filter(|url| url.starts_with("https://"))
                .unwrap_or_else(|| "mailto:postmaster@localhost".to_owned()),
        };
        Ok(Self {
            push_services,
            push_contact,
            max_upload_bytes,
            search_config,
            database_url,
            sqlite_sync,
            site_addr,
            site_root,
            data_dir,
            public_url,
            redis_url,
            redis_prefix,
            presence_ttl,
            allowed_origins,
            secure_cookies,
            default_role,
            heartbeat_interval: Duration::from_secs(interval),
            heartbeat_timeout: Duration::from_secs(timeout),
            header_timeout,
            max_connections,
            trust_forwarded_for,
            metrics_allow,
            limits,
        })
    }

    /// The base of links the server hands out, for a request that came with `headers`.
    pub fn base_url(&self, headers: Option<&http::HeaderMap>) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = headers.and_then(|h| h.get(http::header::HOST)).and_then(|h| h.to_str().ok());
        let scheme = if self.secure_cookies { "https" } else { "http" };
        match host {
            Some(host) => format!("{scheme}://{host}"),
            None => format!("{scheme}://{}", self.site_addr),
        }
    }
}

/// A database URL safe to print: the password, if any, replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_url, whole};

    #[test]
    fn numbers_are_whole_and_within_their_range() {
        assert_eq!(whole(None, 10_u64, 1..=3600), Ok(10));
        assert_eq!(whole(Some(" 30 ".into()), 10_u64, 1..=3600), Ok(30));
        assert_eq!(whole(Some("0".into()), 10_u64, 1..=3600), Err("0".to_owned()));
        assert_eq!(whole(Some("1.5".into()), 10_u32, 1..=100), Err("1.5".to_owned()));
        assert_eq!(whole(Some("lots".into()), 10_usize, 1..=100), Err("lots".to_owned()));
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/chat"), "postgres://app:***@db:5432/chat");
        assert_eq!(redact_url("sqlite://data/chat.db"), "sqlite://data/chat.db");
        assert_eq!(redact_url("postgres://app@db/chat"), "postgres://app@db/chat");
    }
}
