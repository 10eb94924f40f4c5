//! Provisioning: turning a model version into a device's command queue
//! (install, then configure, per component; role categories by rank), and
//! appending any command sequence (a script, a plug-in delivery) to the queues
//! of several devices at once. What a device's agent cannot serve is refused
//! before anything is queued (`outfit_domain::serving`).

use crate::audit::{Act, authorise};
use crate::{Failure, Poked, Refusal, RefusalKind, Services};
use outfit_domain::command::Payload;
use outfit_domain::device::DeviceAgent;
use outfit_domain::queue::NewCommand;
use outfit_domain::rights::{Action, Caller, Scope};
use outfit_domain::serving::{self, Unservable};
use outfit_store::Storage;

impl From<Unservable> for Failure {
    fn from(e: Unservable) -> Self {
        Refusal::invalid(e.to_string()).into()
    }
}

/// One device's share of what was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub device: String,
    pub commands: usize,
    /// How the poke went; `None`: the agent has not said Hello yet, it finds
    /// the queue when it does.
    pub poked: Option<Poked>,
}

/// Which devices a command sequence is queued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    Devices(Vec<String>),
    /// Every device of this model (in the given site).
    Model(String),
}

impl Targets {
    /// Devices by name, or every device of a model: one of the two.
    pub fn of(devices: &[String], model: Option<&str>) -> Result<Self, Refusal> {
        match (devices.is_empty(), model) {
            (false, None) => Ok(Self::Devices(devices.to_vec())),
            (true, Some(model)) => Ok(Self::Model(model.to_owned())),
            (false, Some(_)) => Err(Refusal::invalid("name devices or a model, not both")),
            (true, None) => Err(Refusal::invalid("name the devices, or a model whose devices are meant")),
        }
    }

    /// How the audit log names them.
    pub fn describe(&self) -> String {
        match self {
            Self::Devices(names) => names.join(","),
            Self::Model(model) => format!("model {model}"),
        }
    }
}

fn unknown_device(name: &str) -> Failure {
    Refusal::new(RefusalKind::NotFound, format!("no device named `{name}` is registered")).into()
}

/// Refuses `payloads` if no plug-in of a device's agent would serve them,
/// before anything is queued.
fn servable(storage: &Storage, devices: &[DeviceAgent], payloads: &[Payload]) -> Result<(), Failure> {
    let ids: Vec<_> = devices.iter().map(|d| d.id).collect();
    let switching = storage.plugin_switches_queued(&ids)?;
    for device in devices {
        serving::check(&device.name, &device.agent, switching.contains(&device.id), payloads)?;
    }
    Ok(())
}

impl Services {
    /// Queues the commands that build `device` to its model's current version
    /// and pokes its agent; if they have not been handed out by `expires_at`
    /// (Unix ms) they expire. Needs `deploy` on every role category of the
    /// model (provisioning installs every role). With `site`, the device must
    /// be of that site.
    pub fn provision(
        &self,
        caller: &Caller,
        site: Option<&str>,
        device: &str,
        expires_at: Option<i64>,
    ) -> Result<Queued, Failure> {
        let known = match site {
            Some(site) => Some(site.to_owned()),
            None => self.storage.device_site(device)?,
        };
        let act = Act { action: "Provision", site: known.as_deref(), object: device.to_owned() };
        let queued = self.audited(caller, act, || {
            let site = known.clone().ok_or_else(|| unknown_device(device))?;
            for category in self.storage.provisioned_categories(&site, device)? {
                authorise(caller, &site, Scope::Category(&category), Action::Deploy)?;
            }
            let row = self.storage.device(device)?.ok_or_else(|| unknown_device(device))?;
            // The device is built to its model's current version: that is how a
            // model change reaches every device of the model.
            let version = self.storage.current_model_version(row.model)?.or(row.desired).ok_or_else(|| {
                Refusal::invalid(format!(
                    "device `{device}` has no model version to provision (import its model first)"
                ))
            })?;
            let plan = outfit_domain::plan::build(&self.storage.desired_components(version)?);
            servable(&self.storage, &self.storage.device_agents(None, std::slice::from_ref(&row.name))?, &plan)?;
            let new = NewCommand::all(&plan, expires_at);
            self.storage.enqueue(row.id, Some(version), &new)?;
            let detail = format!("{} commands queued", new.len());
            Ok(((row.name, new.len(), row.poke_url), detail))
        })?;
        let (device, commands, url) = queued;
        let poked = self.poke(&device, url.as_deref());
        Ok(Queued { device, commands, poked })
    }

