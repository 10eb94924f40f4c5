//! Devices, their enrolment requests and tokens.

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
