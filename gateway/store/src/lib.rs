//! All SQL of the gateway: the connection pool, migrations and one module per
//! aggregate. Nothing outside this crate builds a query; rows become domain
//! types (`outfit-domain`) here, in each aggregate's module.
//!
//! Code map: `models` (components, role and model versions), `devices`
//! (registration, Hello, the exchange log), `queue` (the per-device command
//! queue; `hot` holds the agent path's fixed statements), `scripts`, `trust`
//! (tokens, device certificates, download entitlement), `approval` (enrolment
//! requests), `operators` (operators, groups, rights), `audit`,
//! `transaction` (BEGIN/COMMIT and retries), `server_status` (MariaDB's
//! counters for the bench).
//!
//! **Invariant:** model rows (role versions, model versions, components) are only
//! ever inserted, never updated; a queue row moves pending → sent → succeeded |
//! failed and each move is a compare-and-set on its current state, so a repeated
//! or stale report can never move it twice.

mod approval;
mod audit;
mod console_sessions;
mod devices;
mod federation;
mod file_servers;
mod footprint;
mod gauges;
mod hot;
mod inventory;
mod models;
mod operators;
mod personnel;
mod pool;
mod queue;
mod rollouts;
mod schema;
mod scripts;
mod server_status;
mod transaction;
mod trust;
mod versions;

pub use approval::MAX_WAITING;
pub use console_sessions::LiveSession;
pub use devices::{DeviceQuery, ExchangeRecord};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
pub use federation::{Applied, PeerRow, ProposalRow, ReplicatedModel, ReplicatedState, ReplicatedVersion};
pub use file_servers::FileServerRow;
pub use footprint::TableSize;
pub use gauges::FleetGauges;
pub use inventory::{DriftQuery, DriftRecord, HISTORY, InventorySummary, Supposed};
pub use models::ModelSummary;
use models::{ensure_site, site_id};
pub use operators::OperatorRow;
pub use personnel::HolderListing;
pub use rollouts::NewRollout;
use std::sync::Arc;

pub use scripts::ScriptSummary;
pub use server_status::ServerCounters;
pub use trust::{CertificateStatus, Grant, Issued, ModelPackage, RENEWAL_OVERLAP_MS, TokenRefused};

const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// One connection type for both backends. MySQL is listed first so that a
/// `mysql://` URL is never opened as a SQLite file name.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Mysql(diesel::mysql::MysqlConnection),
    Sqlite(diesel::sqlite::SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("open database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("run migrations: {0}")]
    Migration(String),
    #[error("no {what} named `{name}`")]
    NotFound { what: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
    /// What the request would create, or start, is there already.
    #[error("{0}")]
    Exists(String),
    /// Another writer moved a row this transaction had locked or read; the
    /// transaction is rolled back and the caller may try again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A local edit of a model whose site is homed in another data centre:
    /// the transaction is rolled back and the edit becomes a proposal
    /// ([`Storage::proposing`]); never seen outside this crate.
    #[error("the site's home is {}", .0.home)]
    Propose(Box<federation::Proposed>),
}

type Result<T, E = StorageError> = std::result::Result<T, E>;

pub use outfit_domain::now_ms;

/// Per-connection settings SQLite needs to be shared by several threads and processes.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> std::result::Result<(), diesel::r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => {
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                    .map_err(diesel::r2d2::Error::QueryError)?;
            }
            // A safety net: MariaDB aborts a transaction left idle for 30 s
            // (and closes that connection, which the pool then replaces), so a
            // transaction stuck open on the gateway side cannot hold queue rows
            // locked for longer. (The one such stall found, a client hang after
            // a deadlock, is fixed in `transaction.rs`.) MySQL lacks the
            // variable and keeps its default.
            DbConnection::Mysql(c) => {
                if let Err(e) = c.batch_execute("SET SESSION idle_transaction_timeout = 30") {
                    tracing::debug!(error = %e, "the server has no idle_transaction_timeout (not MariaDB?)");
                }
            }
        }
        Ok(())
    }
}

