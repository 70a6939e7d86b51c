//! The database: connecting, migrating, and (in the submodules) every SQL statement the app
//! runs. Nothing outside `db/` writes SQL, so another engine changes only this folder.

use std::str::FromStr;
use std::time::Duration;

use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
};

pub mod events;
pub mod keys;
pub mod sessions;
pub mod users;

pub type Pool = sqlx::SqlitePool;
pub type Transaction = sqlx::Transaction<'static, sqlx::Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, #[source] std::io::Error),
    #[error("a database migration failed, the server will not start: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Opens the pool (creating the SQLite file and its folder if needed) and applies migrations.
pub async fn connect_and_migrate(url: &str) -> Result<Pool, DbError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(DbError::Connect)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        // Writers queue for the lock instead of failing at once with SQLITE_BUSY.
        .busy_timeout(Duration::from_secs(5));
    if let Some(folder) = options.get_filename().parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|err| DbError::Folder(folder.display().to_string(), err))?;
    }
    let pool = SqlitePoolOptions::new().connect_with(options).await.map_err(DbError::Connect)?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(DbError::Migrate)?;
    Ok(pool)
}

/// `sqlx::query`, counted for `/metrics`: every statement of the app goes through these three.
fn query(sql: &str) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    crate::metrics::db_query();
    sqlx::query(sql)
}

/// `sqlx::query_as`, counted.
fn query_as<O>(sql: &str) -> QueryAs<'_, Sqlite, O, SqliteArguments<'_>>
where
    O: for<'r> sqlx::FromRow<'r, SqliteRow>,
{
    crate::metrics::db_query();
    sqlx::query_as(sql)
}

/// `sqlx::query_scalar`, counted.
fn query_scalar<O>(sql: &str) -> QueryScalar<'_, Sqlite, O, SqliteArguments<'_>>
where
    (O,): for<'r> sqlx::FromRow<'r, SqliteRow>,
{
    crate::metrics::db_query();
    sqlx::query_scalar(sql)
}

/// True when `err` is a unique-constraint violation, which callers turn into a domain error.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
