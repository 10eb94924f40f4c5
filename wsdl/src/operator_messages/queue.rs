//! Command queues: provisioning several devices, and acting on a queue.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

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
