//! Inventory and drift for operators: a device's reports, drift by site,
//! model or device (with its history), an inventory asked for now,
//! remediation (the commands that put a device back), and promotion (an
//! on-device change adopted into the model as a new version, rolled out to
//! every device of the model — claims 6 and 7).

use crate::audit::{Act, authorise};
use crate::models::{Changed, authorship};
use crate::provisioning::{Queued, Targets};
use crate::rollouts::Follow;
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::command::Payload;
use outfit_domain::drift::{self, Drift, DriftKind};
use outfit_domain::ids::DeviceId;
use outfit_domain::inventory::{Inventory, LocalChange};
use outfit_domain::model::Model;
use outfit_domain::queue::NewCommand;
use outfit_domain::rights::{Action, Caller, Principal, Scope};
pub use outfit_store::{DriftQuery, DriftRecord, InventorySummary};

fn unknown_device(name: &str) -> Failure {
    Refusal::not_found("device", name).into()
}

impl Services {
    /// A device's latest inventory and its reports' history.
    pub fn show_inventory(
        &self,
        caller: &Caller,
        device: &str,
    ) -> Result<(Option<Inventory>, Vec<InventorySummary>), Failure> {
        let site = self.storage.device_site(device)?.ok_or_else(|| unknown_device(device))?;
        authorise(caller, &site, Scope::SomeCategory, Action::Read)?;
        let found = self.storage.device(device)?.ok_or_else(|| unknown_device(device))?;
        Ok((self.storage.latest_inventory(found.id)?, self.storage.inventories(found.id)?))
    }

    /// Drift of the sites `caller` may read (of one site, model or device).
    pub fn drifts(&self, caller: &Caller, query: &DriftQuery<'_>) -> Result<Vec<DriftRecord>, Failure> {
        if let Some(site) = query.site {
            authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        }
        let found = self.storage.drifts(query)?;
        Ok(found.into_iter().filter(|d| caller.principal.may(&d.site, Scope::SomeCategory, Action::Read)).collect())
    }

    /// Queues an inventory report on the targets and pokes them.
    pub fn request_inventory(&self, caller: &Caller, site: &str, targets: &Targets) -> Result<Vec<Queued>, Failure> {
        let act = Act { action: "RequestInventory", site: Some(site), object: targets.describe() };
        let queued = self.audited(caller, act, || {
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
            let queued = self.enqueue_on(site, targets, &NewCommand::all(&[Payload::Inventory], None))?;
            let detail = format!("inventory asked of {} devices", queued.len());
            Ok((queued, detail))
        })?;
        Ok(self.poke_all(queued, 1))
    }

