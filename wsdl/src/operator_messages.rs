//! The operator messages beyond `SetParameter` and `Provision`, mirroring
//! `outfit-operator.xsd` element by element (checked by `tests/contract.rs`).
//! They serialize to JSON with the same names (`outfit --json`).

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

/// A device as the fleet list shows it.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "DeviceSummary", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    /// halted, rebooting, running, waiting or idle.
    #[yaserde(prefix = "op")]
    pub queue: String,
    #[yaserde(prefix = "op")]
    pub pending: i32,
    #[yaserde(prefix = "op")]
    pub sent: i32,
    #[yaserde(prefix = "op")]
    pub succeeded: i32,
    #[yaserde(prefix = "op")]
    pub failed: i32,
    #[yaserde(rename = "timedOut", prefix = "op")]
    pub timed_out: i32,
    #[yaserde(prefix = "op")]
    pub rebooting: i32,
    #[yaserde(prefix = "op")]
    pub closed: i32,
    /// The model version row its queue builds toward.
    #[yaserde(rename = "desiredVersion", prefix = "op")]
    pub desired_version: Option<i64>,
    /// The model version row it reached.
    #[yaserde(rename = "appliedVersion", prefix = "op")]
    pub applied_version: Option<i64>,
}

/// A reboot that has not come back within the gateway's deadline.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "OverdueReboot", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct OverdueReboot {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub command: String,
    /// ISO-8601 time the agent said it was going down.
    #[yaserde(prefix = "op")]
    pub since: String,
}

/// A plug-in a device's agent reported in its latest Hello.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PluginInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PluginInfo {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub version: String,
    #[yaserde(prefix = "op")]
    pub world: String,
    /// Package formats, then kinds of change.
    #[yaserde(prefix = "op")]
    pub serves: String,
}

/// One command of a device's queue.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "QueuedCommand", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct QueuedCommand {
    #[yaserde(prefix = "op")]
    pub id: String,
    #[yaserde(prefix = "op")]
    pub sequence: i64,
    #[yaserde(prefix = "op")]
    pub kind: String,
    #[yaserde(prefix = "op")]
    pub state: String,
    #[yaserde(prefix = "op")]
    pub attempts: i32,
    #[yaserde(prefix = "op")]
    pub run: i32,
    #[yaserde(prefix = "op")]
    pub result: Option<String>,
}

/// An enrolment request waiting for approval.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "EnrolmentRequestInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentRequestInfo {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    /// sha256 of the requested public key; the agent prints the same.
    #[yaserde(prefix = "op")]
    pub key: String,
    #[yaserde(prefix = "op")]
    pub from: String,
    #[yaserde(rename = "createdAt", prefix = "op")]
    pub created_at: String,
    /// The device holds a valid certificate already.
    #[yaserde(prefix = "op")]
    pub certified: bool,
}

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

/// A stored script.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ScriptInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ScriptInfo {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub description: String,
    #[yaserde(prefix = "op")]
    pub steps: i32,
}

/// One device's share of a sequence queued for several.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Queued", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub commands: i32,
    /// sent (in the background), failed: WHY, or waiting (the agent has not said Hello yet).
    #[yaserde(prefix = "op")]
    pub poked: String,
}

/// A package in the repository.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PackageInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PackageInfo {
    #[yaserde(prefix = "op")]
    pub sha256: String,
    #[yaserde(prefix = "op")]
    pub size: i64,
}

/// A configuration parameter's value.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ParameterValue", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ParameterValue {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub value: String,
}

/// A component's configuration file.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ConfigSpec", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ConfigSpec {
    /// Absolute path on the device.
    #[yaserde(prefix = "op")]
    pub path: String,
    /// The template text (MiniJinja), base64-encoded so that every byte survives.
    #[yaserde(prefix = "op")]
    pub template: String,
    /// Octal permission bits, e.g. 640.
    #[yaserde(prefix = "op")]
    pub mode: Option<String>,
    #[yaserde(prefix = "op")]
    pub owner: Option<String>,
    #[yaserde(prefix = "op")]
    pub group: Option<String>,
}

