//! What the database costs per exchange, for `outfit-gateway bench`: the
//! server's own counters (`SHOW GLOBAL STATUS`, MariaDB/MySQL only) read
//! around a phase, and the price of one durable commit on this machine — the
//! floor under every exchange, since each commits once (and, with
//! `innodb_flush_log_at_trx_commit = 1`, reaches the disk before the agent is
//! answered). The counters are server-wide: the bench reads them while
//! nothing else uses the server.

use super::{DbConnection, Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use diesel::sql_types::Text;

/// Server-wide totals since the server started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerCounters {
    /// Statements clients sent (`Questions`: prepared executions included).
    pub statements: u64,
    pub commits: u64,
    /// fsync calls of InnoDB (redo log and data files).
    pub fsyncs: u64,
}

#[derive(QueryableByName)]
struct Status {
    #[diesel(sql_type = Text, column_name = "Variable_name")]
    name: String,
    #[diesel(sql_type = Text, column_name = "Value")]
    value: String,
}

impl ServerCounters {
    /// How much each counter grew since `earlier`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            statements: self.statements.saturating_sub(earlier.statements),
            commits: self.commits.saturating_sub(earlier.commits),
            fsyncs: self.fsyncs.saturating_sub(earlier.fsyncs),
        }
    }
}

impl Storage {
    /// The server's counters now; `None` on SQLite, which has none.
    pub fn server_counters(&self) -> Result<Option<ServerCounters>> {
        let mut conn = self.conn()?;
        let DbConnection::Mysql(c) = &mut *conn else { return Ok(None) };
        let rows: Vec<Status> = diesel::sql_query(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit', 'Innodb_data_fsyncs')",
        )
        .load(c)?;
        // A counter the server does not report (or reports oddly) is an
        // error, not a zero the bench would print as a measurement.
        let counter = |name: &str| {
            let row = rows.iter().find(|row| row.name == name);
            row.and_then(|row| row.value.parse().ok()).ok_or_else(|| {
                StorageError::Invalid(format!(
                    "the database server reports no number for `{name}` in SHOW GLOBAL STATUS"
                ))
            })
        };
        let counters = ServerCounters {
            statements: counter("Questions")?,
            commits: counter("Com_commit")?,
            fsyncs: counter("Innodb_data_fsyncs")?,
        };
        Ok(Some(counters))
    }

    /// Runs `rounds` transactions one after another, each changing one
    /// column of `device`'s row and committing, and returns how long each
    /// took: what a durable commit costs here with no other work around it
    /// and no other transaction to share its log flush. Bench only (it
    /// overwrites the device's last-seen time).
    pub fn commit_floor(&self, device: outfit_domain::ids::DeviceId, rounds: u32) -> Result<std::time::Duration> {
        let device = device.0;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            self.transaction(|conn| {
                super::hot::Seen { device, now: now_ms() }.execute(conn)?;
                Ok::<_, StorageError>(())
            })?;
        }
        Ok(started.elapsed() / rounds.max(1))
    }
}
