//! `ListAudit`: the audit log, filtered and paged.

use super::iso8601;
use outfit_app::{Failure, Refusal, Services};
use outfit_domain::audit::{AuditFilter, Outcome};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator as wire;

pub fn list(s: &Services, caller: &Caller, m: wire::ListAudit) -> Result<wire::ListAuditResponse, Failure> {
    let outcome = match m.outcome.as_deref() {
        None => None,
        Some(word) => Some(
            Outcome::parse(word)
                .ok_or_else(|| Refusal::invalid(format!("`{word}` is not allowed, refused or failed")))?,
        ),
    };
    let filter = AuditFilter {
        site: m.site.as_deref(),
        principal: m.principal.as_deref(),
        action: m.action.as_deref(),
        outcome,
        mentions: None,
    };
    let offset = m.offset.unwrap_or(0).max(0) as usize;
    let limit = m.limit.map_or(100, |l| l.max(1) as usize);
    let entry = s
        .audit_entries(caller, &filter, offset, limit)?
        .into_iter()
        .map(|e| wire::AuditEntry {
            time: iso8601(e.created_at),
            principal: e.principal,
            action: e.action,
            site: e.site,
            object: e.object,
            from: e.peer,
            outcome: e.outcome.as_str().to_owned(),
            detail: e.detail,
        })
        .collect();
    Ok(wire::ListAuditResponse { entry })
}