/// One software item of a role: a package (uploaded before, named by sha256) and its configuration.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ComponentSpec", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(rename = "packageName", prefix = "op")]
    pub package_name: String,
    #[yaserde(prefix = "op")]
    pub version: String,
    /// deb, rpm, msi, pkg …
    #[yaserde(prefix = "op")]
    pub format: String,
    #[yaserde(prefix = "op")]
    pub sha256: String,
    #[yaserde(prefix = "op")]
    pub config: Option<ConfigSpec>,
    /// The plug-in that must serve it.
    #[yaserde(prefix = "op")]
    pub plugin: Option<String>,
    #[yaserde(prefix = "op")]
    pub parameter: Vec<ParameterValue>,
}

/// A role of a model: its category, name and components.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RoleSpec", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RoleSpec {
    #[yaserde(prefix = "op")]
    pub category: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub component: Vec<ComponentSpec>,
}

/// A model and its current version.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ModelInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(rename = "currentVersion", prefix = "op")]
    pub current_version: Option<i32>,
}

/// One step of a script; which fields it has depends on its kind.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "StepSpec", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct StepSpec {
    /// install, configure, reboot, network or service.
    #[yaserde(prefix = "op")]
    pub kind: String,
    #[yaserde(rename = "packageName", prefix = "op")]
    pub package_name: Option<String>,
    #[yaserde(prefix = "op")]
    pub version: Option<String>,
    #[yaserde(prefix = "op")]
    pub format: Option<String>,
    /// install: the package, uploaded before.
    #[yaserde(prefix = "op")]
    pub sha256: Option<String>,
    #[yaserde(prefix = "op")]
    pub component: Option<String>,
    #[yaserde(prefix = "op")]
    pub path: Option<String>,
    /// configure: base64-encoded template text.
    #[yaserde(prefix = "op")]
    pub template: Option<String>,
    #[yaserde(prefix = "op")]
    pub mode: Option<String>,
    #[yaserde(prefix = "op")]
    pub owner: Option<String>,
    #[yaserde(prefix = "op")]
    pub group: Option<String>,
    #[yaserde(prefix = "op")]
    pub plugin: Option<String>,
    #[yaserde(prefix = "op")]
    pub parameter: Vec<ParameterValue>,
    #[yaserde(prefix = "op")]
    pub interface: Option<String>,
    /// network: ADDRESS/PREFIX; absent: DHCP.
    #[yaserde(prefix = "op")]
    pub address: Option<String>,
    #[yaserde(prefix = "op")]
    pub gateway: Option<String>,
    #[yaserde(prefix = "op")]
    pub dns: Vec<String>,
    #[yaserde(prefix = "op")]
    pub service: Option<String>,
    /// service: start, stop, restart, enable or disable.
    #[yaserde(prefix = "op")]
    pub action: Option<String>,
}

/// Provision several devices, or every device of a model, each as Provision does (one audit line
/// each).
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ProvisionMany", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ProvisionMany {
    /// Needed with `model`; named devices are found by name.
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`ProvisionMany`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ProvisionManyResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ProvisionManyResponse {
    #[yaserde(prefix = "op")]
    pub queued: Vec<Queued>,
}

/// The devices the caller may read, with their queues, filtered and paged, and the reboots that are
/// overdue. Needs `read`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListDevices", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListDevices {
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    /// halted, rebooting, running, waiting or idle.
    #[yaserde(prefix = "op")]
    pub queue: Option<String>,
    /// Part of the device name.
    #[yaserde(prefix = "op")]
    pub search: Option<String>,
    #[yaserde(prefix = "op")]
    pub offset: Option<i32>,
    /// At most this many (default 100, at most 10000).
    #[yaserde(prefix = "op")]
    pub limit: Option<i32>,
}

/// The answer to [`ListDevices`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListDevicesResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListDevicesResponse {
    /// How many devices match, over all pages.
    #[yaserde(prefix = "op")]
    pub total: i32,
    #[yaserde(prefix = "op")]
    pub device: Vec<DeviceSummary>,
    #[yaserde(rename = "overdueReboot", prefix = "op")]
    pub overdue_reboot: Vec<OverdueReboot>,
}

