//! Turning a model version into a device's command queue (patent claim 15:
//! "a command queue … built from the model"), and the command payloads kept in
//! the queue rows.
//!
//! Order: role categories by ordinal (OS, APP, CONTENT), components by their
//! position in the role; each component is installed, then configured.

use crate::storage::{CommandRow, DesiredComponent, DeviceAgent, NewCommand, Storage, StorageError};
use serde::{Deserialize, Serialize};

/// What a configuration file must have besides its contents: permission bits
/// in octal text ("640"), owner and group as names on the device or numbers.
/// Empty: keep what the file has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl FileAttributes {
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }

    /// Checks what a model file names, so a typo fails the import rather
    /// than every device's command.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(mode) = &self.mode {
            outfit_wsdl::messages::permission_bits(mode)?;
        }
        for (kind, name) in [("owner", &self.owner), ("group", &self.group)] {
            if let Some(name) = name {
                let valid = !name.is_empty()
                    && name.len() <= 32
                    && !name.starts_with('-')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !valid {
                    return Err(format!("{kind} `{name}` is not a user or group name (letters, digits, _ . -)"));
                }
            }
        }
        Ok(())
    }

    /// As stored in `components.config_attributes`.
    pub fn to_column(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).expect("attributes serialize"))
    }

    pub fn from_column(column: Option<&str>) -> Result<Self, StorageError> {
        match column {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| StorageError::Invalid(format!("components.config_attributes `{text}`: {e}"))),
        }
    }
}

/// What a queued command asks the agent to do; stored as JSON in the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Payload {
    Install {
        component: String,
        package_name: String,
        version: String,
        format: String,
        sha256: String,
        size: i64,
        storage_key: String,
        /// The plug-in that must install it (`None`: the one for its format).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plugin: Option<String>,
    },
    Configure {
        component: String,
        path: String,
        template: String,
        parameters: Vec<(String, String)>,
        #[serde(default, skip_serializing_if = "FileAttributes::is_empty")]
        attributes: FileAttributes,
        /// The plug-in that must write it (`None`: the newest that configures).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plugin: Option<String>,
    },
    /// Restart the device; the queue waits until it is back.
    Reboot,
    /// Fetch a signed plug-in bundle (see `plugin.rs`) and switch to it.
    #[serde(rename = "install-plugin")]
    InstallPlugin {
        name: String,
        version: String,
        sha256: String,
        size: i64,
        storage_key: String,
        /// Targets the bundle carries signed precompiled code for (gateway
        /// side only: checked against agents that cannot compile).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        precompiled: Vec<String>,
    },
    /// Switch a plug-in back to the version it had before.
    #[serde(rename = "rollback-plugin")]
    RollbackPlugin { name: String },
    /// Give an interface a static address (`address` = ADDRESS/PREFIX) or DHCP (no address).
    Network { interface: String, address: Option<String>, gateway: Option<String>, dns: Vec<String> },
    /// Start, stop, restart, enable or disable a service.
    Service { name: String, action: String },
}

/// The service actions a `service` command may ask for.
pub const SERVICE_ACTIONS: [&str; 5] = ["start", "stop", "restart", "enable", "disable"];

impl Payload {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Install { .. } => "install",
            Self::Configure { .. } => "configure",
            Self::Reboot => "reboot",
            Self::InstallPlugin { .. } => "install-plugin",
            Self::RollbackPlugin { .. } => "rollback-plugin",
            Self::Network { .. } => "network",
            Self::Service { .. } => "service",
        }
    }

    pub fn of(row: &CommandRow) -> Result<Self, StorageError> {
        serde_json::from_str(&row.payload)
            .map_err(|e| StorageError::Invalid(format!("command {} has an unreadable payload: {e}", row.id)))
    }
}

/// The commands that bring a bare device to the desired components.
pub fn plan(desired: &[DesiredComponent]) -> Result<Vec<Payload>, StorageError> {
    let mut plan = Vec::with_capacity(desired.len() * 2);
    for d in desired {
        let c = &d.component;
        plan.push(Payload::Install {
            component: c.name.clone(),
            package_name: c.package_name.clone(),
            version: c.package_version.clone(),
            format: c.package_format.clone(),
            sha256: c.sha256.clone(),
            size: c.size,
            storage_key: c.storage_key.clone(),
            plugin: c.plugin.clone(),
        });
        if let (Some(path), Some(template)) = (&c.config_path, &c.config_template) {
            plan.push(Payload::Configure {
                component: c.name.clone(),
                path: path.clone(),
                template: template.clone(),
                parameters: d.parameters.clone(),
                attributes: FileAttributes::from_column(c.config_attributes.as_deref())?,
                plugin: c.plugin.clone(),
            });
        }
    }
    Ok(plan)
}

impl From<&Payload> for NewCommand {
    fn from(p: &Payload) -> Self {
        NewCommand {
            kind: p.kind().to_owned(),
            payload: serde_json::to_string(p).expect("payload serializes"),
            expires_at: None,
        }
    }
}

/// The queue rows for `payloads`, each to be handed out before `expires_at`
/// (Unix ms) or not at all.
pub fn commands(payloads: &[Payload], expires_at: Option<i64>) -> Vec<NewCommand> {
    payloads.iter().map(|p| NewCommand { expires_at, ..NewCommand::from(p) }).collect()
}

