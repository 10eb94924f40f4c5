//! Predefined scripts (seed: "a predefined script that is stored in the
//! database"): a named sequence of install / configure / reboot / network /
//! service steps of one site, imported from a TOML file and enqueued by name for one device or
//! every device of a model.
//!
//! ```toml
//! site = "demo"
//! name = "hotfix-openssl"
//! description = "patch, rewrite the config, reboot"
//! [[steps]]
//! kind = "install"
//! package = "build/openssl-fix_1.0.1_all.deb"   # relative to this file
//! package_name = "openssl-fix"
//! version = "1.0.1"
//! format = "deb"
//! [[steps]]
//! kind = "configure"
//! component = "openssl-fix"
//! path = "/etc/openssl-fix.conf"
//! template = "templates/openssl-fix.conf.j2"
//! parameters = { level = "high" }
//! plugin = "files"                # optional (install, configure): the plug-in that must serve it
//! [[steps]]
//! kind = "reboot"
//! [[steps]]
//! kind = "network"                # no address: DHCP
//! interface = "eth0"
//! address = "192.0.2.10/24"
//! gateway = "192.0.2.1"
//! dns = ["192.0.2.53"]
//! [[steps]]
//! kind = "service"
//! name = "nginx"
//! action = "restart"              # start, stop, restart, enable, disable
//! ```
//!
//! **Invariant:** a script's steps are copied into each queue when it is run,
//! so changing a script later never changes commands already queued.

use crate::FileError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptFile {
    pub site: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub steps: Vec<StepSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StepSpec {
    Install {
        package: PathBuf,
        package_name: String,
        version: String,
        format: String,
        sha256: Option<String>,
        /// The plug-in that must install it; absent: the one for its format.
        plugin: Option<String>,
    },
    Configure {
        component: String,
        path: String,
        template: PathBuf,
        #[serde(default)]
        parameters: BTreeMap<String, String>,
        /// Permission bits in octal ("640"), owner, group; absent: keep.
        mode: Option<String>,
        owner: Option<String>,
        group: Option<String>,
        /// The plug-in that must write it; absent: the newest that configures.
        plugin: Option<String>,
    },
    Reboot,
    /// An interface's address: static when `address` (ADDRESS/PREFIX) is given, else DHCP.
    Network {
        interface: String,
        address: Option<String>,
        gateway: Option<String>,
        #[serde(default)]
        dns: Vec<String>,
    },
    Service {
        name: String,
        action: String,
    },
}

impl ScriptFile {
    /// Reads and parses a script file; a script needs steps.
    pub fn read(file: &Path) -> Result<Self, FileError> {
        let spec: Self = crate::parse(file, "script")?;
        if spec.steps.is_empty() {
            return Err(FileError::Parse {
                path: file.display().to_string(),
                kind: "script",
                message: "a script needs steps".into(),
            });
        }
        Ok(spec)
    }
}