    /// Queues the commands that put `device` back to its applied version, as
    /// its latest inventory shows it, and an inventory after them. Needs
    /// `deploy` on every category the drift touches.
    pub fn remediate(&self, caller: &Caller, device: &str) -> Result<Queued, Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action: "Remediate", site: known.as_deref(), object: device.to_owned() };
        let (name, commands, url) = self.audited(caller, act, || {
            let site = known.as_deref().ok_or_else(|| unknown_device(device))?;
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
            let row = self.storage.device(device)?.ok_or_else(|| unknown_device(device))?;
            let applied = row.applied.ok_or_else(|| {
                Refusal::invalid(format!("device `{device}` holds no model version yet; provision it first"))
            })?;
            let inventory = self.storage.latest_inventory(row.id)?.ok_or_else(|| {
                Refusal::invalid(format!(
                    "device `{device}` has reported no inventory; ask for one with `outfit inventory request {device}`"
                ))
            })?;
            let desired = self.storage.desired_components(applied)?;
            let found = drift::compare(&desired, &self.managed_packages(row.id)?, &inventory);
            for category in found.iter().filter_map(|d| d.category.as_deref()) {
                authorise(caller, site, Scope::Category(category), Action::Deploy)?;
            }
            let formats = |name: &str| inventory.packages.iter().find(|p| p.name == name).map(|p| p.format.clone());
            let plan = outfit_domain::plan::remedy(&desired, &found, formats);
            if plan.is_empty() {
                return Err(Refusal::new(
                    RefusalKind::Conflict,
                    format!("device `{device}` shows no drift in its latest inventory; nothing to remediate"),
                )
                .into());
            }
            self.storage.enqueue(row.id, None, &NewCommand::all(&plan, None))?;
            let detail = format!("{} commands queued for {} differences", plan.len(), found.len());
            Ok(((row.name, plan.len(), row.poke_url), detail))
        })?;
        let poked = self.poke(&name, url.as_deref());
        Ok(Queued { device: name, commands, poked })
    }

    /// The package names some version of the device's model had.
    fn managed_packages(&self, device: DeviceId) -> Result<std::collections::BTreeSet<String>, Failure> {
        Ok(self.storage.managed_packages(self.storage.device_model(device)?)?)
    }

    /// Adopts a changed configuration file into the model: a new version in
    /// which the component's template is what the device holds (or, for a
    /// change made through the access endpoint, that change's template and
    /// parameters), rolled out as `follow` says. Needs `change` on the
    /// component's category; anyone else is refused, and audited.
    pub fn promote_drift(
        &self,
        caller: &Caller,
        drift_id: i64,
        reason: Option<&str>,
        follow: Follow,
    ) -> Result<Changed, Failure> {
        let record = self.storage.drift(drift_id)?;
        let site = record.as_ref().map(|r| r.site.clone());
        let object = record
            .as_ref()
            .map_or(format!("drift {drift_id}"), |r| format!("drift {drift_id}: {} {}", r.device, r.drift.subject));
        let act = Act { action: "PromoteDrift", site: site.as_deref(), object };
        self.audited(caller, act, || {
            let record = record.clone().ok_or_else(|| Refusal::not_found("drift", &drift_id.to_string()))?;
            let (category, component) = match (&record.drift.kind, &record.drift.category, &record.drift.component) {
                (DriftKind::File, Some(category), Some(component)) => (category.clone(), component.clone()),
                _ => {
                    return Err(Refusal::invalid(format!(
                        "drift {drift_id} is a {} package, not a changed file: only files are promoted; \
                         remediate it instead (`outfit drift remediate {}`)",
                        record.drift.kind.as_str(),
                        record.device
                    ))
                    .into());
                }
            };
            authorise(caller, &record.site, Scope::Category(&category), Action::Change)?;
            if record.resolved_at.is_some() {
                return Err(Refusal::new(RefusalKind::Conflict, format!("drift {drift_id} is resolved already")).into());
            }
            let device = self.storage.device(&record.device)?.ok_or_else(|| unknown_device(&record.device))?;
            let inventory = self
                .storage
                .latest_inventory(device.id)?
                .ok_or_else(|| Refusal::invalid(format!("device `{}` has reported no inventory", record.device)))?;
            let adopted = adoption(&inventory, &record.drift).ok_or_else(|| {
                Refusal::invalid(format!(
                    "the latest inventory of `{}` carries no text of {} (binary, or too large to adopt)",
                    record.device, record.drift.subject
                ))
            })?;
            let (_, current) = self.storage.model_version(&record.site, &record.model, None)?;
            let mut model = Model {
                site: record.site.clone(),
                name: record.model.clone(),
                roles: self
                    .roles_of(device.applied.ok_or_else(|| Refusal::invalid("the device holds no model version"))?)?,
            };
            let target = model
                .roles
                .iter_mut()
                .filter(|r| r.category == category)
                .flat_map(|r| r.components.iter_mut())
                .find(|c| c.name == component)
                .ok_or_else(|| Refusal::not_found("component", &component))?;
            let config =
                target.config.as_mut().ok_or_else(|| Refusal::invalid("the component has no configuration file"))?;
            config.template = adopted.template;
            if let Some(parameters) = adopted.parameters {
                target.parameters = parameters;
            }
            let by = reason.map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "promoted from {} on {} (drift {drift_id}, over version {current})",
                    record.drift.subject, record.device
                )
            });
            let make = || Ok(self.storage.import_model(&model, &authorship(caller, Some(&by)))?);
            let (changed, detail) =
                self.change_model(caller, &record.site, &record.model, follow, make, |imported| {
                    format!("promoted into version {}", imported.version)
                })?;
            let resolution = match &changed.imported.proposed {
                Some(proposal) => format!("proposed to the site's home as {proposal}"),
                None => format!("promoted into version {}", changed.imported.version),
            };
            self.storage.resolve_drift(drift_id, &resolution)?;
            Ok((changed, detail))
        })
    }

    /// After an inventory: each change a person made through the access
    /// endpoint asking for promotion, whose file still differs from the
    /// model, is promoted as that person — if their rights allow it (the
    /// refusal is audited otherwise) — and rolled out.
    pub fn promote_requested(&self, device: &str, from: &str) {
        let query = DriftQuery { device: Some(device), history: false, limit: 1000, ..Default::default() };
        let Ok(open) = self.storage.drifts(&query) else { return };
        let Ok(Some(id)) = self.storage.device(device).map(|d| d.map(|d| d.id)) else { return };
        let Ok(Some(inventory)) = self.storage.latest_inventory(id) else { return };
        for record in open.iter().filter(|r| r.drift.kind == DriftKind::File) {
            let Some(author) = &record.changed_by else { continue };
            let asked =
                latest_change(&inventory, &record.drift.subject).is_some_and(|c| c.promote && c.operator == *author);
            if !asked {
                continue;
            }
            let Ok(Some(operator)) = self.storage.operator(author) else { continue };
            let Ok(rights) = self.storage.rights_of(operator.id) else { continue };
            let caller = Caller {
                principal: Principal::Operator { id: operator.id, name: operator.name, rights },
                from: format!("{from} (access endpoint of {device})"),
            };
            // The rollout follows if they may deploy the whole model; else the
            // version waits for someone who may (`outfit rollout start`).
            let follow = if caller.principal.may(&record.site, Scope::EveryCategory, Action::Deploy) {
                Follow::Rollout { start: true, policy: Default::default() }
            } else {
                Follow::Nothing
            };
            match self.promote_drift(&caller, record.id, None, follow) {
                Ok(changed) => {
                    tracing::info!(%device, %author, version = changed.imported.version, "local change promoted")
                }
                Err(e) => tracing::warn!(%device, %author, error = %e, "local change not promoted"),
            }
        }
    }
}

/// What a promotion puts into the model.
struct Adoption {
    template: String,
    /// A local change's parameters (`None`: keep the model's).
    parameters: Option<Vec<(String, String)>>,
}

/// The latest successful change through the access endpoint of `path`.
fn latest_change<'a>(inventory: &'a Inventory, path: &str) -> Option<&'a LocalChange> {
    inventory.changes.iter().filter(|c| c.path == path && c.outcome == "succeeded").max_by_key(|c| c.at_ms)
}

/// A changed file as the model should hold it: the person's change when one
/// made it through the access endpoint, else the file's text as it is.
fn adoption(inventory: &Inventory, drift: &Drift) -> Option<Adoption> {
    let file = inventory.files.iter().find(|f| f.path == drift.subject)?;
    if let Some(change) = latest_change(inventory, &drift.subject) {
        let mut parameters = change.parameters.clone();
        parameters.sort();
        return Some(Adoption { template: change.template.clone(), parameters: Some(parameters) });
    }
    Some(Adoption { template: drift::as_template(file.now.as_deref()?), parameters: None })
}
