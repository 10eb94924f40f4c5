//! The queue updates every command makes (hand-out and result), written as
//! statements diesel can cache. Diesel never caches a prepared `UPDATE` built
//! with its DSL (a changeset's SQL may vary), so each would cost an extra
//! prepare round trip per command; these fixed statements are prepared once per
//! connection. All are compare-and-set on the rows' states.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};
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

impl<Conn> RunQueryDsl<Conn> for MarkSent<'_> {}
impl<Conn> RunQueryDsl<Conn> for MarkFinished<'_> {}
impl<Conn> RunQueryDsl<Conn> for FinishAndSend<'_> {}
