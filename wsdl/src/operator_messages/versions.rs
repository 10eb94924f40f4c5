//! A model's history: versions, differences, rollback; role categories.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

/// One version of a model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ModelVersionInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ModelVersionInfo {
    #[yaserde(prefix = "op")]
    pub version: i32,
    /// Who made it (absent: before authors were recorded).
    #[yaserde(prefix = "op")]
    pub author: Option<String>,
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    /// A rollback: the version whose content it restores.
    #[yaserde(prefix = "op")]
    pub restores: Option<i32>,
    /// ISO-8601, UTC.
    #[yaserde(rename = "createdAt", prefix = "op")]
    pub created_at: String,
    #[yaserde(prefix = "op")]
    pub current: bool,
}

/// An edit of a model made away from its site's home, and the home's decision.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ProposalInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ProposalInfo {
    #[yaserde(prefix = "op")]
    pub origin: String,
    #[yaserde(prefix = "op")]
    pub seq: i64,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(rename = "baseVersion", prefix = "op")]
    pub base_version: Option<i32>,
    #[yaserde(prefix = "op")]
    pub author: String,
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    /// pending, accepted, unchanged or refused.
    #[yaserde(prefix = "op")]
    pub state: String,
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
    /// Why the home refused it.
    #[yaserde(prefix = "op")]
    pub decision: Option<String>,
}

/// The proposals of a site's models, newest first. Needs `read` on the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListProposals", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListProposals {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListProposalsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListProposalsResponse {
    #[yaserde(prefix = "op")]
    pub proposal: Vec<ProposalInfo>,
}

/// Every version of a model, oldest first. Needs `read` on the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListModelVersions", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListModelVersions {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListModelVersionsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListModelVersionsResponse {
    #[yaserde(prefix = "op")]
    pub version: Vec<ModelVersionInfo>,
}

/// One difference between two versions of a model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Difference", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    #[yaserde(prefix = "op")]
    pub category: String,
    #[yaserde(prefix = "op")]
    pub component: String,
    /// added, removed, upgraded, parameter, template, file or plugin.
    #[yaserde(prefix = "op")]
    pub kind: String,
    /// The parameter's name, for a parameter.
    #[yaserde(prefix = "op")]
    pub name: Option<String>,
    #[yaserde(prefix = "op")]
    pub before: Option<String>,
    #[yaserde(prefix = "op")]
    pub after: Option<String>,
    /// A template's unified diff.
    #[yaserde(rename = "textDiff", prefix = "op")]
    pub text_diff: Option<String>,
}

/// What changed from version `from` to version `to` (absent: the current one), in category order.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "DiffModel", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct DiffModel {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub from: i32,
    #[yaserde(prefix = "op")]
    pub to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "DiffModelResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct DiffModelResponse {
    #[yaserde(prefix = "op")]
    pub from: i32,
    #[yaserde(prefix = "op")]
    pub to: i32,
    #[yaserde(prefix = "op")]
    pub difference: Vec<Difference>,
}

/// Makes an earlier version's content current again as a new version that
/// says it restores it (restoring what is current adds none). Needs `change`
/// on every category of both versions; rolling it out also `deploy`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RollbackModel", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RollbackModel {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub version: i32,
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    #[yaserde(prefix = "op")]
    pub rollout: Option<super::RolloutPolicy>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RollbackModelResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RollbackModelResponse {
    #[yaserde(rename = "modelVersion", prefix = "op")]
    pub model_version: i32,
    #[yaserde(prefix = "op")]
    pub created: bool,
    /// The rollout it started or prepared.
    #[yaserde(prefix = "op")]
    pub rollout: Option<i64>,
    /// The site's home is another data centre: the change went there as this
    /// proposal (`ORIGIN#SEQ`) and nothing was added here.
    #[yaserde(prefix = "op")]
    pub proposal: Option<String>,
}

/// A role category: its rank is the install order.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "CategoryInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct CategoryInfo {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub rank: i32,
    #[yaserde(prefix = "op")]
    pub description: Option<String>,
}

/// The role categories by rank.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListCategories", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
pub struct ListCategories {}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListCategoriesResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListCategoriesResponse {
    #[yaserde(prefix = "op")]
    pub category: Vec<CategoryInfo>,
}

/// Adds a role category ranked right after `after` (absent: last). Needs `admin` everywhere.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddCategory", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddCategory {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub after: Option<String>,
    #[yaserde(prefix = "op")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddCategoryResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddCategoryResponse {
    #[yaserde(prefix = "op")]
    pub rank: i32,
}
