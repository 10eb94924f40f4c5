//! Rollouts: a model version applied to every device of the model in stages
//! (a canary, then batches), and their dry run.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

/// How a rollout goes; every field but `start` has a default.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RolloutPolicy", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RolloutPolicy {
    /// True: start at once; false: prepare it (start it with SteerRollout).
    #[yaserde(prefix = "op")]
    pub start: bool,
    /// Devices of the first stage (default 1).
    #[yaserde(prefix = "op")]
    pub canary: Option<i32>,
    /// Devices per later stage (default: a quarter of the devices, at least 1).
    #[yaserde(rename = "batchSize", prefix = "op")]
    pub batch_size: Option<i32>,
    /// Halts when more devices than this failed (default 0: the first failure halts).
    #[yaserde(rename = "maxFailures", prefix = "op")]
    pub max_failures: Option<i32>,
    /// Or when more than this percent of the devices started so far failed.
    #[yaserde(rename = "maxFailurePercent", prefix = "op")]
    pub max_failure_percent: Option<i32>,
    /// Offline devices: their commands expire this long after their stage
    /// starts (absent: they wait).
    #[yaserde(rename = "expireAfterSeconds", prefix = "op")]
    pub expire_after_seconds: Option<i64>,
}

/// One command of a plan.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PlannedCommand", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PlannedCommand {
    /// install, upgrade, remove, configure.
    #[yaserde(prefix = "op")]
    pub kind: String,
    #[yaserde(prefix = "op")]
    pub component: Option<String>,
    /// What it does, for people ("configure /etc/web.conf").
    #[yaserde(prefix = "op")]
    pub summary: String,
}

/// The devices that start from one version: each of them runs the same commands.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PlanGroup", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PlanGroup {
    /// The version they start from (absent: bare devices, or devices whose
    /// last provisioning did not finish).
    #[yaserde(rename = "fromVersion", prefix = "op")]
    pub from_version: Option<i32>,
    /// How many devices start there.
    #[yaserde(prefix = "op")]
    pub devices: i32,
    /// Their commands, in order (none: they hold the version already).
    #[yaserde(prefix = "op")]
    pub command: Vec<PlannedCommand>,
    /// The devices, by name.
    #[yaserde(prefix = "op")]
    pub device: Vec<String>,
}

/// The dry run: the exact commands each device would run to reach version
/// `version` (absent: the current one), one group per version the devices
/// start from. Changes nothing. Needs `read` on the site.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PlanRollout", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PlanRollout {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "PlanRolloutResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct PlanRolloutResponse {
    #[yaserde(prefix = "op")]
    pub version: i32,
    /// Every device of the model.
    #[yaserde(prefix = "op")]
    pub devices: i32,
    #[yaserde(prefix = "op")]
    pub group: Vec<PlanGroup>,
}

/// A rollout and how far it got.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RolloutInfo", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RolloutInfo {
    #[yaserde(prefix = "op")]
    pub id: i64,
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub version: i32,
    /// prepared, running, paused, halted, completed, aborted or superseded.
    #[yaserde(prefix = "op")]
    pub state: String,
    /// The stage under way: 0 the canary, 1.. the batches; -1 not started.
    #[yaserde(prefix = "op")]
    pub stage: i32,
    #[yaserde(prefix = "op")]
    pub stages: i32,
    #[yaserde(prefix = "op")]
    pub canary: i32,
    #[yaserde(rename = "batchSize", prefix = "op")]
    pub batch_size: i32,
    #[yaserde(rename = "maxFailures", prefix = "op")]
    pub max_failures: i32,
    #[yaserde(rename = "maxFailurePercent", prefix = "op")]
    pub max_failure_percent: Option<i32>,
    #[yaserde(rename = "expireAfterSeconds", prefix = "op")]
    pub expire_after_seconds: Option<i64>,
    /// Why it halted, in words.
    #[yaserde(rename = "haltReason", prefix = "op")]
    pub halt_reason: Option<String>,
    #[yaserde(rename = "createdBy", prefix = "op")]
    pub created_by: String,
    /// ISO-8601, UTC.
    #[yaserde(rename = "createdAt", prefix = "op")]
    pub created_at: String,
    #[yaserde(prefix = "op")]
    pub devices: i32,
    /// Devices by state: waiting, queued, applied, converged, failed, expired, aborted.
    #[yaserde(prefix = "op")]
    pub waiting: i32,
    #[yaserde(prefix = "op")]
    pub queued: i32,
    #[yaserde(prefix = "op")]
    pub applied: i32,
    #[yaserde(prefix = "op")]
    pub converged: i32,
    #[yaserde(prefix = "op")]
    pub failed: i32,
    #[yaserde(prefix = "op")]
    pub expired: i32,
    #[yaserde(prefix = "op")]
    pub aborted: i32,
}

/// One device of a rollout.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "RolloutDevice", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct RolloutDevice {
    #[yaserde(prefix = "op")]
    pub device: String,
    #[yaserde(prefix = "op")]
    pub stage: i32,
    #[yaserde(prefix = "op")]
    pub state: String,
    #[yaserde(rename = "fromVersion", prefix = "op")]
    pub from_version: Option<i32>,
    #[yaserde(prefix = "op")]
    pub commands: i32,
    #[yaserde(prefix = "op")]
    pub detail: Option<String>,
}

/// Starts (or prepares) a rollout of version `version` (absent: the current
/// one) to every device of the model; one that is unfinished is superseded.
/// Needs `deploy` on every category of the model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "StartRollout", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct StartRollout {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
    #[yaserde(prefix = "op")]
    pub policy: Option<RolloutPolicy>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "StartRolloutResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct StartRolloutResponse {
    #[yaserde(prefix = "op")]
    pub rollout: RolloutInfo,
}

/// The rollouts of a site (of one model), newest first.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListRollouts", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListRollouts {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ListRolloutsResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ListRolloutsResponse {
    #[yaserde(prefix = "op")]
    pub rollout: Vec<RolloutInfo>,
}

/// A rollout with each of its devices.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowRollout", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowRollout {
    #[yaserde(prefix = "op")]
    pub rollout: i64,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "ShowRolloutResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ShowRolloutResponse {
    #[yaserde(prefix = "op")]
    pub rollout: RolloutInfo,
    #[yaserde(prefix = "op")]
    pub device: Vec<RolloutDevice>,
}

/// Starts a prepared rollout, pauses, resumes (a halted one: its failed
/// commands are retried) or aborts one (its commands not yet handed out are
/// aborted). Needs `deploy` on every category of the model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "SteerRollout", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SteerRollout {
    #[yaserde(prefix = "op")]
    pub rollout: i64,
    /// start, pause, resume or abort.
    #[yaserde(prefix = "op")]
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, Serialize)]
#[yaserde(rename = "SteerRolloutResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SteerRolloutResponse {
    #[yaserde(prefix = "op")]
    pub rollout: RolloutInfo,
}
