//! Inventory and drift: a device's reports, its differences from its model,
//! an inventory asked for now, remediation and promotion.

use super::{ParameterValue, Queued, RolloutPolicy};
use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "DiskInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct DiskInfo {
    #[yaserde(prefix = "op")]
    pub mount: String,
    #[yaserde(rename = "totalBytes", prefix = "op")]
    pub total_bytes: u64,
    #[yaserde(rename = "availableBytes", prefix = "op")]
    pub available_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "InterfaceInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct InterfaceInfo {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub address: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "InstalledInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct InstalledInfo {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub version: String,
    #[yaserde(prefix = "op")]
    pub format: String,
}

/// A configuration file the agent manages.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ManagedFileInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ManagedFileInfo {
    #[yaserde(prefix = "op")]
    pub path: String,
    #[yaserde(prefix = "op")]
    pub component: String,
    #[yaserde(prefix = "op")]
    pub sha256: Option<String>,
    /// It is not what the agent wrote.
    #[yaserde(prefix = "op")]
    pub changed: bool,
}

/// One stored report.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "InventoryInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct InventoryInfo {
    #[yaserde(rename = "takenAt", prefix = "op")]
    pub taken_at: String,
    #[yaserde(rename = "receivedAt", prefix = "op")]
    pub received_at: String,
    /// start, periodic, demand or drained.
    #[yaserde(prefix = "op")]
    pub occasion: String,
    /// The version it was compared with.
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
    #[yaserde(prefix = "op")]
    pub drift: i32,
}

/// A device's latest inventory and its reports' history. Needs `read`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowInventory", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowInventory {
    #[yaserde(prefix = "op")]
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowInventoryResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowInventoryResponse {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(rename = "takenAt", prefix = "op")]
    pub taken_at: Option<String>,
    #[yaserde(prefix = "op")]
    pub occasion: Option<String>,
    #[yaserde(prefix = "op")]
    pub fact: Vec<ParameterValue>,
    #[yaserde(prefix = "op")]
    pub disk: Vec<DiskInfo>,
    #[yaserde(prefix = "op")]
    pub interface: Vec<InterfaceInfo>,
    #[yaserde(prefix = "op")]
    pub package: Vec<InstalledInfo>,
    #[yaserde(prefix = "op")]
    pub file: Vec<ManagedFileInfo>,
    /// name and version of each plug-in.
    #[yaserde(prefix = "op")]
    pub plugin: Vec<ParameterValue>,
    #[yaserde(prefix = "op")]
    pub report: Vec<InventoryInfo>,
}

/// One difference between a device and its model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "DriftInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct DriftInfo {
    #[yaserde(prefix = "op")]
    pub id: i64,
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    /// missing, extra, version or file.
    #[yaserde(prefix = "op")]
    pub kind: String,
    #[yaserde(prefix = "op")]
    pub category: Option<String>,
    #[yaserde(prefix = "op")]
    pub component: Option<String>,
    /// The package or the file's path.
    #[yaserde(prefix = "op")]
    pub subject: String,
    #[yaserde(prefix = "op")]
    pub expected: Option<String>,
    #[yaserde(prefix = "op")]
    pub actual: Option<String>,
    /// A file's unified diff, from what was written to what is there.
    #[yaserde(prefix = "op")]
    pub diff: Option<String>,
    /// Who changed it through the agent's access endpoint.
    #[yaserde(rename = "changedBy", prefix = "op")]
    pub changed_by: Option<String>,
    /// The model version it was compared with.
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
    #[yaserde(rename = "firstSeen", prefix = "op")]
    pub first_seen: String,
    #[yaserde(rename = "lastSeen", prefix = "op")]
    pub last_seen: String,
    #[yaserde(rename = "resolvedAt", prefix = "op")]
    pub resolved_at: Option<String>,
    /// gone, remediated, promoted into version N.
    #[yaserde(prefix = "op")]
    pub resolution: Option<String>,
}

/// Drift of the sites the caller may read, newest first: open only, or with its history.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListDrift", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListDrift {
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    #[yaserde(prefix = "op")]
    pub device: Option<String>,
    #[yaserde(prefix = "op")]
    pub history: Option<bool>,
    #[yaserde(prefix = "op")]
    pub limit: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListDriftResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListDriftResponse {
    #[yaserde(prefix = "op")]
    pub drift: Vec<DriftInfo>,
}

/// Queue an inventory report on the targets and poke them. Needs `deploy`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RequestInventory", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RequestInventory {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RequestInventoryResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RequestInventoryResponse {
    #[yaserde(prefix = "op")]
    pub queued: Vec<Queued>,
}

/// Queue the commands that put a device back to its model version, as its latest inventory shows
/// it, and an inventory after them. Needs `deploy` on the categories involved.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Remediate", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Remediate {
    #[yaserde(prefix = "op")]
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RemediateResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RemediateResponse {
    #[yaserde(prefix = "op")]
    pub queued: Queued,
}

/// Adopt a changed file into the model: a new version (rolled out as `rollout` says). Needs
/// `change` on the component's category.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PromoteDrift", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PromoteDrift {
    #[yaserde(prefix = "op")]
    pub drift: i64,
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    #[yaserde(prefix = "op")]
    pub rollout: Option<RolloutPolicy>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PromoteDriftResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PromoteDriftResponse {
    #[yaserde(rename = "modelVersion", prefix = "op")]
    pub model_version: i32,
    #[yaserde(prefix = "op")]
    pub created: bool,
    #[yaserde(prefix = "op")]
    pub rollout: Option<i64>,
    /// The site's home is another data centre: the change went there as this
    /// proposal (`ORIGIN#SEQ`) and nothing was added here.
    #[yaserde(prefix = "op")]
    pub proposal: Option<String>,
}
