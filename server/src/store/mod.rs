//! The database: connection, migrations, and one module per table family. Every query in
//! the server lives under this folder.

/// Runs `$body` with `$db` bound to this store's pool (`on_pool!(store, db => …)`) or to one
/// connection (`on_pool!(conn c, db => …)`), whichever database it is: the same SQL text and
/// binds, compiled once for each driver. Queries use numbered placeholders (`$1`), which both
/// read, and SQL both run. The only macro that stands for code here: everything else is a plain
/// `async fn` with its `?` and transactions in sight.
macro_rules! on_pool {
    (conn $conn:expr, $db:ident => $body:expr) => {
        match $conn {
            $crate::store::Db::Sqlite($db) => $body,
            $crate::store::Db::Postgres($db) => $body,
        }
    };
    ($store:expr, $db:ident => $body:expr) => {
        on_pool!(conn &$store.pool, $db => $body)
    };
}

mod api_tokens;
mod messages;
mod password_links;
mod provisioning;
mod rooms;
mod sessions;
mod users;

pub use api_tokens::ApiToken;
pub use messages::{rfc3339, Inserted, NewMessage, StoredMessage};
pub use provisioning::{SyncEntry, Synced};
pub use rooms::{AdminRoomRow, ListedRoom, MemberRoom, Room, UnreadCount};
pub use users::{Listed, NewUser, User};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};

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

/// One thing of each database: a pool, a connection.
#[derive(Clone)]
pub enum Db<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// The database behind a store: SQLite (the default) or PostgreSQL.
pub type Pool = Db<SqlitePool, PgPool>;

/// A connection (or a transaction, through `&mut *tx`) of either database, for the steps
/// that run inside a caller's transaction.
pub(crate) type Conn<'a> = Db<&'a mut SqliteConnection, &'a mut PgConnection>;

impl<'a> From<&'a mut SqliteConnection> for Conn<'a> {
    fn from(conn: &'a mut SqliteConnection) -> Self {
        Db::Sqlite(conn)
    }
}

impl<'a> From<&'a mut PgConnection> for Conn<'a> {
    fn from(conn: &'a mut PgConnection) -> Self {
        Db::Postgres(conn)
    }
}

/// The name of the unique index (or constraint) a statement violated, if that is why it
/// failed. PostgreSQL reports the name; SQLite writes it in its message (`UNIQUE constraint
/// failed: index 'users_email_key'`, or `table.column` for a column's own constraint).
fn violated_unique(error: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = error else { return None };
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(name) = db.constraint() {
        return Some(name.to_owned());
    }
    let failed = db.message().rsplit(": ").next()?;
    Some(failed.strip_prefix("index '").and_then(|n| n.strip_suffix('\'')).unwrap_or(failed).to_owned())
}

/// Turns the violation of one named unique index into the error that says what it means.
trait OnUnique<T> {
    fn on_unique(self, index: &str, error: impl FnOnce() -> StoreError) -> Result<T>;
}

impl<T, E: Into<StoreError>> OnUnique<T> for std::result::Result<T, E> {
    fn on_unique(self, index: &str, error: impl FnOnce() -> StoreError) -> Result<T> {
        self.map_err(Into::into).map_err(|stored| match &stored {
            StoreError::Database(db) if violated_unique(db).as_deref() == Some(index) => error(),
            _ => stored,
        })
    }
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
