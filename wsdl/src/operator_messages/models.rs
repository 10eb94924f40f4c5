//! Models, their parameters and the package store.

use serde::Serialize;
use yaserde::{YaDeserialize, YaSerialize};

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
    /// Why (recorded with the version).
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    /// Roll the new version out (absent: do not).
    #[yaserde(prefix = "op")]
    pub rollout: Option<super::RolloutPolicy>,
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
    /// The rollout it started or prepared.
    #[yaserde(prefix = "op")]
    pub rollout: Option<i64>,
    /// The site's home is another data centre: the change went there as this
    /// proposal (`ORIGIN#SEQ`) and nothing was added here.
    #[yaserde(prefix = "op")]
    pub proposal: Option<String>,
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
    /// Absent: the current version.
    #[yaserde(prefix = "op")]
    pub version: Option<i32>,
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
