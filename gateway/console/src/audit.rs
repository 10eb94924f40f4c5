//! The audit log: every state change and refusal, filtered by site,
//! operator, action, outcome or what it names, newest first.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_domain::audit::{AuditEntry, AuditFilter, Outcome};

const PAGE: usize = 100;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Query {
    site: String,
    operator: String,
    action: String,
    outcome: String,
    mentions: String,
    page: usize,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    frame: Frame,
    query: Query,
    audit: Vec<AuditEntry>,
    next: Option<String>,
    previous: Option<String>,
}

/// A filter's field, when given.
fn some(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|s| !s.is_empty())
}

pub(crate) fn list(c: &Ctx<'_>) -> Result<Response, Shown> {
    let query: Query = c.query()?;
    let outcome = match some(&query.outcome) {
        None => None,
        Some(word) => Some(
            Outcome::parse(word)
                .ok_or_else(|| Shown::invalid(format!("`{word}` is not allowed, refused or failed")))?,
        ),
    };
    let filter = AuditFilter {
        site: some(&query.site),
        principal: some(&query.operator),
        action: some(&query.action),
        outcome,
        mentions: some(&query.mentions),
    };
    let audit = c.services.audit_entries(c.caller(), &filter, query.page * PAGE, PAGE)?;
    let link = |page: usize| {
        let pairs = [
            ("site", &query.site),
            ("operator", &query.operator),
            ("action", &query.action),
            ("outcome", &query.outcome),
            ("mentions", &query.mentions),
        ];
        let mut pairs: Vec<(&str, String)> =
            pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.clone())).collect();
        pairs.push(("page", page.to_string()));
        format!("/console/audit?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let next = (audit.len() == PAGE).then(|| link(query.page + 1));
    let previous = (query.page > 0).then(|| link(query.page - 1));
    page::ok(AuditPage { frame: c.frame("audit"), query, audit, next, previous })
}