/// A device, its versions and what its agent reported. Needs `read` on its site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowDevice", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowDevice {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`ShowDevice`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowDeviceResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowDeviceResponse {
    #[yaserde(prefix = "op")]
    pub summary: DeviceSummary,
    #[yaserde(rename = "agentVersion", prefix = "op")]
    pub agent_version: Option<String>,
    #[yaserde(prefix = "op")]
    pub platform: Option<String>,
    #[yaserde(rename = "precompiledOnly", prefix = "op")]
    pub precompiled_only: Option<String>,
    #[yaserde(prefix = "op")]
    pub plugin: Vec<PluginInfo>,
}

/// Register a device of a site, built to a model. Needs `deploy` on every category of the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddDevice", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddDevice {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub model: String,
}

/// The answer to [`AddDevice`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AddDeviceResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AddDeviceResponse {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// A one-time enrolment token for a registered device (only its sha256 is stored). Needs `deploy`
/// on every category of the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "IssueToken", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct IssueToken {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub device: String,
    /// Where the gateway pokes the agent (in its certificate); default 127.0.0.1.
    #[yaserde(prefix = "op")]
    pub address: Option<String>,
    /// Seconds; default 3600.
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`IssueToken`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "IssueTokenResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct IssueTokenResponse {
    #[yaserde(prefix = "op")]
    pub token: String,
}

/// Revoke every certificate of a device: its next request is refused.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RevokeDevice", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RevokeDevice {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`RevokeDevice`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RevokeDeviceResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RevokeDeviceResponse {
    #[yaserde(prefix = "op")]
    pub revoked: i32,
}

/// The enrolment requests waiting for approval that the caller may read.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListEnrolmentRequests", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListEnrolmentRequests {}

/// The answer to [`ListEnrolmentRequests`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListEnrolmentRequestsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListEnrolmentRequestsResponse {
    #[yaserde(prefix = "op")]
    pub request: Vec<EnrolmentRequestInfo>,
}

/// Approve a device's waiting enrolment request; its agent gets its certificate the next time it
/// asks.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ApproveEnrolment", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ApproveEnrolment {
    #[yaserde(prefix = "op")]
    pub device: String,
    /// The start of the key fingerprint, when several requests wait.
    #[yaserde(prefix = "op")]
    pub key: Option<String>,
    #[yaserde(prefix = "op")]
    pub address: Option<String>,
}

/// The answer to [`ApproveEnrolment`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ApproveEnrolmentResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ApproveEnrolmentResponse {
    #[yaserde(prefix = "op")]
    pub key: String,
    #[yaserde(prefix = "op")]
    pub address: String,
}

/// Reject a device's waiting enrolment request.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RejectEnrolment", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RejectEnrolment {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub key: Option<String>,
}

/// The answer to [`RejectEnrolment`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RejectEnrolmentResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RejectEnrolmentResponse {
    #[yaserde(prefix = "op")]
    pub key: String,
}

/// A device's commands in order with their state and result. Needs `read`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowQueue", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowQueue {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`ShowQueue`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowQueueResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowQueueResponse {
    #[yaserde(prefix = "op")]
    pub command: Vec<QueuedCommand>,
}

/// Run the failed (or timed-out) command of a halted queue again (same id, a new run), then go on.
/// Needs `deploy`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Retry", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`Retry`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RetryResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RetryResponse {
    #[yaserde(prefix = "op")]
    pub command: String,
}

/// Close the failed (or timed-out) command of a halted queue as skipped and go on.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Skip", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Skip {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`Skip`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "SkipResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SkipResponse {
    #[yaserde(prefix = "op")]
    pub command: String,
}

/// Cancel every command not yet handed out, and a failed one.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Abort", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Abort {
    #[yaserde(prefix = "op")]
    pub device: String,
}

/// The answer to [`Abort`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "AbortResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct AbortResponse {
    #[yaserde(prefix = "op")]
    pub aborted: i32,
}