/// The device has reached its desired model once every command of its latest
/// provisioning, and everything queued after it, succeeded (a skipped,
/// aborted or expired one means it has not).
/// A device reaches the version its queue was built to once every command of
/// that provisioning succeeded; one never provisioned (only scripts ran) has
/// reached none.
fn mark_applied_if_done(conn: &mut DbConnection, device: i64) -> QueryResult<()> {
    let (desired, open): (Option<i64>, i64) = hot::AppliedCheck { device }.get_result(conn)?;
    if open == 0 {
        hot::MarkApplied { device, desired }.execute(conn)?;
    }
    Ok(())
}

/// One agent exchange inside one transaction on one pooled connection: the
/// device lookup, the queue change and the exchange log commit together, once
/// (the agent endpoint is bound by commits and round trips), and the pool's
/// liveness check runs once per exchange instead of once per query.
pub struct Session<'c> {
    pub(crate) conn: &'c mut DbConnection,
    pub(crate) versions: &'c versions::Cache,
}

type Pooled = PooledConnection<pool::Backend>;

/// The gateway's database: a pool plus every query the gateway makes.
#[derive(Clone)]
pub struct Storage {
    pool: Pool<pool::Backend>,
    /// What each model version holds, read once: versions never change.
    versions: Arc<versions::Cache>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Storage {
    /// Opens `url` (`mysql://…` or a SQLite file path) and runs pending migrations.
    pub fn open(url: &str) -> Result<Self> {
        // One direct connection first: it fails at once with the backend's own
        // words ("Can't connect to server on …"), where the pool would retry
        // for seconds first.
        pool::establish(url)?;
        // SQLite allows one writer; a single pooled connection per process
        // serialises writers here instead of failing with "database is locked"
        // when two deferred transactions both try to upgrade to writing.
        // MariaDB: every command commits (and fsyncs) once, so throughput comes
        // from commits grouped across connections; `outfit-gateway bench` with
        // 1,000 agents measured 737/785/918 cmd/s with 3/4/16 connections and
        // no further gain at 32.
        let size = if url.starts_with("mysql://") { 16 } else { 1 };
        let pool = Pool::builder()
            .max_size(size)
            // Connections open as requests need them, not all at start-up.
            .min_idle(Some(1))
            // Checked by `Storage::checkout` instead: a transaction's own
            // START TRANSACTION tells a dead connection without a ping.
            .test_on_check_out(false)
            // With the database down, fail a request within seconds (agents retry)
            // rather than holding it for r2d2's default 30 s.
            .connection_timeout(std::time::Duration::from_secs(5))
            .connection_customizer(Box::new(ConnectionSetup))
            .build(pool::Backend::new(url))?;
        let storage = Self { pool, versions: Default::default() };
        storage.migrate()?;
        Ok(storage)
    }

    /// How many connections the pool holds.
    pub fn max_connections(&self) -> usize {
        self.pool.max_size() as usize
    }

    /// A pooled connection for work outside a transaction, pinged first (the
    /// pool does not; see `transaction.rs`).
    fn conn(&self) -> Result<Pooled> {
        self.checkout(diesel::r2d2::R2D2Connection::ping)
    }

    /// Runs `f` as one agent exchange: one pooled connection and one
    /// transaction (see [`Session`]). `Err` rolls everything back; a commit
    /// that loses a write conflict runs `f` again.
    pub fn exchange<T, E: From<StorageError>>(
        &self,
        mut f: impl FnMut(&mut Session<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(|conn| f(&mut Session { conn, versions: &self.versions }))
    }

    /// [`Self::exchange`] that first sees every commit of a Galera cluster
    /// made before it began, on any node: for a decision another gateway's
    /// write must not be missed by (see `transaction.rs`).
    pub fn exchange_causal<T, E: From<StorageError>>(
        &self,
        mut f: impl FnMut(&mut Session<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction_with(transaction::Reads::Causal, |conn| f(&mut Session { conn, versions: &self.versions }))
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let run = match &mut *conn {
            DbConnection::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS).map(|_| ()),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        run.map_err(|e| StorageError::Migration(e.to_string()))
    }

    /// Reverts every migration (used by tests to check the down migrations).
    pub fn revert_all(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let run = match &mut *conn {
            DbConnection::Mysql(c) => c.revert_all_migrations(MYSQL_MIGRATIONS).map(|_| ()),
            DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        run.map_err(|e| StorageError::Migration(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
