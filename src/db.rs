//! The database: connecting, migrating, and (in the submodules) every SQL statement the app
//! runs. Nothing outside `db/` writes SQL.
//!
//! Two engines, one set of statements: SQLite (the embedded default, one server) and
//! PostgreSQL (several stateless instances sharing it), chosen by the scheme of
//! `DATABASE_URL`. The statements are written in the SQL both accept (`$1` placeholders,
//! `RETURNING`, `IS DISTINCT FROM`, times as integer Unix seconds) and run through sqlx's `Any`
//! driver. Where the engines really differ (how a transaction takes its locks) the function
//! says so and asks [`Engine`]. Each engine has its own migrations folder.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, PoisonError};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Any, AnyConnection, ConnectOptions, Connection, Executor};
use tokio::sync::OwnedMutexGuard;

pub use self::statement::STATEMENT_TIMEOUT;
use self::statement::{bounded, query, query_as, query_scalar};

/// The condition, in SQL, that a bearer's session is live: it is this user's, neither revoked
/// nor expired, its user is enabled and has not changed password since the session was last
/// vouched for (what a refresh checks, `auth/rotation.rs`). Every statement run for a bearer
/// includes it, binding the session id as `$1`, the user id as `$2` and now as `$3`
/// (`bind_caller`), so a revoked session is refused by the statement that would have served it,
/// at no extra round trip.
macro_rules! live_caller {
    () => {
        "EXISTS (SELECT 1 FROM sessions caller JOIN users owner ON owner.id = caller.user_id
                 WHERE caller.id = $1 AND caller.user_id = $2 AND caller.revoked_at IS NULL
                   AND caller.expires_at > $3
                   AND (caller.max_expires_at IS NULL OR caller.max_expires_at > $3)
                   AND owner.disabled_at IS NULL
                   AND owner.password_changed_at <= caller.password_changed_at)"
    };
}

pub mod events;
pub mod identities;
pub mod keys;
pub mod oidc_flows;
pub mod one_time_tokens;
pub mod outbox;
pub mod rate_limits;
pub mod retention;
pub mod revocations;
pub mod sessions;
mod statement;
pub mod users;

pub type Pool = sqlx::AnyPool;

/// How long a request waits for a database connection before it gives up with 503: short, so
/// that during an outage clients hear "try again" quickly instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a SQLite writer of this process waits for its turn behind the others (a burst of
/// refreshes queues here, `begin_write`).
const SQLITE_TURN_WAIT: Duration = Duration::from_secs(5);

/// How long PostgreSQL lets a transaction sit idle before it ends it and lets go of its locks:
/// the end of a transaction whose instance was cut off from the database mid-way. Ours go from
/// statement to statement without waiting for anyone, so 10 s idle means nobody is coming back.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got {0:?})")]
    UnknownEngine(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot create the database file or its folder {0}: {1}")]
    Folder(String, #[source] std::io::Error),
    #[error("a database migration failed, the server will not start: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Who a statement runs for: the bearer of an access token, at the time `now` (Unix seconds).
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub now: i64,
}

/// The database engine behind a pool or connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a `DATABASE_URL` names.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        match url.split(':').next() {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(DbError::UnknownEngine(url.split(':').next().unwrap_or_default().to_owned())),
        }
    }

    /// The engine a pool connects to.
    pub fn of_pool(pool: &Pool) -> Self {
        Self::of_url(pool.connect_options().database_url.as_str()).unwrap_or(Self::Sqlite)
    }

    /// The engine behind a connection or transaction.
    fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// Opens the pool and applies the engine's migrations. For SQLite it first creates the file
/// (and its folder) if needed and switches it to write-ahead logging, which lets readers work
/// while a rotation writes and which the file remembers.
///
/// Every pooled connection limits its statements to [`STATEMENT_TIMEOUT`] (`limit_statements`);
/// the migrations run on a connection of their own, without that limit, because a migration of
/// a large table may rightly take minutes.
pub async fn connect_and_migrate(url: &str) -> Result<Pool, DbError> {
    sqlx::any::install_default_drivers();
    let engine = Engine::of_url(url)?;
    if engine == Engine::Sqlite {
        prepare_sqlite_file(url).await?;
    }
    let options = AnyConnectOptions::from_str(url).map_err(DbError::Connect)?;
    migrate(&options, engine).await?;
    AnyPoolOptions::new()
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _| Box::pin(limit_statements(conn)))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