/// Append a reboot; the queue waits until the agent is back with a new boot id. Needs `deploy` on
/// every category.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "Reboot", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Reboot {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`Reboot`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RebootResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RebootResponse {
    #[yaserde(prefix = "op")]
    pub queued: Queued,
}

/// The stored scripts of the sites the caller may read.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListScripts", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListScripts {}

/// The answer to [`ListScripts`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListScriptsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListScriptsResponse {
    #[yaserde(prefix = "op")]
    pub script: Vec<ScriptInfo>,
}

/// Append a stored script's steps to the targets' queues, all or none, and poke their agents. Needs
/// `deploy` on every category.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RunScript", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RunScript {
    #[yaserde(prefix = "op")]
    pub script: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    /// Device names; or every device of `model`.
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    /// Seconds the commands may wait for an offline device.
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`RunScript`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RunScriptResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RunScriptResponse {
    #[yaserde(prefix = "op")]
    pub queued: Vec<Queued>,
}

/// Queue rollback-plugin on the targets: their agents switch the plug-in back to the version it
/// replaced.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RollbackPlugin", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RollbackPlugin {
    #[yaserde(prefix = "op")]
    pub plugin: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    /// Device names; or every device of `model`.
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    /// Seconds the commands may wait for an offline device.
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`RollbackPlugin`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RollbackPluginResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RollbackPluginResponse {
    #[yaserde(prefix = "op")]
    pub queued: Vec<Queued>,
}

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

/// Store a model's content as its new current version (unchanged content adds none). Its packages
/// are uploaded before with PUT /packages/SHA256 on this listener. Needs `change` on every category
/// the model names.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ImportModel", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ImportModel {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub role: Vec<RoleSpec>,
}

/// The answer to [`ImportModel`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ImportModelResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ImportModelResponse {
    #[yaserde(rename = "modelVersion", prefix = "op")]
    pub model_version: i32,
    #[yaserde(prefix = "op")]
    pub created: bool,
}

/// The models of the sites the caller may read, with their current versions.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListModels", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListModels {
    #[yaserde(prefix = "op")]
    pub site: Option<String>,
}

/// The answer to [`ListModels`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListModelsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListModelsResponse {
    #[yaserde(prefix = "op")]
    pub model: Vec<ModelInfo>,
}

/// A model's current version, role by role, as ImportModel takes it.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowModel", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowModel {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
}

/// The answer to [`ShowModel`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowModelResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowModelResponse {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
    #[yaserde(prefix = "op")]
    pub role: Vec<RoleSpec>,
}

/// The packages the repository holds (upload with PUT /packages/SHA256).
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListPackages", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListPackages {}

/// The answer to [`ListPackages`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListPackagesResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListPackagesResponse {
    #[yaserde(prefix = "op")]
    pub package: Vec<PackageInfo>,
}

/// Store a script (a named command sequence of a site); one of the same name gets the new steps.
/// Needs `change` on every category of the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ImportScript", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ImportScript {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub description: Option<String>,
    #[yaserde(prefix = "op")]
    pub step: Vec<StepSpec>,
}

/// The answer to [`ImportScript`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ImportScriptResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ImportScriptResponse {
    #[yaserde(prefix = "op")]
    pub created: bool,
    #[yaserde(prefix = "op")]
    pub steps: i32,
}

/// Queue install-plugin of a signed bundle, uploaded packed (outfit-plugin sign, then the tar the
/// outfit CLI packs), on the targets; their agents verify it and switch without a restart.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "InstallPlugin", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct InstallPlugin {
    #[yaserde(prefix = "op")]
    pub sha256: String,
    #[yaserde(prefix = "op")]
    pub site: String,
    /// Device names; or every device of `model`.
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
    /// Seconds the commands may wait for an offline device.
    #[yaserde(rename = "expiresIn", prefix = "op")]
    pub expires_in: Option<i64>,
}

/// The answer to [`InstallPlugin`].
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "InstallPluginResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct InstallPluginResponse {
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub version: String,
    #[yaserde(prefix = "op")]
    pub queued: Vec<Queued>,
}
