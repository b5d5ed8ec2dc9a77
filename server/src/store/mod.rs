//! The database: connection, migrations, and one module per table family (users, directory,
//! roles, sessions, password links, API tokens, rooms, members, messages, attachments, search, provisioning). Every
//! query in the server lives under this folder, the same text for SQLite and PostgreSQL
//! (except search's matching, which each database does its own way).

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
mod attachments;
mod changes;
mod directory;
mod members;
mod messages;
mod password_links;
mod provisioning;
mod push;
mod roles;
mod rooms;
mod search;
mod sessions;
mod throttle;
mod users;

pub use api_tokens::ApiToken;
pub use attachments::{NewAttachment, SharedFile};
pub use changes::{Actor, Changed, Edited, Refused};
pub use members::{MemberRoom, UnreadCount};
pub use messages::{rfc3339, Inserted, NewMessage, StoredMessage};
pub use provisioning::{SyncEntry, Synced};
pub use push::{PushRow, PUSH_SUBSCRIPTIONS_PER_PERSON};
pub use rooms::{AdminRoomRow, ListedRoom, Room};
pub use search::{Cursor, Find, Found};
pub use sessions::{SessionOrigin, SessionRow};
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
    #[error("only a SQLite database can be copied this way")]
    NotSqlite,
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How SQLite writes (`SQLITE_SYNCHRONOUS`): `Full` makes every acknowledged message survive a
/// power cut (one fsync per batch); `Normal` only a crash of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Full,
    Normal,
}

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
    /// Opens the database at `url` (`sqlite:` or `postgres:`) and brings its schema up to date;
    /// `sync` is how SQLite writes (PostgreSQL has its own settings).
    pub async fn connect(url: &str, sync: SqliteSync) -> Result<Self> {
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
        Self::connect_sqlite(url, sync).await
    }

    async fn connect_sqlite(url: &str, sync: SqliteSync) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged message survives a power cut, not only a crash of the process:
            // messages are committed in batches, so this costs one fsync per batch.
            // `SQLITE_SYNCHRONOUS=normal` trades that for speed (see README, Configuration).
            .synchronous(match sync {
                SqliteSync::Full => SqliteSynchronous::Full,
                SqliteSync::Normal => SqliteSynchronous::Normal,
            })
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

    /// Writes a consistent copy of a SQLite database to `path` (a new file), safely while the
    /// server writes to it (`VACUUM INTO`: one read transaction, compacted as it goes).
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<()> {
        let Pool::Sqlite(db) = &self.pool else { return Err(StoreError::NotSqlite) };
        sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().into_owned()).execute(db).await?;
        Ok(())
    }

    /// Whether this store is PostgreSQL (else SQLite).
    /// The pool's connections: in use, and idle.
    pub fn pool_use(&self) -> (u32, u32) {
        let (size, idle) = match &self.pool {
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }
}

/// The two tables of hashed, expiring tokens that stand for a person: the same columns.
#[derive(Clone, Copy)]
enum TokenTable {
    Sessions,
    PasswordLinks,
}

/// Stores the SHA-256 of a token that stands for `user_id` until `expires_at`, on `conn`.
async fn insert_token(
    conn: Conn<'_>,
    table: TokenTable,
    token_hash: &[u8],
    user_id: i64,
    expires_at: i64,
) -> Result<()> {
    let table = match table {
        TokenTable::Sessions => "sessions",
        TokenTable::PasswordLinks => "password_links",
    };
    let sql = format!("INSERT INTO {table} (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)");
    on_pool!(conn conn, db => {
        sqlx::query(&sql).bind(token_hash).bind(user_id).bind(now_ms()).bind(expires_at).execute(db).await?;
        Ok(())
    })
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