    /// Provisions the targets one by one, as [`Services::provision`] does
    /// (each authorised and audited on its own); stops at the first refusal.
    /// With `site`, named devices must be of it; every device of a model
    /// needs it.
    pub fn provision_many(
        &self,
        caller: &Caller,
        site: Option<&str>,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<Vec<Queued>, Failure> {
        let refuse = |refusal: Refusal| self.refuse_input(caller, "Provision", site, &targets.describe(), refusal);
        let devices = match (targets, site) {
            (Targets::Devices(names), _) => names.clone(),
            (Targets::Model(model), Some(site)) => {
                authorise(caller, site, Scope::SomeCategory, Action::Read).map_err(refuse)?;
                self.storage.devices_of_model(site, model)?
            }
            (Targets::Model(_), None) => {
                return Err(refuse(Refusal::invalid("every device of a model: name its site")));
            }
        };
        if devices.is_empty() {
            return Err(refuse(Refusal::invalid(
                "no devices to provision: name them, or give a model that has devices",
            )));
        }
        devices.iter().map(|device| self.provision(caller, site, device, expires_at)).collect()
    }

    /// Appends a reboot to a device's queue (after whatever is already in it).
    pub fn reboot(&self, caller: &Caller, device: &str, expires_at: Option<i64>) -> Result<Queued, Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action: "Reboot", site: known.as_deref(), object: device.to_owned() };
        let (name, url) = self.audited(caller, act, || {
            let site = known.as_deref().ok_or_else(|| unknown_device(device))?;
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let row = self.storage.device(device)?.ok_or_else(|| unknown_device(device))?;
            self.storage.enqueue(row.id, None, &NewCommand::all(&[Payload::Reboot], expires_at))?;
            Ok(((row.name, row.poke_url), "reboot queued".to_owned()))
        })?;
        let poked = self.poke(&name, url.as_deref());
        Ok(Queued { device: name, commands: 1, poked })
    }

    /// Appends `steps` to each target device's queue — all devices in one
    /// transaction, so a refused device (unknown, or of another site) leaves
    /// every queue as it was — and pokes their agents. The caller has
    /// authorised and audits.
    pub(crate) fn enqueue_on(
        &self,
        site: &str,
        targets: &Targets,
        steps: &[NewCommand],
    ) -> Result<Vec<(String, Option<String>)>, Failure> {
        let devices = match targets {
            Targets::Devices(names) => names.clone(),
            Targets::Model(model) => self.storage.devices_of_model(site, model)?,
        };
        if devices.is_empty() {
            return Err(Refusal::invalid(
                "no devices to queue for: name them, or give --model with a model that has devices",
            )
            .into());
        }
        let payloads = steps
            .iter()
            .map(|step| {
                Payload::from_json(&step.payload).map_err(|e| Failure::internal(format!("a `{}` step: {e}", step.kind)))
            })
            .collect::<Result<Vec<Payload>, _>>()?;
        // Unknown devices and devices of another site are refused below, all at
        // once, and never described here.
        servable(&self.storage, &self.storage.device_agents(Some(site), &devices)?, &payloads)?;
        let rows = self.storage.enqueue_on(site, &devices, steps)?;
        Ok(rows.into_iter().map(|device| (device.name, device.poke_url)).collect())
    }

    /// Pokes each device that has said where, after a multi-device enqueue.
    pub(crate) fn poke_all(&self, queued: Vec<(String, Option<String>)>, commands: usize) -> Vec<Queued> {
        queued
            .into_iter()
            .map(|(device, url)| {
                let poked = self.poke(&device, url.as_deref());
                Queued { device, commands, poked }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ca, NoPokes, repository::Repository};
    use outfit_domain::model::{Component, Model, PackageRef, Role};

    pub(crate) fn services(dir: &std::path::Path) -> Services {
        let ca = Ca { key_pem: crate::pki::create_ca().unwrap().key_pem.into(), device_cert_days: 1 };
        let url = dir.join("db.sqlite").display().to_string();
        Services::open(&url, Repository::new(dir.join("repository")), ca, std::sync::Arc::new(NoPokes), "t".into())
            .unwrap()
    }

    pub(crate) fn admin() -> Caller {
        Caller {
            principal: outfit_domain::rights::Principal::LocalAdministrator { user: "test".into() },
            from: "cli".into(),
        }
    }

    /// A queue-time refusal describes a device's plug-ins, so it must never
    /// be about a device of another site: that one is refused as foreign.
    #[test]
    fn a_device_of_another_site_is_refused_as_foreign_not_described() {
        let dir = tempfile::tempdir().unwrap();
        let services = services(dir.path());
        let component = Component {
            name: "web".into(),
            package: PackageRef {
                name: "web".into(),
                version: "1".into(),
                format: "deb".into(),
                sha256: "0".repeat(64),
                size: 1,
                storage_key: "0".repeat(64),
            },
            config: None,
            plugin: None,
            parameters: vec![],
        };
        for site in ["a", "b"] {
            let roles = vec![Role { category: "OS".into(), name: "os".into(), components: vec![component.clone()] }];
            services.import_model_content(&admin(), &Model { site: site.into(), name: "m".into(), roles }).unwrap();
        }
        let own = services.add_device(&admin(), "a", "a-1", "m").unwrap();
        let foreign = services.add_device(&admin(), "b", "b-1", "m").unwrap();
        let report = outfit_domain::serving::AgentReport {
            platform: "linux-x86_64".into(),
            plugins: vec![],
            precompiled_only: None,
        };
        for device in [&own, &foreign] {
            services.storage.record_hello(device.id, "boot", "0.1.0", None, Some(&report)).unwrap();
        }
        let step = NewCommand::all(&[Payload::Service { name: "web".into(), action: "start".into() }], None);
        let refused = |names: &[&str]| {
            let names = names.iter().map(|n| n.to_string()).collect();
            services.enqueue_on("a", &Targets::Devices(names), &step).unwrap_err().to_string()
        };
        assert!(refused(&["a-1"]).contains("`service` command for device `a-1` refused"), "{}", refused(&["a-1"]));
        let err = refused(&["b-1"]);
        assert!(err.contains("device `b-1` is not of site `a`") && !err.contains("plug-ins"), "{err}");
        assert_eq!(services.storage.queue_counts(foreign.id).unwrap().total(), 0);
    }
}
