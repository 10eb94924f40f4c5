//! The command vocabulary: what a queued command asks an agent to do, as kept
//! (JSON) in its queue row.

use serde::{Deserialize, Serialize};

/// Octal permission bits ("640"), at most 777.
pub fn permission_bits(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text, 8) {
        Ok(bits) if bits <= 0o777 => Ok(bits),
        _ => Err(format!("mode `{text}` is not octal permission bits (at most 777), e.g. \"640\"")),
    }
}

/// Plug-in names become directory names on the device: letters, digits, `-`
/// and `_`, at most 64.
pub fn valid_plugin_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// [`valid_plugin_name`], as the error that says what a name may hold.
pub fn check_plugin_name(name: &str) -> Result<(), String> {
    if valid_plugin_name(name) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a plug-in name (letters, digits, `-` and `_`)"))
    }
}

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
            permission_bits(mode)?;
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

    pub fn from_column(column: Option<&str>) -> Result<Self, String> {
        match column {
            None => Ok(Self::default()),
            Some(text) => serde_json::from_str(text).map_err(|e| format!("file attributes `{text}`: {e}")),
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
    /// Replace an installed package of a component by another version.
    Upgrade {
        component: String,
        package_name: String,
        /// The version the device had (what the plan started from).
        from_version: String,
        version: String,
        format: String,
        sha256: String,
        size: i64,
        storage_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plugin: Option<String>,
    },
    /// Remove (purge) a component's package: the model no longer has it.
    Remove {
        component: String,
        package_name: String,
        format: String,
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
    /// Report the device's inventory now.
    Inventory,
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
    /// The plug-in the model names to serve this command, if any.
    pub fn pinned_plugin(&self) -> Option<&str> {
        match self {
            Self::Install { plugin, .. }
            | Self::Upgrade { plugin, .. }
            | Self::Remove { plugin, .. }
            | Self::Configure { plugin, .. } => plugin.as_deref(),
            _ => None,
        }
    }

    /// The component of the model this command works on, if any.
    pub fn component(&self) -> Option<&str> {
        match self {
            Self::Install { component, .. }
            | Self::Upgrade { component, .. }
            | Self::Remove { component, .. }
            | Self::Configure { component, .. } => Some(component),
            _ => None,
        }
    }

    /// One line for people: what the command does (dry runs, queues).
    pub fn summary(&self) -> String {
        match self {
            Self::Install { package_name, version, .. } => format!("install {package_name} {version}"),
            Self::Upgrade { package_name, from_version, version, .. } => {
                format!("upgrade {package_name} {from_version} -> {version}")
            }
            Self::Remove { package_name, .. } => format!("remove {package_name}"),
            Self::Configure { path, .. } => format!("configure {path}"),
            Self::Reboot => "reboot".to_owned(),
            Self::Inventory => "inventory".to_owned(),
            Self::InstallPlugin { name, version, .. } => format!("install-plugin {name} {version}"),
            Self::RollbackPlugin { name } => format!("rollback-plugin {name}"),
            Self::Network { interface, address, .. } => {
                format!("network {interface} {}", address.as_deref().unwrap_or("dhcp"))
            }
            Self::Service { name, action } => format!("service {name} {action}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Install { .. } => "install",
            Self::Upgrade { .. } => "upgrade",
            Self::Remove { .. } => "remove",
            Self::Configure { .. } => "configure",
            Self::Reboot => "reboot",
            Self::Inventory => "inventory",
            Self::InstallPlugin { .. } => "install-plugin",
            Self::RollbackPlugin { .. } => "rollback-plugin",
            Self::Network { .. } => "network",
            Self::Service { .. } => "service",
        }
    }

    /// The payload as a queue row keeps it. Its shape is stored data: rows
    /// written by an older gateway must still read.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("payload serializes")
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable payload: {e}"))
    }
}

impl Payload {
    /// Checks what an operator gave (a script step, a model's component), so
    /// a mistake fails the import rather than every device's command.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Install { plugin, .. } | Self::Upgrade { plugin, .. } | Self::Remove { plugin, .. } => {
                plugin.as_deref().map_or(Ok(()), check_plugin_name)
            }
            Self::Configure { path, attributes, plugin, .. } => {
                plugin.as_deref().map_or(Ok(()), check_plugin_name)?;
                if !path.starts_with('/') {
                    return Err(format!("path `{path}` must be absolute"));
                }
                attributes.validate()
            }
            Self::Reboot | Self::Inventory | Self::InstallPlugin { .. } => Ok(()),
            Self::RollbackPlugin { name } => check_plugin_name(name),
            Self::Network { interface, address, gateway, dns } => {
                network_step(interface, address.as_deref(), gateway.as_deref(), dns)
            }
            Self::Service { name, action } => {
                if name.is_empty() || !SERVICE_ACTIONS.contains(&action.as_str()) {
                    return Err(format!(
                        "service `{name}` `{action}`: the action is one of {}",
                        SERVICE_ACTIONS.join(", ")
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A network step's interface, address (ADDRESS/PREFIX; none: DHCP), gateway and DNS servers.
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
