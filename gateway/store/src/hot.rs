//! The updates every command, `Hello` and drained queue makes, written as
//! statements diesel can cache. Diesel never caches a prepared `UPDATE` built
//! with its DSL (a changeset's SQL may vary), so each would cost a prepare and
//! a close round trip every time (seen in the server's general log); these
//! fixed statements are prepared once per connection. The queue moves are all
//! compare-and-set on the rows' states.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
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

/// What a `Hello` says of the device's agent, and when it was seen.
#[derive(Debug)]
pub(super) struct RecordHello<'a> {
    pub device: i64,
    pub boot_id: &'a str,
    pub agent_version: &'a str,
    pub poke_url: Option<&'a str>,
    pub agent_report: Option<&'a str>,
    pub now: i64,
}

/// The device has reached `desired` (its model version, if any).
#[derive(Debug)]
pub(super) struct MarkApplied {
    pub device: i64,
    pub desired: Option<i64>,
}

/// Whether a device has reached its model, in one read: its desired model
/// version, and how many commands of its latest provisioning and after have
/// not succeeded (a skipped, aborted or expired one means it has not).
#[derive(Debug)]
pub(super) struct AppliedCheck {
    pub device: i64,
}

/// Only the last-seen time of a device (the bench's commit probe).
#[derive(Debug)]
pub(super) struct Seen {
    pub device: i64,
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
    /// `record.device` as its column holds it.
    pub device: Option<i64>,
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
        out.push_bind_param::<Nullable<BigInt>, _>(&self.device)?;
        out.push_sql(" AND revoked_at IS NULL AND not_after > ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        Ok(())
    }
}

impl<'a, DB> QueryFragment<DB> for RecordHello<'a>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    Option<&'a str>: ToSql<Nullable<Text>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE devices SET boot_id = ");
        out.push_bind_param::<Text, _>(self.boot_id)?;
        out.push_sql(", agent_version = ");
        out.push_bind_param::<Text, _>(self.agent_version)?;
        out.push_sql(", poke_url = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.poke_url)?;
        out.push_sql(", agent_report = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.agent_report)?;
        out.push_sql(", last_seen_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.device)?;
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for MarkApplied
where
    DB: Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
    Option<i64>: ToSql<Nullable<BigInt>, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE devices SET applied_model_version_id = ");
        out.push_bind_param::<Nullable<BigInt>, _>(&self.desired)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.device)?;
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for AppliedCheck
where
    DB: Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "SELECT desired_model_version_id, CASE WHEN devices.provisioned_from IS NULL THEN 1 ELSE \
             (SELECT COUNT(*) FROM commands WHERE commands.device_id = devices.id \
             AND commands.sequence >= devices.provisioned_from AND commands.state <> 'succeeded') END \
             FROM devices WHERE id = ",
        );
        out.push_bind_param::<BigInt, _>(&self.device)?;
        Ok(())
    }
}

impl Query for AppliedCheck {
    type SqlType = (Nullable<BigInt>, BigInt);
}

impl<DB> QueryFragment<DB> for Seen
where
    DB: Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE devices SET last_seen_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.device)?;
        Ok(())
    }
}

/// A fixed identity per statement, whatever the borrowed values, so diesel's
/// statement cache keys them by type; and `.execute(conn)`.
macro_rules! fixed_statement {
    ($name:ident<'_>) => {
        impl QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<Conn> RunQueryDsl<Conn> for $name<'_> {}
    };
    ($name:ident) => {
        impl QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<Conn> RunQueryDsl<Conn> for $name {}
    };
}

fixed_statement!(MarkSent<'_>);
fixed_statement!(MarkFinished<'_>);
fixed_statement!(FinishAndSend<'_>);
fixed_statement!(LogIfCertified<'_>);
fixed_statement!(RecordHello<'_>);
fixed_statement!(MarkApplied);
fixed_statement!(AppliedCheck);
fixed_statement!(Seen);
