//! Which of a device's plug-ins would serve a command, judged from what its
//! agent last reported in `Hello` (platform and loaded plug-ins) before the
//! command is queued: a model's `rpm` component for a device whose agent only
//! installs `deb`, or a configuration file with a mode for an agent whose
//! plug-ins cannot set one, is refused at provisioning with the fix named,
//! instead of failing (or, on an agent older than the report, being silently
//! half-done) on the device.
//!
//! **Boundary:** the gateway judges only what is known. A device whose agent
//! has not said Hello yet (provisioned before it enrolled) is not judged, and
//! neither is anything queued after a plug-in delivery or rollback, whose
//! effect on the device's plug-ins is known only once the agent reports again.
//! The agent checks every command itself either way.

use crate::command::Payload;
use serde::{Deserialize, Serialize};

/// What a device's agent said of itself in its latest `Hello`, as stored in
/// `devices.agent_report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReport {
    pub platform: String,
    pub plugins: Vec<ReportedPlugin>,
    /// An agent without a compiler: the target its bundles need code for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precompiled_only: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedPlugin {
    pub name: String,
    pub version: String,
    pub world: String,
    pub formats: Vec<String>,
    pub changes: Vec<String>,
}

impl AgentReport {
    pub fn to_column(&self) -> String {
        serde_json::to_string(self).expect("a report serializes")
    }

    /// Reads `devices.agent_report`; an unreadable one counts as no report.
    pub fn from_column(column: Option<&str>) -> Option<Self> {
        serde_json::from_str(column?).ok()
    }

    /// `debian 0.1.0 [deb; configure, service], files 0.1.0 [configure]`.
    pub fn describe(&self) -> String {
        if self.plugins.is_empty() {
            return "none".to_owned();
        }
        let each = self.plugins.iter().map(|p| format!("{} {} [{}]", p.name, p.version, p.serves()));
        each.collect::<Vec<_>>().join(", ")
    }
}

impl ReportedPlugin {
    /// `deb, configure, service`: its package formats, then its kinds of change.
    pub fn serves(&self) -> String {
        let all: Vec<&str> = self.formats.iter().chain(&self.changes).map(String::as_str).collect();
        all.join(", ")
    }

    /// Plug-ins of world 1.1 and later set file modes and owners.
    fn sets_attributes(&self) -> bool {
        let version = self.world.rsplit_once('@').map_or("", |(_, v)| v);
        let mut parts = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 1)
    }
}

