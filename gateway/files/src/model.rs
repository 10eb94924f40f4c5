//! Model files: a TOML description of a device type (one role per category,
//! each a list of components with their package and configuration). Paths in
//! it are relative to the file.
//!
//! ```toml
//! site = "demo"
//! name = "webserver"
//! [[roles]]
//! category = "OS"
//! name = "base"
//! [[roles.components]]
//! name = "base"
//! package = "packages/base_1.0.0_all.deb"   # relative to this file
//! package_name = "outfit-demo-base"
//! version = "1.0.0"
//! format = "deb"
//! sha256 = "…"                              # checked on upload; alone (no `package`):
//!                                           # a package the gateway holds already
//! config = { path = "/etc/demo/base.conf", template = "templates/base.conf.j2" }
//! # optional: mode = "640", owner = "web", group = "adm" in `config`
//! plugin = "files"                          # optional: the plug-in that must serve it
//! parameters = { motd = "hello" }
//! ```
//!
//! `outfit model export` writes this format (packages by sha256, templates as
//! files beside it); importing what it wrote adds no version.

use crate::FileError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub site: String,
    pub name: String,
    pub roles: Vec<RoleSpec>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub components: Vec<ComponentSpec>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: String,
    /// The package file to upload; absent: `sha256` names one the gateway holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PathBuf>,
    pub package_name: String,
    pub version: String,
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigSpec>,
    /// The plug-in that must install and configure it on every device;
    /// absent: the agent picks by package format and kind of change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    pub path: String,
    pub template: PathBuf,
    /// Permission bits in octal (`mode = "640"`), owner and group by name on
    /// the device or number; absent: keep what the file has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl ModelFile {
    /// Reads and parses a model file.
    pub fn read(file: &Path) -> Result<Self, FileError> {
        crate::parse(file, "model")
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a model file serializes")
    }

    /// The role categories the file names.
    pub fn categories(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.category.as_str()).collect()
    }
}
