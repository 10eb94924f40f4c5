//! Scripts and plug-ins.

use super::{ParameterValue, Queued};
use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

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
