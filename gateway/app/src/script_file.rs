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

use crate::repository::{Repository, RepositoryError};
use outfit_domain::command::{FileAttributes, Payload, SERVICE_ACTIONS};
use outfit_domain::queue::NewCommand;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    site: String,
    name: String,
    #[serde(default)]
    description: String,
    steps: Vec<StepSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum StepSpec {
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

/// Checks a network step before it is stored, so a typo fails the import, not a device.
fn network_step(interface: &str, address: Option<&str>, gateway: Option<&str>, dns: &[String]) -> Result<(), String> {
    use std::net::Ipv4Addr;
    if interface.is_empty() || interface.starts_with('-') {
        return Err(format!("`{interface}` is not an interface name"));
    }
    let ip = |text: &str| text.parse::<Ipv4Addr>().map(|_| ()).map_err(|_| format!("`{text}` is not an IPv4 address"));
    if let Some(address) = address {
        let (host, prefix) =
            address.split_once('/').ok_or_else(|| format!("address `{address}` is not ADDRESS/PREFIX"))?;
        ip(host)?;
        prefix
            .parse::<u8>()
            .ok()
            .filter(|p| (1..=32).contains(p))
            .ok_or_else(|| format!("`{prefix}` is not a prefix length"))?;
    } else if gateway.is_some() || !dns.is_empty() {
        return Err("a gateway or DNS servers need a static address (DHCP brings its own)".into());
    }
    gateway.map(ip).transpose()?;
    dns.iter().try_for_each(|d| ip(d))
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a valid script file: {message}")]
    Parse { path: String, message: String },
    #[error("step {step}: {message}")]
    Step { step: usize, message: String },
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

fn read(path: &Path) -> Result<String, ScriptError> {
    std::fs::read_to_string(path).map_err(|source| ScriptError::Read { path: path.display().to_string(), source })
}

/// A script file read, its packages stored: what the store keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub site: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<NewCommand>,
}

/// The site and name of the script in `file`.
pub fn site_of(file: &Path) -> Result<(String, String), ScriptError> {
    let spec = parse(file)?;
    Ok((spec.site, spec.name))
}

fn parse(file: &Path) -> Result<ScriptFile, ScriptError> {
    let spec: ScriptFile = toml::from_str(&read(file)?)
        .map_err(|e| ScriptError::Parse { path: file.display().to_string(), message: e.to_string() })?;
    if spec.steps.is_empty() {
        return Err(ScriptError::Parse { path: file.display().to_string(), message: "a script needs steps".into() });
    }
    Ok(spec)
}

/// Reads a script file and stores the packages its steps install.
pub fn read_script(repository: &Repository, file: &Path) -> Result<Script, ScriptError> {
    let spec = parse(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut payloads = Vec::with_capacity(spec.steps.len());
    for (i, step) in spec.steps.into_iter().enumerate() {
        payloads.push(match step {
            StepSpec::Install { package, package_name, version, format, sha256, plugin } => {
                pinned(plugin.as_deref()).map_err(|message| ScriptError::Step { step: i + 1, message })?;
                let stored = repository.put_file(&base.join(&package), sha256.as_deref())?;
                Payload::Install {
                    component: package_name.clone(),
                    package_name,
                    version,
                    format,
                    sha256: stored.sha256.clone(),
                    size: stored.size,
                    storage_key: stored.sha256,
                    plugin,
                }
            }
            StepSpec::Configure { component, path, template, parameters, mode, owner, group, plugin } => {
                pinned(plugin.as_deref()).map_err(|message| ScriptError::Step { step: i + 1, message })?;
                if !path.starts_with('/') {
                    return Err(ScriptError::Step { step: i + 1, message: format!("path `{path}` must be absolute") });
                }
                let template = read(&base.join(&template))?;
                let attributes = FileAttributes { mode, owner, group };
                attributes.validate().map_err(|message| ScriptError::Step { step: i + 1, message })?;
                let parameters = parameters.into_iter().collect();
                Payload::Configure { component, path, template, parameters, attributes, plugin }
            }
            StepSpec::Reboot => Payload::Reboot,
            StepSpec::Network { interface, address, gateway, dns } => {
                network_step(&interface, address.as_deref(), gateway.as_deref(), &dns)
                    .map_err(|message| ScriptError::Step { step: i + 1, message })?;
                Payload::Network { interface, address, gateway, dns }
            }
            StepSpec::Service { name, action } => {
                if name.is_empty() || !SERVICE_ACTIONS.contains(&action.as_str()) {
                    let message =
                        format!("service `{name}` `{action}`: the action is one of {}", SERVICE_ACTIONS.join(", "));
                    return Err(ScriptError::Step { step: i + 1, message });
                }
                Payload::Service { name, action }
            }
        });
    }
    let steps = NewCommand::all(&payloads, None);
    Ok(Script { site: spec.site, name: spec.name, description: spec.description, steps })
}

/// A step's `plugin`, if any, must be a plug-in name.
fn pinned(plugin: Option<&str>) -> Result<(), String> {
    plugin.map_or(Ok(()), |name| crate::plugin_bundle::check_name(name).map_err(|e| e.to_string()))
}
