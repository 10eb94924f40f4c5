//! Transactions that cost one database round trip to open and one to close.
//!
//! Diesel's `Connection::transaction` sends `BEGIN` and `COMMIT` on MySQL as
//! text queries with multi-statements switched on and off around each: three
//! round trips apiece, six per transaction. The agent endpoint is bound by
//! round trips (one transaction per command), so here `START TRANSACTION`,
//! `COMMIT` and `ROLLBACK` go out as prepared statements that diesel caches
//! per connection. MySQL (unlike MariaDB) refuses to prepare
//! `START TRANSACTION`; there it falls back to the text query.
//!
//! A transaction that does not commit also retires its connection: the pool
//! closes it instead of handing it on. After a deadlock inside a cached
//! prepared `SELECT … FOR UPDATE`, the MariaDB client library waits forever
//! for a reply on that statement's next execution, while the server sits idle
//! with the new transaction's row locks held: every queue behind those rows
//! stalled in the fault suite. Failures are rare, so a fresh connection is
//! cheap; plain reads outside transactions take no locks and are not affected.
//!
//! Pooled connections are not pinged when checked out (r2d2 would send a
//! `SELECT 1` before every transaction: one round trip in nine on the agent
//! path). A connection that died meanwhile, after a database restart say,
//! fails its `START TRANSACTION`; it is retired and the next one tried, so a
//! restart costs no request.
//!
//! On a Galera cluster two nodes may change the same rows at once: each
//! transaction holds only its own node's locks, and the one certified second
//! fails at COMMIT with a deadlock error (1213). Nothing of it was applied,
//! so the whole transaction runs again, reading the rows as they are now
//! (every queue move is a compare-and-set, so the repeat cannot hand a
//! command out twice). The same holds for a plain server's deadlock at commit.
//!
//! A deadlock may also strike a statement inside the work: on a plain server
//! when two transactions lock rows in opposite orders, on Galera when a
//! replicated write set aborts a local transaction that holds its rows. The
//! server then rolls the whole transaction back at once (`@@in_transaction`
//! reads 0), and the work is run again the same way. A domain error leaves
//! the transaction open, so it is told apart by asking the server, not by
//! reading the error, which the work may have wrapped in its own.
//!
//! Galera applies another node's commits a little later than that node
//! reports them: a transaction may read rows as they were before a commit
//! the agent already heard of from another gateway. Queue moves do not mind
//! (each is a compare-and-set, repeated when it loses), but a decision taken
//! on an *edge* does: a `Hello` with a new boot id completes a reboot only if
//! it sees the reboot command recorded, and the next `Hello` carries the same
//! boot id, so a stale read would leave the queue waiting for a reboot that
//! happened. Such transactions are *causal*: before their first read the node
//! applies every write set the cluster committed before it
//! (`wsrep_sync_wait = 1`, set for that transaction only; a no-op without
//! Galera, and MySQL lacks the variable).
//!
//! SQLite opens with `BEGIN IMMEDIATE`: the transaction takes the write lock
//! up front, where `busy_timeout` applies. A deferred transaction that reads
//! and then writes after another process wrote fails at once with "database
//! is locked" instead of waiting.

use super::{DbConnection, Pooled, Storage, StorageError};
use diesel::backend::Backend;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// One fixed statement per type: diesel caches prepared statements by type.
macro_rules! control_statement {
    ($name:ident, $sql:literal) => {
        #[derive(Debug, Clone, Copy, QueryId)]
        struct $name;

        impl<DB: Backend> QueryFragment<DB> for $name {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl<Conn> RunQueryDsl<Conn> for $name {}
    };
}

control_statement!(StartTransaction, "START TRANSACTION");
control_statement!(Commit, "COMMIT");
control_statement!(Rollback, "ROLLBACK");

fn begin(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Mysql(c) => match StartTransaction.execute(c) {
            Ok(_) => Ok(()),
            Err(_) => c.batch_execute("START TRANSACTION"),
        },
        DbConnection::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE"),
    }
}

fn commit(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Mysql(c) => Commit.execute(c).map(drop),
        DbConnection::Sqlite(c) => c.batch_execute("COMMIT"),
    }
}

/// Rolls back and retires the connection (see the module comment).
fn rollback(conn: &mut DbConnection) {
    retire(conn);
    let rolled_back = match conn {
        DbConnection::Mysql(c) => Rollback.execute(c).map(drop),
        DbConnection::Sqlite(c) => c.batch_execute("ROLLBACK"),
    };
    if let Err(e) = rolled_back {
        // The connection is most likely gone; retired, the pool closes it.
        tracing::warn!(error = %e, "could not roll back a transaction");
    }
}

/// Marks the connection broken, so the pool closes it when it comes back
/// (`R2D2Connection::is_broken` reads diesel's transaction-manager status).
fn retire(conn: &mut DbConnection) {
    match conn {
        DbConnection::Mysql(c) => AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error(),
        DbConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error(),
    }
}

/// How many times a transaction runs when it loses a conflict.
const ATTEMPTS: u32 = 4;

