//! The device's inventory, as the agent reports it (`ReportInventory`): OS
//! identity, kernel, CPU, memory, disks and network interfaces (`sysinfo`),
//! installed packages (each package plug-in's `query`), the configuration
//! files the agent wrote with their digests, its plug-ins, and the changes
//! people made through the access endpoint.
//!
//! The agent remembers what it wrote for each managed file (`STATE/managed/`:
//! an index by path, and a copy of the bytes under their sha256), so a file
//! edited by hand shows as changed, with both texts for the gateway's diff.

use crate::execute::Executor;
use crate::plugin::CallContext;
use base64::Engine as _;
use outfit_wsdl::inventory::*;
use outfit_wsdl::messages::Parameter;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File texts carried for a diff at most (larger ones are reported by digest only).
const MAX_TEXT: usize = 64 * 1024;
/// Local changes reported at most (the newest).
const MAX_CHANGES: usize = 100;

/// What the agent wrote for a managed file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Written {
    component: String,
    sha256: String,
}

/// The managed files' record under `STATE/managed/`.
#[derive(Debug, Clone)]
pub struct Managed {
    dir: PathBuf,
}

impl Managed {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn index(&self) -> BTreeMap<String, Written> {
        std::fs::read(self.dir.join("index.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Records what a configure command of the queue wrote at `path` (a
    /// device path under `root`). A failure is logged: the file then shows as
    /// drift, which is the safe side.
    pub fn record(&self, root: &Path, component: &str, path: &str) {
        if let Err(e) = self.try_record(root, component, path) {
            tracing::warn!(%path, error = %e, "could not record a managed file");
        }
    }

    fn try_record(&self, root: &Path, component: &str, path: &str) -> std::io::Result<()> {
        let bytes = std::fs::read(on_device(root, path))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        std::fs::create_dir_all(&self.dir)?;
        std::fs::write(self.dir.join(&sha256), &bytes)?;
        let mut index = self.index();
        index.insert(path.to_owned(), Written { component: component.to_owned(), sha256 });
        let temporary = self.dir.join("index.json.new");
        std::fs::write(&temporary, serde_json::to_vec(&index).map_err(std::io::Error::other)?)?;
        std::fs::rename(temporary, self.dir.join("index.json"))
    }

    /// Each managed file as it is now.
    fn report(&self, root: &Path) -> Vec<ManagedFileReport> {
        let text = |bytes: &[u8]| {
            (bytes.len() <= MAX_TEXT && std::str::from_utf8(bytes).is_ok())
                .then(|| base64::engine::general_purpose::STANDARD.encode(bytes))
        };
        self.index()
            .into_iter()
            .map(|(path, written)| {
                let now = std::fs::read(on_device(root, &path)).ok();
                let sha256 = now.as_deref().map(|b| hex::encode(Sha256::digest(b)));
                let changed = sha256.as_deref() != Some(written.sha256.as_str());
                let (was, is) = if changed {
                    let was = std::fs::read(self.dir.join(&written.sha256)).ok();
                    (was.as_deref().and_then(text), now.as_deref().and_then(text))
                } else {
                    (None, None)
                };
                ManagedFileReport {
                    path,
                    component: written.component,
                    written_sha256: written.sha256,
                    sha256,
                    written: was,
                    now: is,
                }
            })
            .collect()
    }
}

/// A device path under the agent's root.
fn on_device(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// One line of `local-changes.jsonl` (written by `access.rs`).
#[derive(Debug, serde::Deserialize)]
struct ChangeLine {
    at_ms: i64,
    operator: String,
    component: String,
    path: String,
    template: String,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    #[serde(default)]
    promote: bool,
    outcome: String,
}

fn local_changes(file: &Path) -> Vec<LocalChangeReport> {
    let Ok(text) = std::fs::read_to_string(file) else { return Vec::new() };
    let lines: Vec<ChangeLine> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let skip = lines.len().saturating_sub(MAX_CHANGES);
    lines
        .into_iter()
        .skip(skip)
        .map(|c| LocalChangeReport {
            at_ms: c.at_ms,
            operator: c.operator,
            component: c.component,
            path: c.path,
            template: base64::engine::general_purpose::STANDARD.encode(c.template),
            parameter: c.parameters.into_iter().map(|(name, value)| Parameter { name, value }).collect(),
            promote: c.promote,
            outcome: c.outcome,
        })
        .collect()
}

/// What the machine says of itself.
fn machine() -> (Vec<Fact>, Vec<DiskReport>, Vec<InterfaceReport>) {
    use sysinfo::{Disks, Networks, System};
    let mut facts = Vec::new();
    let mut fact = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push(Fact { name: name.to_owned(), value });
        }
    };
    fact("os.name", System::name().ok());
    fact("os.version", System::os_version().ok());
    fact("os.long", System::long_os_version().ok());
    fact("kernel", System::kernel_version().ok());
    fact("hostname", System::host_name().ok());
    fact("arch", Some(System::cpu_arch()));
    // On a system sysinfo does not support, each part is left out.
    if let Ok(mut system) = System::new() {
        system.refresh_memory();
        system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
        fact("cpu.count", Some(system.cpus().len().to_string()));
        fact("cpu.model", system.cpus().first().map(|c| c.brand().trim().to_owned()));
        fact("memory.total_bytes", Some(system.total_memory().to_string()));
    }
    let disks = Disks::new_with_refreshed_list().map_or_else(
        |_| Vec::new(),
        |disks| {
            disks
                .iter()
                .map(|d| DiskReport {
                    mount: d.mount_point().display().to_string(),
                    total_bytes: d.total_space(),
                    available_bytes: d.available_space(),
                })
                .collect()
        },
    );
    let mut interfaces: Vec<InterfaceReport> = Networks::new_with_refreshed_list().map_or_else(
        |_| Vec::new(),
        |networks| {
            networks
                .iter()
                .map(|(name, data)| InterfaceReport {
                    name: name.to_string_lossy().into_owned(),
                    address: data.ip_networks().iter().map(|n| format!("{}/{}", n.addr, n.prefix)).collect(),
                })
                .collect()
        },
    );
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    (facts, disks, interfaces)
}

/// Gathers the inventory; blocking (plug-in calls, file reads): run it on a
/// blocking thread.
pub fn collect(executor: &Executor, device: &str, changes: &Path, occasion: &str) -> ReportInventory {
    let (fact, disk, interface) = machine();
    let ctx = CallContext {
        device: device.to_owned(),
        command: format!("inventory-{occasion}"),
        root: executor.root.clone(),
        spool: executor.spool.clone(),
        repository: None,
    };
    let mut package = Vec::new();
    for loaded in executor.plugins.current().iter().filter(|l| !l.formats.is_empty()) {
        match loaded.plugin.query(&ctx) {
            Ok(Ok(installed)) => {
                let format = loaded.formats[0].clone();
                package.extend(installed.into_iter().map(|p| InstalledPackage {
                    name: p.name,
                    version: p.version,
                    format: format.clone(),
                }));
            }
            Ok(Err(e)) => tracing::warn!(plugin = loaded.plugin.name(), error = %e, "package query failed"),
            Err(e) => tracing::warn!(plugin = loaded.plugin.name(), error = %e, "package query trapped"),
        }
    }
    package.sort_by(|a, b| (&a.name, &a.format).cmp(&(&b.name, &b.format)));
    package.dedup_by(|a, b| a.name == b.name && a.format == b.format);
    ReportInventory {
        device: device.to_owned(),
        taken_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        occasion: occasion.to_owned(),
        fact,
        disk,
        interface,
        package,
        file: executor.managed.report(&executor.root),
        plugin: executor
            .plugin_report()
            .into_iter()
            .map(|p| PluginVersion { name: p.name, version: p.version })
            .collect(),
        change: local_changes(changes),
    }
}
