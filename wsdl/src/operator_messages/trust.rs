//! Operators, groups, rights and operator certificates.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

/// Add an operator, or set a new password for one (only its argon2 hash is kept). Needs `admin`
/// everywhere.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "SaveOperator", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SaveOperator {
    #[yaserde(prefix = "op")]
    pub operator: String,
    #[yaserde(prefix = "op")]
    pub password: String,
}

/// The answer to [`SaveOperator`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "SaveOperatorResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SaveOperatorResponse {
    #[yaserde(prefix = "op")]
    pub created: bool,
}

/// A client certificate and its key for an operator: it authenticates without a password, and at
/// agents' access endpoints.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "IssueOperatorCertificate", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct IssueOperatorCertificate {
    #[yaserde(prefix = "op")]
    pub operator: String,
    /// Default 365.
    #[yaserde(prefix = "op")]
    pub days: Option<i32>,
}

/// The answer to [`IssueOperatorCertificate`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "IssueOperatorCertificateResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct IssueOperatorCertificateResponse {
    #[yaserde(prefix = "op")]
    pub certificate: String,
    #[yaserde(prefix = "op")]
    pub key: String,
}

/// Revoke every client certificate of an operator.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RevokeOperatorCertificates", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RevokeOperatorCertificates {
    #[yaserde(prefix = "op")]
    pub operator: String,
}

/// The answer to [`RevokeOperatorCertificates`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RevokeOperatorCertificatesResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RevokeOperatorCertificatesResponse {
    #[yaserde(prefix = "op")]
    pub revoked: i32,
}

/// Add a group of operators.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddGroup", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddGroup {
    #[yaserde(prefix = "op")]
    pub group: String,
}

/// The answer to [`AddGroup`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddGroupResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddGroupResponse {
    #[yaserde(prefix = "op")]
    pub created: bool,
}

/// Make an operator a member of a group: the group's rights hold for them.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "JoinGroup", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct JoinGroup {
    #[yaserde(prefix = "op")]
    pub group: String,
    #[yaserde(prefix = "op")]
    pub operator: String,
}

/// The answer to [`JoinGroup`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "JoinGroupResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct JoinGroupResponse {
    #[yaserde(prefix = "op")]
    pub group: String,
}

/// Grant an operator or a group one action (read, change, deploy, admin) on a site (or every site)
/// for a role category (or every category).
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Grant", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    #[yaserde(prefix = "op")]
    pub operator: Option<String>,
    #[yaserde(prefix = "op")]
    pub group: Option<String>,
    #[yaserde(prefix = "op")]
    pub action: String,
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub category: Option<String>,
}

/// The answer to [`Grant`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "GrantResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct GrantResponse {
    /// The right as words.
    #[yaserde(prefix = "op")]
    pub right: String,
}