impl Storage {
    /// Runs `f` in one transaction on a pooled connection: committed if it
    /// returns `Ok`, rolled back if it returns `Err` or panics; a connection
    /// whose transaction did not commit is never handed on. A transaction
    /// that loses a conflict, at COMMIT or inside `f` (see the module
    /// comment), runs `f` again.
    pub(super) fn transaction<T, E: From<StorageError>>(
        &self,
        f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction_with(Reads::Local, f)
    }

    /// [`Self::transaction`], with reads as `reads` says (see the module comment).
    pub(super) fn transaction_with<T, E: From<StorageError>>(
        &self,
        reads: Reads,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 1;
        loop {
            let mut conn = self.checkout(|conn| {
                if reads == Reads::Causal {
                    sync_wait(conn, true);
                }
                begin(conn)
            })?;
            let done = run(&mut conn, &mut f);
            if reads == Reads::Causal {
                sync_wait(&mut conn, false);
            }
            match done {
                Ok(value) => return Ok(value),
                Err(Failed::InWork(e)) => return Err(e),
                Err(Failed::Aborted(_)) if attempt < ATTEMPTS => {
                    tracing::debug!(attempt, "the server rolled the transaction back mid-work; running it again");
                }
                Err(Failed::Aborted(e)) => return Err(e),
                Err(Failed::AtCommit(e)) if attempt < ATTEMPTS && conflicted(&e) => {
                    tracing::debug!(attempt, error = %e, "the transaction lost a write conflict at commit; running it again");
                }
                Err(Failed::AtCommit(e)) => return Err(E::from(e.into())),
            }
            attempt += 1;
            std::thread::sleep(std::time::Duration::from_millis(fastrand::u64(1..=5 * u64::from(attempt))));
        }
    }

    /// A pooled connection that passed `check` (a ping, or the `START
    /// TRANSACTION` that opens the work). One that fails is retired and the
    /// next tried: after a restart of the server every pooled connection may
    /// be dead, so up to the pool size plus one new one. SQLite's connection
    /// cannot die; its BEGIN fails only when the lock stays taken, and waiting
    /// again would not help.
    pub(super) fn checkout(
        &self,
        check: impl Fn(&mut DbConnection) -> QueryResult<()>,
    ) -> Result<Pooled, StorageError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.pool.get()?;
            let Err(e) = check(&mut conn) else { return Ok(conn) };
            retire(&mut conn);
            if !matches!(*conn, DbConnection::Mysql(_)) || attempt > self.max_connections() {
                return Err(e.into());
            }
            tracing::debug!(error = %e, "a pooled database connection is gone; trying another");
        }
    }
}

/// What a transaction's reads see on a Galera cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reads {
    /// What this node has applied (the default).
    Local,
    /// Every commit of the cluster before the transaction began.
    Causal,
}

/// Switches Galera's causality check for reads on or off for the session.
/// Errors are ignored: MySQL lacks the variable, and a dead connection fails
/// the `START TRANSACTION` that follows.
fn sync_wait(conn: &mut DbConnection, on: bool) {
    if let DbConnection::Mysql(c) = conn {
        let _ = c.batch_execute(if on { "SET SESSION wsrep_sync_wait = 1" } else { "SET SESSION wsrep_sync_wait = 0" });
    }
}

/// Why a transaction did not commit.
enum Failed<E> {
    /// `f` failed with the transaction still open; nothing is tried again.
    InWork(E),
    /// `f` failed because the server rolled the whole transaction back.
    Aborted(E),
    /// `f` succeeded and the COMMIT failed.
    AtCommit(diesel::result::Error),
}

/// A deadlock or certification failure: the server rolled it all back.
fn conflicted(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::SerializationFailure, _))
}

/// Whether the server ended the transaction on its own (a deadlock inside
/// it). MySQL lacks the variable and a dead connection cannot answer: both
/// read as "no", and the error stands.
fn rolled_back_by_server(conn: &mut DbConnection) -> bool {
    use diesel::dsl::sql;
    let DbConnection::Mysql(c) = conn else { return false };
    diesel::select(sql::<diesel::sql_types::BigInt>("CAST(@@in_transaction AS SIGNED)"))
        .get_result::<i64>(c)
        .is_ok_and(|open| open == 0)
}

/// Runs `f` in the transaction just begun on `conn` (see [`Storage::transaction`]).
fn run<T, E: From<StorageError>>(
    conn: &mut DbConnection,
    f: &mut impl FnMut(&mut DbConnection) -> Result<T, E>,
) -> Result<T, Failed<E>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn))) {
        Ok(Ok(value)) => match commit(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                rollback(conn);
                Err(Failed::AtCommit(e))
            }
        },
        Ok(Err(e)) => {
            let aborted = rolled_back_by_server(conn);
            rollback(conn);
            Err(if aborted { Failed::Aborted(e) } else { Failed::InWork(e) })
        }
        Err(panic) => {
            rollback(conn);
            std::panic::resume_unwind(panic)
        }
    }
}
