//! The audit log.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AuditEntry", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// ISO-8601, UTC.
    #[yaserde(prefix = "op")]
    pub time: String,
    #[yaserde(prefix = "op")]
    pub principal: String,
    #[yaserde(prefix = "op")]
    pub action: String,
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub object: String,
    #[yaserde(prefix = "op")]
    pub from: String,
    /// allowed, refused or failed.
    #[yaserde(prefix = "op")]
    pub outcome: String,
    #[yaserde(prefix = "op")]
    pub detail: String,
}

/// The audit log, newest last, filtered and paged; lines of sites the caller may read.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListAudit", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListAudit {
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub principal: Option<String>,
    #[yaserde(prefix = "op")]
    pub action: Option<String>,
    #[yaserde(prefix = "op")]
    pub outcome: Option<String>,
    #[yaserde(prefix = "op")]
    pub offset: Option<i32>,
    /// At most this many (default 100, at most 10000).
    #[yaserde(prefix = "op")]
    pub limit: Option<i32>,
}

/// The answer to [`ListAudit`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListAuditResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListAuditResponse {
    #[yaserde(prefix = "op")]
    pub entry: Vec<AuditEntry>,
}