/// What the gateway knows of a device's agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    /// It has never said Hello.
    Unseen,
    /// It said Hello without a report: an agent older than the report, which
    /// ignores command fields newer than itself.
    Unreported {
        version: String,
    },
    Reported(AgentReport),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{kind}` command for device `{device}` refused: {reason}")]
pub struct Unservable {
    pub device: String,
    pub kind: &'static str,
    pub reason: String,
}

/// Checks `payloads`, to be queued in this order, against the device's
/// agent. `switch_queued`: a plug-in delivery or rollback is already waiting
/// in the device's queue, so its plug-ins are not known past it.
pub fn check(device: &str, agent: &Agent, switch_queued: bool, payloads: &[Payload]) -> Result<(), Unservable> {
    let mut unknown_from_here = switch_queued;
    for payload in payloads {
        let refuse = |reason: String| Unservable { device: device.to_owned(), kind: payload.kind(), reason };
        // Whether the agent compiles does not change with its plug-ins: a
        // bundle without code for an agent that only runs precompiled code
        // is refused wherever it stands in the batch.
        if let (Payload::InstallPlugin { name, version, precompiled, .. }, Agent::Reported(report)) = (payload, agent)
            && let Some(target) = &report.precompiled_only
            && !precompiled.contains(target)
        {
            return Err(refuse(format!(
                "its agent runs only precompiled plug-ins and bundle {name} {version} has no signed code for \
                 `{target}`; add it with `outfit-plugin precompile --key KEY --target {target} BUNDLE` and install \
                 again"
            )));
        }
        if matches!(payload, Payload::InstallPlugin { .. } | Payload::RollbackPlugin { .. }) {
            unknown_from_here = true;
            continue;
        }
        let pin = payload.pinned_plugin();
        let report = match agent {
            Agent::Unseen => return Ok(()),
            Agent::Unreported { version } => {
                if let Some(pin) = pin {
                    return Err(refuse(format!(
                        "its agent ({version}) is too old to report its plug-ins and would not keep to plug-in \
                         {pin}, which the command names; upgrade the agent"
                    )));
                }
                if let Payload::Configure { path, attributes, .. } = payload
                    && !attributes.is_empty()
                {
                    return Err(refuse(format!(
                        "its agent ({version}) is too old to report its plug-ins and would write {path} without \
                         its mode and owner; upgrade the agent"
                    )));
                }
                continue;
            }
            Agent::Reported(report) => report,
        };
        if unknown_from_here {
            continue;
        }
        // A named plug-in must be there; it alone is then judged.
        let named = report.plugins.iter().filter(|p| pin.is_none_or(|name| p.name == name));
        if let Some(name) = pin
            && named.clone().next().is_none()
        {
            return Err(refuse(format!(
                "it names plug-in {name}, which its agent does not have (its plug-ins: {}); deliver it with \
                 `outfit plugin install`",
                report.describe()
            )));
        }
        let has = |serves: &dyn Fn(&ReportedPlugin) -> bool| named.clone().any(serves);
        let plugins = report.describe();
        let deliver = "deliver one with `outfit plugin install`";
        match payload {
            Payload::Install { format, component, .. } | Payload::Upgrade { format, component, .. } => {
                if !has(&|p| p.formats.contains(format)) {
                    return Err(refuse(format!(
                        "no plug-in of its agent ({}) installs `{format}` packages (component {component}); its \
                         plug-ins: {plugins}; {deliver}",
                        report.platform
                    )));
                }
            }
            Payload::Remove { format, component, .. } => {
                if !has(&|p| p.formats.contains(format) && p.changes.iter().any(|c| c == "remove")) {
                    return Err(refuse(format!(
                        "no plug-in of its agent removes `{format}` packages (component {component}); its \
                         plug-ins: {plugins}; {deliver}"
                    )));
                }
            }
            Payload::Configure { attributes, path, .. } if !attributes.is_empty() => {
                if !has(&|p| p.sets_attributes() && p.changes.iter().any(|c| c == "configure")) {
                    return Err(refuse(format!(
                        "no plug-in of its agent sets file modes and owners, which {path} asks for (that takes \
                         plug-in world 1.1, such as `files`); its plug-ins: {plugins}; {deliver}"
                    )));
                }
            }
            Payload::Configure { .. } | Payload::Network { .. } | Payload::Service { .. } => {
                let kind = payload.kind();
                if !has(&|p| p.changes.iter().any(|c| c == kind)) {
                    return Err(refuse(format!(
                        "no plug-in of its agent handles `{kind}` changes; its plug-ins: {plugins}; {deliver}"
                    )));
                }
            }
            Payload::Reboot | Payload::Inventory | Payload::InstallPlugin { .. } | Payload::RollbackPlugin { .. } => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::FileAttributes;

    fn plugin(name: &str, world: &str, formats: &[&str], changes: &[&str]) -> ReportedPlugin {
        ReportedPlugin {
            name: name.into(),
            version: "0.1.0".into(),
            world: world.into(),
            formats: formats.iter().map(|f| f.to_string()).collect(),
            changes: changes.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn debian_only() -> Agent {
        let debian = plugin("debian", "outfit:plugin/os-plugin-world@0.1.0", &["deb"], &["configure", "service"]);
        Agent::Reported(AgentReport { platform: "linux-x86_64".into(), plugins: vec![debian], precompiled_only: None })
    }

    fn install(format: &str) -> Payload {
        Payload::Install {
            component: "web".into(),
            package_name: "web".into(),
            version: "1".into(),
            format: format.into(),
            sha256: "0".repeat(64),
            size: 1,
            storage_key: "0".repeat(64),
            plugin: None,
        }
    }

    fn configure(mode: Option<&str>) -> Payload {
        Payload::Configure {
            component: "web".into(),
            path: "/etc/web.conf".into(),
            template: "x".into(),
            parameters: vec![],
            attributes: FileAttributes { mode: mode.map(str::to_owned), ..FileAttributes::default() },
            plugin: None,
        }
    }

    fn pinned(mut payload: Payload, name: &str) -> Payload {
        if let Payload::Install { plugin, .. } | Payload::Configure { plugin, .. } = &mut payload {
            *plugin = Some(name.to_owned());
        }
        payload
    }

    fn deliver_files() -> Payload {
        Payload::InstallPlugin {
            name: "files".into(),
            version: "0.1.0".into(),
            sha256: "1".repeat(64),
            size: 1,
            storage_key: "1".repeat(64),
            precompiled: vec!["pulley64".into()],
        }
    }

    #[test]
    fn refuses_what_no_reported_plugin_serves_and_names_the_fix() {
        let agent = debian_only();
        assert_eq!(check("web-1", &agent, false, &[install("deb"), configure(None)]), Ok(()));
        let err = check("web-1", &agent, false, &[install("deb"), install("rpm")]).unwrap_err();
        assert_eq!((err.device.as_str(), err.kind), ("web-1", "install"));
        assert!(err.reason.contains("installs `rpm` packages"), "{err}");
        assert!(err.reason.contains("debian 0.1.0 [deb, configure, service]"), "{err}");
        assert!(err.reason.contains("outfit plugin install"), "{err}");

        let err = check("web-1", &agent, false, &[configure(Some("640"))]).unwrap_err();
        assert!(err.reason.contains("sets file modes and owners"), "{err}");
        let network = Payload::Network { interface: "eth0".into(), address: None, gateway: None, dns: vec![] };
        let err = check("web-1", &agent, false, &[network]).unwrap_err();
        assert!(err.reason.contains("handles `network` changes"), "{err}");
        assert_eq!(check("web-1", &agent, false, &[Payload::Reboot]), Ok(()));
    }

    #[test]
    fn a_world_1_1_plugin_sets_attributes() {
        let Agent::Reported(mut report) = debian_only() else { unreachable!() };
        report.plugins.push(plugin("files", "outfit:plugin/os-plugin@1.1.0", &[], &["configure"]));
        assert_eq!(check("web-1", &Agent::Reported(report.clone()), false, &[configure(Some("640"))]), Ok(()));
        // A 1.0 plug-in does not.
        report.plugins[1].world = "outfit:plugin/os-plugin@1.0.0".into();
        assert!(check("web-1", &Agent::Reported(report), false, &[configure(Some("640"))]).is_err());
    }

    #[test]
    fn nothing_is_judged_past_a_plugin_switch_or_before_the_first_hello() {
        let agent = debian_only();
        // A delivery earlier in the same batch, or already waiting in the queue.
        assert_eq!(check("web-1", &agent, false, &[deliver_files(), configure(Some("640"))]), Ok(()));
        assert_eq!(check("web-1", &agent, true, &[configure(Some("640"))]), Ok(()));
        // But what comes before the delivery still is.
        assert!(check("web-1", &agent, false, &[configure(Some("640")), deliver_files()]).is_err());
        assert_eq!(check("web-1", &Agent::Unseen, false, &[install("msi"), configure(Some("640"))]), Ok(()));
    }

    #[test]
    fn an_agent_without_a_compiler_gets_only_bundles_with_code_for_its_target() {
        let Agent::Reported(mut report) = debian_only() else { unreachable!() };
        // A compiling agent takes any bundle.
        assert_eq!(check("web-1", &Agent::Reported(report.clone()), false, &[deliver_files()]), Ok(()));
        report.precompiled_only = Some("pulley64".into());
        assert_eq!(check("web-1", &Agent::Reported(report.clone()), false, &[deliver_files()]), Ok(()));
        report.precompiled_only = Some("x86_64-unknown-linux-gnu".into());
        let agent = Agent::Reported(report);
        // Judged even behind another delivery: compiling is not a plug-in's doing.
        let err = check("web-1", &agent, true, &[deliver_files()]).unwrap_err();
        assert_eq!(err.kind, "install-plugin");
        assert!(err.reason.contains("no signed code for `x86_64-unknown-linux-gnu`"), "{err}");
        assert!(err.reason.contains("outfit-plugin precompile --key KEY --target x86_64-unknown-linux-gnu"), "{err}");
        // The report keeps the target through the column.
        let Agent::Reported(report) = &agent else { unreachable!() };
        assert_eq!(AgentReport::from_column(Some(&report.to_column())).as_ref(), Some(report));
    }

    #[test]
    fn an_agent_without_a_report_gets_no_attributes_it_would_ignore() {
        let old = Agent::Unreported { version: "0.1.0".into() };
        assert_eq!(check("web-1", &old, false, &[install("rpm"), configure(None)]), Ok(()));
        let err = check("web-1", &old, false, &[configure(Some("640"))]).unwrap_err();
        assert!(err.reason.contains("too old to report its plug-ins"), "{err}");
        assert!(err.reason.contains("upgrade the agent"), "{err}");
        // Even after a delivery: the old agent still ignores the fields.
        assert!(check("web-1", &old, false, &[deliver_files(), configure(Some("640"))]).is_err());
    }

    #[test]
    fn a_named_plugin_must_be_reported_and_alone_serves() {
        let Agent::Reported(mut report) = debian_only() else { unreachable!() };
        let err =
            check("web-1", &Agent::Reported(report.clone()), false, &[pinned(configure(None), "files")]).unwrap_err();
        assert!(err.reason.contains("names plug-in files, which its agent does not have"), "{err}");
        report.plugins.push(plugin("files", "outfit:plugin/os-plugin@1.1.0", &[], &["configure"]));
        let agent = Agent::Reported(report);
        assert_eq!(check("web-1", &agent, false, &[pinned(configure(Some("640")), "files")]), Ok(()));
        // Named debian, which cannot set a mode, though files could.
        assert!(check("web-1", &agent, false, &[pinned(configure(Some("640")), "debian")]).is_err());
        // files installs no packages.
        assert!(check("web-1", &agent, false, &[pinned(install("deb"), "files")]).is_err());
        // A delivery of it earlier in the batch: not judged.
        let fresh = debian_only();
        assert_eq!(check("web-1", &fresh, false, &[deliver_files(), pinned(configure(None), "files")]), Ok(()));
        // An agent without a report would not keep to the name.
        let old = Agent::Unreported { version: "0.1.0".into() };
        let err = check("web-1", &old, false, &[pinned(install("deb"), "debian")]).unwrap_err();
        assert!(err.reason.contains("would not keep to plug-in debian"), "{err}");
    }
}