/// Appends a reboot to a device's queue (after whatever is already in it).
pub fn enqueue_reboot(storage: &Storage, device: &str, expires_at: Option<i64>) -> Result<Provisioned, ProvisionError> {
    let row = storage.device(device)?.ok_or_else(|| ProvisionError::UnknownDevice(device.to_owned()))?;
    storage.enqueue(row.id, None, &commands(&[Payload::Reboot], expires_at))?;
    Ok(Provisioned {
        device: row.name,
        model_version_id: row.desired_model_version_id.unwrap_or_default(),
        commands: 1,
        poke_url: row.poke_url,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("no device named `{0}` is registered")]
    UnknownDevice(String),
    #[error("device `{0}` has no model version to provision (import its model first)")]
    NoModelVersion(String),
    #[error("no devices to queue for: name them, or give --model with a model that has devices")]
    NoDevices,
    #[error(transparent)]
    Unservable(#[from] crate::serving::Unservable),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    pub device: String,
    pub model_version_id: i64,
    pub commands: usize,
    pub poke_url: Option<String>,
}

/// Queues the commands that build `device` to its desired model version; if
/// they have not been handed out by `expires_at` (Unix ms) they expire.
pub fn provision(storage: &Storage, device: &str, expires_at: Option<i64>) -> Result<Provisioned, ProvisionError> {
    let row = storage.device(device)?.ok_or_else(|| ProvisionError::UnknownDevice(device.to_owned()))?;
    // The device is built to its model's current version: that is how a model
    // change reaches every device of the model.
    let version = storage
        .current_model_version(row.model_id)?
        .or(row.desired_model_version_id)
        .ok_or_else(|| ProvisionError::NoModelVersion(device.to_owned()))?;
    let plan = plan(&storage.desired_components(version)?)?;
    servable(storage, &storage.device_agents(None, std::slice::from_ref(&row.name))?, &plan)?;
    let new = commands(&plan, expires_at);
    storage.enqueue(row.id, Some(version), &new)?;
    Ok(Provisioned { device: row.name, model_version_id: version, commands: new.len(), poke_url: row.poke_url })
}

/// Refuses `payloads` if no plug-in of a device's agent would serve them
/// (see `serving.rs`), before anything is queued.
fn servable(storage: &Storage, devices: &[DeviceAgent], payloads: &[Payload]) -> Result<(), ProvisionError> {
    let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
    let switching = storage.plugin_switches_queued(&ids)?;
    for device in devices {
        crate::serving::check(&device.name, &device.agent(), switching.contains(&device.id), payloads)?;
    }
    Ok(())
}

/// Which devices a command sequence is queued for.
#[derive(Debug, Clone)]
pub enum Targets {
    Devices(Vec<String>),
    /// Every device of this model (in the given site).
    Model(String),
}

/// One device's share of a sequence queued for several.
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub device: String,
    pub commands: usize,
    pub poke_url: Option<String>,
}

/// Appends `steps` to each target device's queue — all devices in one
/// transaction, so a refused device (unknown, or of another site) leaves
/// every queue as it was.
pub fn enqueue_on(
    storage: &Storage,
    site: &str,
    targets: &Targets,
    steps: &[NewCommand],
) -> Result<Vec<Enqueued>, ProvisionError> {
    let devices = match targets {
        Targets::Devices(names) => names.clone(),
        Targets::Model(model) => storage.devices_of_model(site, model)?,
    };
    if devices.is_empty() {
        return Err(ProvisionError::NoDevices);
    }
    let payloads = steps
        .iter()
        .map(|step| {
            serde_json::from_str(&step.payload)
                .map_err(|e| StorageError::Invalid(format!("a `{}` step has an unreadable payload: {e}", step.kind)))
        })
        .collect::<Result<Vec<Payload>, _>>()?;
    // Unknown devices and devices of another site are refused below, all at
    // once, and never described here.
    servable(storage, &storage.device_agents(Some(site), &devices)?, &payloads)?;
    let rows = storage.enqueue_on(site, &devices, steps)?;
    Ok(rows
        .into_iter()
        .map(|device| Enqueued { device: device.name, commands: steps.len(), poke_url: device.poke_url })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{NewComponent, NewModel, NewRole};

    /// A queue-time refusal describes a device's plug-ins, so it must never
    /// be about a device of another site: that one is refused as foreign.
    #[test]
    fn a_device_of_another_site_is_refused_as_foreign_not_described() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
        let component = NewComponent {
            name: "web".into(),
            package_name: "web".into(),
            package_version: "1".into(),
            package_format: "deb".into(),
            sha256: "0".repeat(64),
            size: 1,
            storage_key: "0".repeat(64),
            config_path: None,
            config_template: None,
            config_attributes: None,
            plugin: None,
            parameters: vec![],
        };
        for site in ["a", "b"] {
            let roles = vec![NewRole { category: "OS".into(), name: "os".into(), components: vec![component.clone()] }];
            storage.import_model(&NewModel { site: site.into(), name: "m".into(), roles }).unwrap();
        }
        let own = storage.add_device("a", "a-1", "m").unwrap();
        let foreign = storage.add_device("b", "b-1", "m").unwrap();
        let report = r#"{"platform":"linux-x86_64","plugins":[]}"#;
        for device in [&own, &foreign] {
            storage.record_hello(device.id, "boot", "0.1.0", None, Some(report)).unwrap();
        }
        let step = commands(&[Payload::Service { name: "web".into(), action: "start".into() }], None);
        let refused = |names: &[&str]| {
            let names = names.iter().map(|n| n.to_string()).collect();
            enqueue_on(&storage, "a", &Targets::Devices(names), &step).unwrap_err().to_string()
        };
        assert!(refused(&["a-1"]).contains("`service` command for device `a-1` refused"), "{}", refused(&["a-1"]));
        let err = refused(&["b-1"]);
        assert!(err.contains("device `b-1` is not of site `a`") && !err.contains("plug-ins"), "{err}");
        assert_eq!(storage.queue_counts(foreign.id).unwrap().total(), 0);
    }
}
