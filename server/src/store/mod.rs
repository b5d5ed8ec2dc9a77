//! The database: connection, migrations, and one module per table family. Every query in
//! the server lives under this folder.

/// Runs `$body` with `$db` bound to this store's pool, whichever database it is: the same SQL
/// text and binds, compiled once for each driver. Queries use numbered placeholders (`$1`),
/// which both read, and SQL both run.
macro_rules! on_pool {
    ($store:expr, $db:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($db) => $body,
            $crate::store::Pool::Postgres($db) => $body,
        }
    };
}

// Modules whose macros others use come first.
#[macro_use]
mod password_links;
#[macro_use]
mod users;
mod api_tokens;
mod messages;
mod provisioning;
mod rooms;
mod sessions;

pub use api_tokens::ApiToken;
pub use messages::{rfc3339, Inserted, NewMessage, StoredMessage};
pub use provisioning::{SyncEntry, Synced};
pub use rooms::{AdminRoomRow, ListedRoom, MemberRoom, Room, UnreadCount};
pub use users::{Listed, NewUser, User};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("that username is taken")]
    UsernameTaken,
    #[error("that email is taken")]
    EmailTaken,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not prepare the data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("a live token already has that name")]
    TokenNameTaken,
    #[error("no free URL for a room of that name")]
    NoFreeName,
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

/// The database behind a store: SQLite (the default) or PostgreSQL.
#[derive(Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How many connections an instance keeps to PostgreSQL.
const POSTGRES_CONNECTIONS: u32 = 16;

impl Store {
    /// Opens the database at `url` (`sqlite:` or `postgres:`) and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            sqlx::migrate!("../migrations/postgres").run(&pool).await?;
            return Ok(Self { pool: Pool::Postgres(pool) });
        }
        Self::connect_sqlite(url).await
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        fn sqlite_synchronous() -> SqliteSynchronous {
            match std::env::var("SQLITE_SYNCHRONOUS").map(|v| v.to_ascii_lowercase()).as_deref() {
                Ok("normal") => SqliteSynchronous::Normal,
                _ => SqliteSynchronous::Full,
            }
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged message survives a power cut, not only a crash of the process:
            // messages are committed in batches, so this costs one fsync per batch.
            // `SQLITE_SYNCHRONOUS=normal` trades that for speed (see README, Configuration).
            .synchronous(sqlite_synchronous())
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let path = options.get_filename();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| StoreError::DataDir { path: parent.display().to_string(), source })?;
        }
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self { pool: Pool::Sqlite(pool) })
    }

    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, db => {
            sqlx::query("SELECT 1").execute(db).await?;
            Ok(())
        })
    }

    /// Whether this store is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }
}

/// The most values one `IN (…)` list binds: SQLite takes 32 766 placeholders a statement,
/// PostgreSQL 65 535; longer lists are queried in slices.
const MAX_LIST: usize = 10_000;

/// `$from, $from+1, …` for `count` values: the placeholders of an `IN (…)` list, bound one by one
/// (both databases read numbered placeholders; neither takes an array the same way).
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Milliseconds since the Unix epoch, the unit every timestamp column uses.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
