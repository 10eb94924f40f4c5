//! Devices, and what a device's agent said of itself.

use crate::ids::{DeviceId, ModelId, ModelVersionId, SiteId};
use crate::serving::Agent;

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub site: SiteId,
    pub name: String,
    pub model: ModelId,
    /// The model version its queue builds toward.
    pub desired: Option<ModelVersionId>,
    /// The model version it reached (every command of that provisioning succeeded).
    pub applied: Option<ModelVersionId>,
    /// Where its agent listens for pokes, from its latest Hello.
    pub poke_url: Option<String>,
    /// Its agent's boot id at its latest Hello: a new one ends a reboot.
    pub boot_id: Option<String>,
}

/// What the gateway knows of a device's agent, from its latest Hello. Apart
/// from [`Device`], which every agent exchange reads, so the report stays off
/// that path: only queueing and `device show` read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAgent {
    pub id: DeviceId,
    pub name: String,
    pub agent_version: Option<String>,
    pub agent: Agent,
}
