//! The audit log: appended to, never changed.

use super::schema::*;
use super::{DbConnection, Result, Session, Storage, StorageError};
use diesel::prelude::*;
use outfit_domain::audit::{AuditEntry, AuditFilter, Outcome, Readable};

type AuditRow = (String, String, Option<String>, String, String, String, String, i64);

fn entry(row: AuditRow) -> Result<AuditEntry> {
    let (principal, action, site, object, peer, outcome, detail, created_at) = row;
    let outcome = Outcome::parse(&outcome)
        .ok_or_else(|| StorageError::Invalid(format!("audit_log.outcome `{outcome}` is no outcome")))?;
    Ok(AuditEntry { principal, action, site, object, peer, outcome, detail, created_at })
}

impl Storage {
    /// Appends one line to the audit log.
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        insert_audit(&mut *self.conn()?, entry)
    }

    /// A page of the audit lines matching `filter` (each `Some` must match
    /// exactly) that are `readable`, newest first; filtered here so that a
    /// page restricted to some sites is still full.
    pub fn audit_search(
        &self,
        filter: &AuditFilter<'_>,
        readable: &Readable,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let mut conn = self.conn()?;
        let mut query = audit_log::table
            .order(audit_log::id.desc())
            .offset(offset)
            .limit(limit)
            .select((
                audit_log::principal,
                audit_log::action,
                audit_log::site,
                audit_log::object,
                audit_log::peer,
                audit_log::outcome,
                audit_log::detail,
                audit_log::created_at,
            ))
            .into_boxed();
        if let Some(site) = filter.site {
            query = query.filter(audit_log::site.eq(site.to_owned()));
        }
        if let Some(principal) = filter.principal {
            query = query.filter(audit_log::principal.eq(principal.to_owned()));
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_log::action.eq(action.to_owned()));
        }
        if let Some(mentions) = filter.mentions {
            let escaped = mentions.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            query = query.filter(audit_log::object.like(format!("%{escaped}%")).escape('\\'));
        }
        if let Some(outcome) = filter.outcome {
            query = query.filter(audit_log::outcome.eq(outcome.as_str()));
        }
        query = match (&readable.sites, readable.siteless) {
            (None, true) => query,
            (None, false) => query.filter(audit_log::site.is_not_null()),
            (Some(sites), false) => query.filter(audit_log::site.eq_any(sites.clone())),
            (Some(sites), true) => query.filter(audit_log::site.eq_any(sites.clone()).or(audit_log::site.is_null())),
        };
        let rows: Vec<AuditRow> = query.load(&mut conn)?;
        rows.into_iter().map(entry).collect()
    }
}

impl Session<'_> {
    /// Appends one line to the audit log, in the exchange's transaction.
    pub fn audit(&mut self, entry: &AuditEntry) -> Result<()> {
        insert_audit(self.conn, entry)
    }
}

fn insert_audit(conn: &mut DbConnection, entry: &AuditEntry) -> Result<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::principal.eq(&entry.principal),
            audit_log::action.eq(&entry.action),
            audit_log::site.eq(&entry.site),
            audit_log::object.eq(&entry.object),
            audit_log::peer.eq(&entry.peer),
            audit_log::outcome.eq(entry.outcome.as_str()),
            audit_log::detail.eq(&entry.detail),
            audit_log::created_at.eq(entry.created_at),
        ))
        .execute(conn)?;
    Ok(())
}
