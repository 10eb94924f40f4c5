//! `ReportInventory`: what an agent reports its device holds (mirrors
//! `outfit-agent.xsd`). Sent at the agent's start, periodically, on demand
//! (an `inventory` command) and after its queue drained.

use yaserde::{YaDeserialize, YaSerialize};

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Fact {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct DiskReport {
    #[yaserde(prefix = "o")]
    pub mount: String,
    #[yaserde(prefix = "o", rename = "totalBytes")]
    pub total_bytes: u64,
    #[yaserde(prefix = "o", rename = "availableBytes")]
    pub available_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct InterfaceReport {
    #[yaserde(prefix = "o")]
    pub name: String,
    /// ADDRESS/PREFIX.
    #[yaserde(prefix = "o")]
    pub address: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct InstalledPackage {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub version: String,
    #[yaserde(prefix = "o")]
    pub format: String,
}

/// A configuration file the agent wrote, as it is now.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ManagedFileReport {
    #[yaserde(prefix = "o")]
    pub path: String,
    #[yaserde(prefix = "o")]
    pub component: String,
    #[yaserde(prefix = "o", rename = "writtenSha256")]
    pub written_sha256: String,
    /// Absent: the file is gone.
    #[yaserde(prefix = "o")]
    pub sha256: Option<String>,
    /// When it changed: what was written and what is there (base64, bounded).
    #[yaserde(prefix = "o")]
    pub written: Option<String>,
    #[yaserde(prefix = "o")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct PluginVersion {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub version: String,
}

/// A change a person made through the agent's access endpoint.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct LocalChangeReport {
    #[yaserde(prefix = "o", rename = "atMs")]
    pub at_ms: i64,
    #[yaserde(prefix = "o")]
    pub operator: String,
    #[yaserde(prefix = "o")]
    pub component: String,
    #[yaserde(prefix = "o")]
    pub path: String,
    /// base64.
    #[yaserde(prefix = "o")]
    pub template: String,
    #[yaserde(prefix = "o")]
    pub parameter: Vec<crate::messages::Parameter>,
    #[yaserde(prefix = "o")]
    pub promote: bool,
    #[yaserde(prefix = "o")]
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "ReportInventory", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ReportInventory {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o", rename = "takenAtMs")]
    pub taken_at_ms: i64,
    /// start, periodic, demand or drained.
    #[yaserde(prefix = "o")]
    pub occasion: String,
    #[yaserde(prefix = "o")]
    pub fact: Vec<Fact>,
    #[yaserde(prefix = "o")]
    pub disk: Vec<DiskReport>,
    #[yaserde(prefix = "o")]
    pub interface: Vec<InterfaceReport>,
    #[yaserde(prefix = "o")]
    pub package: Vec<InstalledPackage>,
    #[yaserde(prefix = "o")]
    pub file: Vec<ManagedFileReport>,
    #[yaserde(prefix = "o")]
    pub plugin: Vec<PluginVersion>,
    #[yaserde(prefix = "o")]
    pub change: Vec<LocalChangeReport>,
}

impl ReportInventory {
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.device.trim().is_empty() {
            return Err("device");
        }
        if !["start", "periodic", "demand", "drained"].contains(&self.occasion.trim()) {
            return Err("occasion");
        }
        Ok(())
    }
}

/// How many differences from its model the gateway found.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "ReportInventoryResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ReportInventoryResponse {
    #[yaserde(prefix = "o")]
    pub drift: i32,
}
