//! Every statement the app runs is built here: sqlx's `query`, `query_as` and `query_scalar`,
//! counted for `/metrics` and bounded in time.
//!
//! The bound is kept by the client, because what it is for is a database that stops answering
//! in the middle of a statement (a network partition, not a refused connection). PostgreSQL's
//! own `statement_timeout`, which every connection sets (`db.rs`), stops a statement that runs
//! too long, but its answer cannot reach us across a partition: without a bound of our own the
//! request would wait until TCP gives up, minutes later. A statement past the bound fails as an
//! I/O time-out, which `db::is_unavailable` turns into 503 + `Retry-After`; nothing it began is
//! committed, so the client tries again with the same cookie. sqlx drains or discards the
//! connection the statement was cut off on before anyone uses it again.

use std::future::Future;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Encode, Executor, FromRow, Type};

use super::Caller;

/// How long one statement may take, on either side: PostgreSQL cancels it after this
/// (`statement_timeout`), SQLite waits this long for another process's write lock
/// (`busy_timeout`), and the client stops waiting for an answer after this.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(3);

/// `bind`, passed on, and `bind_caller`: the caller as `$1` to `$3` (`db::live_caller!`).
macro_rules! bind_methods {
    () => {
        pub fn bind<T: 'q + Encode<'q, Any> + Type<Any>>(self, value: T) -> Self {
            Self(self.0.bind(value))
        }

        pub fn bind_caller(self, caller: Caller<'q>) -> Self {
            self.bind(caller.session_id).bind(caller.user_id).bind(caller.now)
        }
    };
}

/// One of sqlx's fetches, bounded: `fetch_one -> O` and so on.
macro_rules! bounded_fetch {
    ($fetch:ident -> $output:ty) => {
        pub async fn $fetch<'e, 'c: 'e, E>(self, executor: E) -> Result<$output, sqlx::Error>
        where
            'q: 'e,
            O: 'e,
            E: 'e + Executor<'c, Database = Any>,
        {
            bounded(self.0.$fetch(executor)).await
        }
    };
}

/// `work`, or an I/O time-out error once it has taken [`STATEMENT_TIMEOUT`].
pub async fn bounded<T>(work: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, sqlx::Error> {
    tokio::time::timeout(STATEMENT_TIMEOUT, work).await.unwrap_or_else(|_| {
        let message = format!("the database did not answer within {} s", STATEMENT_TIMEOUT.as_secs());
        Err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, message)))
    })
}

/// A statement being built: sqlx's builder, whose `bind` it passes on and whose results it
/// waits for at most [`STATEMENT_TIMEOUT`].
#[must_use = "a statement does nothing until it is executed or fetched"]
pub struct Statement<B>(B);

/// `sqlx::query`, counted and bounded.
pub fn query(sql: &str) -> Statement<Query<'_, Any, AnyArguments<'_>>> {
    crate::metrics::db_query();
    Statement(sqlx::query(sql))
}

/// `sqlx::query_as`, counted and bounded.
pub fn query_as<O>(sql: &str) -> Statement<QueryAs<'_, Any, O, AnyArguments<'_>>>
where
    O: for<'r> FromRow<'r, AnyRow>,
{
    crate::metrics::db_query();
    Statement(sqlx::query_as(sql))
}

/// `sqlx::query_scalar`, counted and bounded.
pub fn query_scalar<O>(sql: &str) -> Statement<QueryScalar<'_, Any, O, AnyArguments<'_>>>
where
    (O,): for<'r> FromRow<'r, AnyRow>,
{
    crate::metrics::db_query();
    Statement(sqlx::query_scalar(sql))
}

impl<'q> Statement<Query<'q, Any, AnyArguments<'q>>> {
    bind_methods!();

    pub async fn execute<'e, 'c: 'e, E>(self, executor: E) -> Result<AnyQueryResult, sqlx::Error>
    where
        'q: 'e,
        E: 'e + Executor<'c, Database = Any>,
    {
        bounded(self.0.execute(executor)).await
    }
}

impl<'q, O> Statement<QueryAs<'q, Any, O, AnyArguments<'q>>>
where
    O: Send + Unpin + for<'r> FromRow<'r, AnyRow>,
{
    bind_methods!();

    bounded_fetch!(fetch_optional -> Option<O>);
    bounded_fetch!(fetch_all -> Vec<O>);
}

impl<'q, O> Statement<QueryScalar<'q, Any, O, AnyArguments<'q>>>
where
    O: Send + Unpin,
    (O,): Send + Unpin + for<'r> FromRow<'r, AnyRow>,
{
    bind_methods!();

    bounded_fetch!(fetch_one -> O);
    bounded_fetch!(fetch_optional -> Option<O>);
    bounded_fetch!(fetch_all -> Vec<O>);
}
