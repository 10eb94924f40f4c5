//! Inventory: what an agent reports its device holds — OS identity, CPU,
//! memory, disks, network interfaces, installed packages (through each
//! plug-in's query), the configuration files it manages with their digests,
//! its plug-ins, and the changes people made through its access endpoint.
//! Kept as JSON in `inventories.body`; its shape is stored data, so fields
//! are only ever added (with defaults).

use serde::{Deserialize, Serialize};

/// Why the agent reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Occasion {
    /// At the agent's start.
    Start,
    /// Every interval (6 h by default, jittered).
    Periodic,
    /// An operator asked (an `inventory` command in the queue).
    Demand,
    /// Its queue drained after running commands.
    Drained,
}

impl Occasion {
    pub const ALL: [Self; 4] = [Self::Start, Self::Periodic, Self::Demand, Self::Drained];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Periodic => "periodic",
            Self::Demand => "demand",
            Self::Drained => "drained",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    pub mount: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    /// ADDRESS/PREFIX, IPv4 and IPv6.
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// deb, rpm, msi, pkg: the format of the plug-in that reported it.
    pub format: String,
}

/// A configuration file the agent wrote for a component, as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedFile {
    pub path: String,
    pub component: String,
    /// The sha256 of what the agent wrote.
    pub written_sha256: String,
    /// The sha256 of the file now (`None`: it is gone).
    pub sha256: Option<String>,
    /// When the two differ: what was written and what is there now (text,
    /// up to a bound; `None` past it or for binary content).
    pub written: Option<String>,
    pub now: Option<String>,
}

impl ManagedFile {
    pub fn changed(&self) -> bool {
        self.sha256.as_deref() != Some(self.written_sha256.as_str())
    }
}

/// A configuration change a person made through the agent's access endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalChange {
    pub at_ms: i64,
    /// The operator the gateway authorised.
    pub operator: String,
    pub component: String,
    pub path: String,
    pub template: String,
    pub parameters: Vec<(String, String)>,
    /// The person asked for it to become the model's standard.
    #[serde(default)]
    pub promote: bool,
    /// succeeded or failed.
    pub outcome: String,
}

/// One inventory report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub taken_at: i64,
    pub occasion: Occasion,
    /// os.name, os.version, kernel, hostname, cpu.model, cpu.count, memory.total_bytes …
    #[serde(default)]
    pub facts: Vec<(String, String)>,
    #[serde(default)]
    pub disks: Vec<Disk>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub packages: Vec<Package>,
    #[serde(default)]
    pub files: Vec<ManagedFile>,
    /// (name, version) of each plug-in serving.
    #[serde(default)]
    pub plugins: Vec<(String, String)>,
    #[serde(default)]
    pub changes: Vec<LocalChange>,
}

impl Inventory {
    /// As kept in `inventories.body`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an inventory serializes")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable inventory: {e}"))
    }

    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}
