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
//! sha256 = "…"                              # optional: checked on upload
//! config = { path = "/etc/demo/base.conf", template = "templates/base.conf.j2" }
//! # optional: mode = "640", owner = "web", group = "adm" in `config`
//! plugin = "files"                          # optional: the plug-in that must serve it
//! parameters = { motd = "hello" }
//! ```

use crate::FileError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub site: String,
    pub name: String,
    pub roles: Vec<RoleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub components: Vec<ComponentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: String,
    pub package: PathBuf,
    pub package_name: String,
    pub version: String,
    pub format: String,
    pub sha256: Option<String>,
    pub config: Option<ConfigSpec>,
    /// The plug-in that must install and configure it on every device;
    /// absent: the agent picks by package format and kind of change.
    pub plugin: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    pub path: String,
    pub template: PathBuf,
    /// Permission bits in octal (`mode = "640"`), owner and group by name on
    /// the device or number; absent: keep what the file has.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl ModelFile {
    /// Reads and parses a model file.
    pub fn read(file: &Path) -> Result<Self, FileError> {
        crate::parse(file, "model")
    }

    /// The role categories the file names.
    pub fn categories(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.category.as_str()).collect()
    }
}