async fn migrate(options: &AnyConnectOptions, engine: Engine) -> Result<(), DbError> {
    let mut conn = AnyConnection::connect_with(options).await.map_err(DbError::Connect)?;
    let migrations = match engine {
        Engine::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Engine::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    // On PostgreSQL concurrent starts take turns (sqlx holds an advisory lock). SQLite has no
    // such lock: a process starting at the same moment may apply a migration between our check
    // and our attempt, which then fails. Each migration commits whole, so a failure caused by
    // another process means it made progress: look again, once per migration at most.
    let mut attempts_left = if engine == Engine::Sqlite { migrations.iter().count() } else { 0 };
    while let Err(err) = migrations.run(&mut conn).await {
        if attempts_left == 0 {
            return Err(DbError::Migrate(err));
        }
        attempts_left -= 1;
        tracing::info!(error = %err, "a migration raced another process; checking again");
    }
    conn.close().await.map_err(DbError::Connect)
}

/// Run on every new pooled connection: PostgreSQL cancels a statement after
/// [`STATEMENT_TIMEOUT`] and ends a transaction left idle for [`IDLE_IN_TRANSACTION_TIMEOUT`];
/// SQLite waits [`STATEMENT_TIMEOUT`] for another process's write lock. (The client's own bound,
/// for a server that stops answering, is in `db/statement.rs`.)
async fn limit_statements(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let millis = |limit: Duration| limit.as_millis();
    let settings = match Engine::of(conn) {
        Engine::Postgres => format!(
            "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {}",
            millis(STATEMENT_TIMEOUT),
            millis(IDLE_IN_TRANSACTION_TIMEOUT)
        ),
        Engine::Sqlite => format!("PRAGMA busy_timeout = {}", millis(STATEMENT_TIMEOUT)),
    };
    bounded(conn.execute(sqlx::raw_sql(&settings))).await.map(drop)
}

/// Creates the SQLite file if it is missing, readable and writable by this user only (0600),
/// in a folder only this user can enter (0700) if the folder is created too: the file holds
/// password hashes, sessions and the signing keys. SQLite gives its `-wal` and `-shm` files the
/// database file's permissions. An existing file or folder keeps the permissions it has.
///
/// Switching a new file to write-ahead logging takes an exclusive lock that SQLite's busy
/// handler does not wait for: processes starting together on a new file get "database is
/// locked" at once while one of them switches it. They try again, for [`STATEMENT_TIMEOUT`].
async fn prepare_sqlite_file(url: &str) -> Result<(), DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(DbError::Connect)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let file = options.get_filename();
    if file.as_os_str() != ":memory:" {
        create_private(file).map_err(|err| DbError::Folder(file.display().to_string(), err))?;
    }
    let gives_up_at = tokio::time::Instant::now() + STATEMENT_TIMEOUT;
    loop {
        match options.connect().await {
            Ok(conn) => return conn.close().await.map_err(DbError::Connect),
            Err(err) if is_busy(&err) && tokio::time::Instant::now() < gives_up_at => {
                tokio::time::sleep(WAL_SWITCH_RETRY).await;
            }
            Err(err) => return Err(DbError::Connect(err)),
        }
    }
}

/// How long a process starting on a new SQLite file waits before it looks again whether
/// another one has finished switching the file to write-ahead logging.
const WAL_SWITCH_RETRY: Duration = Duration::from_millis(20);

/// True when SQLite answered BUSY (primary result code 5): another connection holds the lock.
fn is_busy(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref().and_then(primary_sqlite_code) == Some(5))
}

fn create_private(file: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    if let Some(folder) = file.parent().filter(|f| !f.as_os_str().is_empty()) {
        let mut folders = std::fs::DirBuilder::new();
        #[cfg(unix)]
        folders.mode(0o700);
        folders.recursive(true).create(folder)?;
    }
    let mut new_file = std::fs::OpenOptions::new();
    #[cfg(unix)]
    new_file.mode(0o600);
    match new_file.write(true).create_new(true).open(file) {
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// Starts a transaction that writes: on SQLite it takes the database's write lock from its
/// first statement (`BEGIN IMMEDIATE`), so its reads and writes cannot interleave with another
/// writer's; on PostgreSQL it is a plain transaction, and the statements that read what they
/// are about to change lock those rows (`FOR UPDATE`). Dropping it rolls back.
///
/// SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's
/// busy handler (1, 2, 5 ... 100 ms): under a burst of refreshes the unlucky ones slept their way
/// to a 135 ms p99. So this process's writers first queue for their turn, first come first
/// served, and only the holder of the turn asks SQLite for the lock. The turn is load, not a
/// fault, so a writer may wait [`SQLITE_TURN_WAIT`] for it before it gets a 503; beginning
/// itself (another process may hold the lock) takes at most [`STATEMENT_TIMEOUT`].
pub async fn begin_write(pool: &Pool) -> Result<WriteTransaction, sqlx::Error> {
    match Engine::of_pool(pool) {
        Engine::Sqlite => {
            let turn = tokio::time::timeout(SQLITE_TURN_WAIT, sqlite_writers(pool).lock_owned())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?;
            let tx = bounded(pool.begin_with("BEGIN IMMEDIATE")).await?;
            Ok(WriteTransaction { tx, _turn: Some(turn) })
        }
        Engine::Postgres => Ok(WriteTransaction { tx: bounded(pool.begin()).await?, _turn: None }),
    }
}

/// The queue of this process's writers to one SQLite database (one per file, so that the test
/// suite's many databases do not wait for each other).
fn sqlite_writers(pool: &Pool) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: LazyLock<std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let database = pool.connect_options().database_url.to_string();
    let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(queues.entry(database).or_default())
}

/// A transaction from [`begin_write`], used like the connection it runs on. `commit` it;
/// dropping it rolls back. On SQLite it also holds the process's turn to write until then.
pub struct WriteTransaction {
    tx: sqlx::Transaction<'static, Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    /// Commits, waiting at most [`STATEMENT_TIMEOUT`] for the database to confirm it.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        bounded(self.tx.commit()).await
    }
}

