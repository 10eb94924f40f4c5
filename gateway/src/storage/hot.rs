//! The queue updates every command makes (hand-out and result), written as
//! statements diesel can cache. Diesel never caches a prepared `UPDATE` built
//! with its DSL (a changeset's SQL may vary), so each would cost an extra
//! prepare round trip per command; these fixed statements are prepared once per
//! connection. All are compare-and-set on the rows' states.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};

/// `from` → `sent`, counting the attempt.
#[derive(Debug)]
pub(super) struct MarkSent<'a> {
    pub id: i64,
    pub from: &'a str,
    pub now: i64,
}

/// A handed-out command of `device` (`sent`, or `timedout` for a late result)
/// → a final state with the agent's message. Zero rows changed means the
/// command is not (or no longer) waiting for a result.
#[derive(Debug)]
pub(super) struct MarkFinished<'a> {
    pub id: i64,
    pub device: i64,
    pub to: &'a str,
    pub message: &'a str,
    pub now: i64,
}

/// The common `ReportResult` in one statement: the head of `device`'s queue,
/// waiting for its result (`sent` or `timedout`), → `to` with the agent's
/// message, and the command behind it (`from`) → `sent`, counting the attempt.
/// Two rows changed, or the queue moved under the caller.
#[derive(Debug)]
pub(super) struct FinishAndSend<'a> {
    pub device: i64,
    pub finished: i64,
    pub to: &'a str,
    pub message: &'a str,
    pub sent: i64,
    pub from: &'a str,
    pub now: i64,
}

impl<DB> QueryFragment<DB> for MarkSent<'_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE commands SET state = 'sent', attempts = attempts + 1, sent_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(" AND state = ");
        out.push_bind_param::<Text, _>(self.from)?;
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for MarkFinished<'_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE commands SET state = ");
        out.push_bind_param::<Text, _>(self.to)?;
        out.push_sql(", result = ");
        out.push_bind_param::<Text, _>(self.message)?;
        out.push_sql(", finished_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(" AND device_id = ");
        out.push_bind_param::<BigInt, _>(&self.device)?;
        out.push_sql(" AND state IN ('sent', 'timedout')");
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for FinishAndSend<'_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Each column picks its value by row; no assignment reads a column an
        // earlier one changed (MySQL evaluates them left to right).
        out.push_sql("UPDATE commands SET state = CASE WHEN id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" THEN ");
        out.push_bind_param::<Text, _>(self.to)?;
        out.push_sql(" ELSE 'sent' END, result = CASE WHEN id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" THEN ");
        out.push_bind_param::<Text, _>(self.message)?;
        out.push_sql(" ELSE result END, finished_at = CASE WHEN id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" THEN ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" ELSE finished_at END, attempts = CASE WHEN id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" THEN attempts ELSE attempts + 1 END, sent_at = CASE WHEN id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" THEN sent_at ELSE ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" END WHERE device_id = ");
        out.push_bind_param::<BigInt, _>(&self.device)?;
        out.push_sql(" AND id IN (");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.sent)?;
        out.push_sql(") AND ((id = ");
        out.push_bind_param::<BigInt, _>(&self.finished)?;
        out.push_sql(" AND state IN ('sent', 'timedout')) OR (id = ");
        out.push_bind_param::<BigInt, _>(&self.sent)?;
        out.push_sql(" AND state = ");
        out.push_bind_param::<Text, _>(self.from)?;
        out.push_sql("))");
        Ok(())
    }
}

/// The exchange log row of a device's exchange, written only while the
/// certificate it arrived with is valid (not revoked, not past its end, which a
/// renewal moves). One row inserted: the certificate still holds; none: it
/// does not, and the caller undoes the exchange. On MariaDB the `SELECT` part
/// takes a shared lock on the certificate row, so a revocation waits for this
/// exchange to end and applies from the next one.
#[derive(Debug)]
pub(super) struct LogIfCertified<'a> {
    pub record: &'a super::ExchangeRecord,
    pub fingerprint: &'a str,
    pub connection_serial: i64,
    pub now: i64,
}

impl<DB> QueryFragment<DB> for LogIfCertified<'_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO exchanges (device_id, operation, connection_serial, gateway_instance, peer, answer, \
             created_at) SELECT device_id, ",
        );
        out.push_bind_param::<Text, _>(self.record.operation)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.connection_serial)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.record.gateway_instance)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.record.peer)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.record.answer)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" FROM device_certificates WHERE sha256 = ");
        out.push_bind_param::<Text, _>(self.fingerprint)?;
        // A record without a device matches no certificate (`= NULL`).
        out.push_sql(" AND device_id = ");
        out.push_bind_param::<Nullable<BigInt>, _>(&self.record.device)?;
        out.push_sql(" AND revoked_at IS NULL AND not_after > ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        Ok(())
    }
}

/// A fixed identity per statement, whatever the borrowed values, so diesel's
/// statement cache keys them by type.
impl QueryId for MarkSent<'_> {
    type QueryId = MarkSent<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryId for MarkFinished<'_> {
    type QueryId = MarkFinished<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryId for FinishAndSend<'_> {
    type QueryId = FinishAndSend<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryId for LogIfCertified<'_> {
    type QueryId = LogIfCertified<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for MarkSent<'_> {}
impl<Conn> RunQueryDsl<Conn> for LogIfCertified<'_> {}
impl<Conn> RunQueryDsl<Conn> for MarkFinished<'_> {}
impl<Conn> RunQueryDsl<Conn> for FinishAndSend<'_> {}