impl Deref for WriteTransaction {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// True when the database answered, so the server is ready for traffic.
pub async fn ping(pool: &Pool) -> Result<(), sqlx::Error> {
    bounded(async {
        let mut conn = pool.acquire().await?;
        conn.ping().await
    })
    .await
}

/// True when `err` is a unique-constraint violation, which callers turn into a domain error.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True when `err` says the database is unreachable, overloaded or shutting down, rather than
/// that the statement was wrong: the request may succeed if the client tries again later.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                is_transient_sqlstate(&code)
            } else {
                is_transient_sqlite_code(&code)
            }
        }
        _ => false,
    }
}

/// PostgreSQL: 08 connection exceptions, 53 insufficient resources, 57P operator intervention
/// (shutdown, cannot connect now), 57014 a statement cancelled by `statement_timeout`, 40001
/// serialization failure, 40P01 deadlock.
fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "53", "57P", "57014", "40001", "40P01"].iter().any(|prefix| code.starts_with(prefix))
}

/// SQLite: 5 BUSY, 6 LOCKED, 10 IOERR, 13 FULL.
fn is_transient_sqlite_code(code: &str) -> bool {
    primary_sqlite_code(code).is_some_and(|code| matches!(code, 5 | 6 | 10 | 13))
}

/// SQLite's primary result code: the low byte of the extended one sqlx reports.
fn primary_sqlite_code(code: &str) -> Option<u32> {
    code.parse::<u32>().ok().map(|code| code & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_chooses_the_engine() {
        assert_eq!(Engine::of_url("sqlite://data/x.db").ok(), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("sqlite::memory:").ok(), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("postgres://u@h/db").ok(), Some(Engine::Postgres));
        assert_eq!(Engine::of_url("postgresql://u@h/db").ok(), Some(Engine::Postgres));
        assert!(Engine::of_url("mysql://u@h/db").is_err());
    }

    /// A released migration is never edited: sqlx stores each applied migration's checksum and
    /// refuses to start against a database whose migration changed since, even by a comment
    /// (`migrations/README.md`). Fixes go in a new migration.
    #[test]
    fn released_migrations_are_unchanged() {
        let released: [(&str, i64, &str); 2] = [
            (
                "sqlite",
                1,
                "4e812b036bc8f14dfeef8aaaaa6e6683e4fefbf848217a2bca8d0b33aae17176d2e6e920f6b46e09cf24acc340dcf4a9",
            ),
            (
                "postgres",
                1,
                "9e6127ebb8a93af3aa5aeb8529f64e6b0a67aa22d13871fe00e580cf6d3f0598a42fb0dc657a8a0c16e1bddccf46691f",
            ),
        ];
        for (engine, version, checksum) in released {
            let migrator = match engine {
                "sqlite" => sqlx::migrate!("./migrations/sqlite"),
                _ => sqlx::migrate!("./migrations/postgres"),
            };
            let migration =
                migrator.iter().find(|m| m.version == version).expect("released migration exists");
            let hex: String = migration.checksum.iter().map(|byte| format!("{byte:02x}")).collect();
            assert_eq!(hex, checksum, "{engine} migration {version} was edited; add a new migration instead");
        }
    }

    #[test]
    fn transient_codes_are_told_apart_from_mistakes() {
        for transient in ["08006", "08001", "57P01", "57P03", "57014", "53300", "40001", "40P01"] {
            assert!(is_transient_sqlstate(transient), "{transient}");
        }
        for mistake in ["23505", "23503", "42601", "42P01", "22P02"] {
            assert!(!is_transient_sqlstate(mistake), "{mistake}");
        }
        for transient in ["5", "517", "6", "10", "3338", "13"] {
            assert!(is_transient_sqlite_code(transient), "{transient}");
        }
        for mistake in ["1", "19", "2067", "787", "SQLITE"] {
            assert!(!is_transient_sqlite_code(mistake), "{mistake}");
        }
    }
}
