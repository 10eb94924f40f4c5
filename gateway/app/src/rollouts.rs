//! Rollouts: the dry run (every device's plan, nothing changed), starting a
//! rollout (a canary, then batches), steering it (start, pause, resume,
//! abort). The driver that moves them on is `driver`.

use crate::audit::{Act, authorise};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::command::Payload;
use outfit_domain::ids::{ModelId, ModelVersionId, RolloutId};
use outfit_domain::model::DesiredComponent;
use outfit_domain::plan;
use outfit_domain::rights::{Action, Caller, Scope};
use outfit_domain::rollout::{Member, Policy, PolicyRequest, Rollout, RolloutState};
use outfit_store::NewRollout;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// What follows a new model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Follow {
    /// Nothing: the version waits for a rollout.
    #[default]
    Nothing,
    /// A rollout to every device of the model, started or only prepared.
    Rollout { start: bool, policy: PolicyRequest },
}

/// What an operator does to a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    Start,
    Pause,
    Resume,
    Abort,
}

impl Steer {
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        match text {
            "start" => Ok(Self::Start),
            "pause" => Ok(Self::Pause),
            "resume" => Ok(Self::Resume),
            "abort" => Ok(Self::Abort),
            other => Err(Refusal::invalid(format!("`{other}` is not start, pause, resume or abort"))),
        }
    }
}

/// The devices that start from one version, as the dry run shows them: each
/// of them runs the same commands.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanGroup {
    /// Where they start: the version's row and number (`None`: bare devices,
    /// or devices whose last provisioning did not finish).
    pub from: Option<(ModelVersionId, i32)>,
    pub commands: Arc<[Payload]>,
    /// Their names, in order.
    pub devices: Vec<String>,
}

/// Plans toward one target, once per version devices start from: a fleet
/// holds few versions, and its devices share their version's plan.
pub(crate) struct Planner<'a> {
    services: &'a Services,
    target: Vec<DesiredComponent>,
    plans: HashMap<Option<ModelVersionId>, Arc<[Payload]>>,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(services: &'a Services, target: ModelVersionId) -> Result<Self, Failure> {
        Ok(Self { services, target: services.storage.desired_components(target)?, plans: HashMap::new() })
    }

    pub(crate) fn plan(&mut self, base: Option<ModelVersionId>) -> Result<Arc<[Payload]>, Failure> {
        if let Some(plan) = self.plans.get(&base) {
            return Ok(plan.clone());
        }
        let components = match base {
            Some(version) => self.services.storage.desired_components(version)?,
            None => Vec::new(),
        };
        let plan: Arc<[Payload]> = plan::between(&components, &self.target).into();
        self.plans.insert(base, plan.clone());
        Ok(plan)
    }
}

pub(crate) fn unknown_rollout(id: RolloutId) -> Failure {
    Refusal::new(RefusalKind::NotFound, format!("no rollout {id}")).into()
}

impl Services {
    /// Refuses unless `caller` may deploy every category of `versions`.
    fn authorise_deploy(&self, caller: &Caller, site: &str, versions: &[ModelVersionId]) -> Result<(), Failure> {
        let mut categories = BTreeSet::new();
        for version in versions {
            categories.extend(self.storage.version_roles(*version)?.into_iter().map(|(c, _)| c));
        }
        for category in &categories {
            authorise(caller, site, Scope::Category(category), Action::Deploy)?;
        }
        Ok(())
    }

    /// The dry run: the exact commands each device would run from where it
    /// is to version `version` (`None`: the current one), grouped by where
    /// the devices start (bare first, then by version). Changes nothing.
    pub fn plan_rollout(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        version: Option<i32>,
    ) -> Result<(i32, Vec<PlanGroup>), Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        let (target, number) = self.storage.model_version(site, model, version)?;
        let bases = self.storage.plan_bases(self.storage.model(site, model)?)?;
        let mut planner = Planner::new(self, target)?;
        let numbers = self.version_numbers(site, model)?;
        let mut groups: BTreeMap<Option<ModelVersionId>, PlanGroup> = BTreeMap::new();
        for base in bases {
            let group = match groups.entry(base.base) {
                Entry::Occupied(group) => group.into_mut(),
                Entry::Vacant(vacant) => vacant.insert(PlanGroup {
                    from: base.base.map(|v| (v, numbers.get(&v).copied().unwrap_or_default())),
                    commands: planner.plan(base.base)?,
                    devices: Vec::new(),
                }),
            };
            group.devices.push(base.name);
        }
        Ok((number, groups.into_values().collect()))
    }

    fn version_numbers(&self, site: &str, model: &str) -> Result<HashMap<ModelVersionId, i32>, Failure> {
        Ok(self.storage.model_versions(site, model)?.into_iter().map(|v| (v.id, v.version)).collect())
    }

    /// Starts (or prepares) a rollout of version `version` (`None`: the
    /// current one) to every device of the model, superseding an unfinished
    /// one. Needs `deploy` on every category of the target and of the
    /// versions the devices hold.
    pub fn start_rollout(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        version: Option<i32>,
        start: bool,
        policy: PolicyRequest,
    ) -> Result<Rollout, Failure> {
        let act = Act { action: "StartRollout", site: Some(site), object: model.to_owned() };
        let id = self.audited(caller, act, || {
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
            let (target, number) = self.storage.model_version(site, model, version)?;
            let id = self.begin_rollout(caller, site, model, target, start, policy)?;
            let verb = if start { "started" } else { "prepared" };
            Ok((id, format!("rollout {id} of version {number} {verb}")))
        })?;
        self.rollout_now(id)
    }

    /// Creates a rollout after authorising `deploy` (the caller audits), and
    /// starts its first stage at once if asked to.
    pub(crate) fn begin_rollout(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        target: ModelVersionId,
        start: bool,
        policy: PolicyRequest,
    ) -> Result<RolloutId, Failure> {
        let model_id = self.storage.model(site, model)?;
        let bases = self.storage.plan_bases(model_id)?;
        let mut versions: Vec<ModelVersionId> = bases.iter().filter_map(|b| b.base).collect();
        versions.push(target);
        versions.sort();
        versions.dedup();
        self.authorise_deploy(caller, site, &versions)?;
        let policy = Policy::for_devices(bases.len(), policy).map_err(Refusal::invalid)?;
        let devices = bases.iter().enumerate().map(|(i, b)| (b.device, b.base, policy.stage_of(i))).collect();
        let new = NewRollout { model: model_id, target, policy, created_by: caller.principal.name(), start, devices };
        let id = self.storage.create_rollout(&new)?;
        if start {
            self.advance(id, None)?;
        }
        Ok(id)
    }

    /// The rollouts of a site (of one model), newest first.
    pub fn rollouts(&self, caller: &Caller, site: &str, model: Option<&str>) -> Result<Vec<Rollout>, Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        Ok(self.storage.rollouts(site, model)?)
    }

    /// A rollout and each of its devices.
    pub fn show_rollout(&self, caller: &Caller, id: RolloutId) -> Result<(Rollout, Vec<Member>), Failure> {
        let rollout = self.storage.rollout(id)?.ok_or_else(|| unknown_rollout(id))?;
        authorise(caller, &rollout.site, Scope::SomeCategory, Action::Read)?;
        Ok((rollout, self.storage.rollout_members(id)?))
    }

    pub(crate) fn rollout_now(&self, id: RolloutId) -> Result<Rollout, Failure> {
        self.storage.rollout(id)?.ok_or_else(|| unknown_rollout(id))
    }

    /// Starts a prepared rollout, pauses a running one, resumes a prepared,
    /// paused or halted one (a halted one's failed commands are handed out again), or
    /// aborts one (its commands not handed out yet are aborted).
    pub fn steer_rollout(&self, caller: &Caller, id: RolloutId, steer: Steer) -> Result<Rollout, Failure> {
        use RolloutState as S;
        let known = self.storage.rollout(id)?;
        let site = known.as_ref().map(|r| r.site.clone());
        let object = format!("rollout {id} {steer:?}").to_lowercase();
        let act = Act { action: "SteerRollout", site: site.as_deref(), object };
        let retried = self.audited(caller, act, || {
            let rollout = known.clone().ok_or_else(|| unknown_rollout(id))?;
            let mut versions = vec![rollout.target];
            versions.extend(self.storage.rollout_members(id)?.iter().filter_map(|m| m.from.map(|(v, _)| v)));
            versions.sort();
            versions.dedup();
            self.authorise_deploy(caller, &rollout.site, &versions)?;
            let (from, to): (&[S], S) = match steer {
                Steer::Start => (&[S::Prepared], S::Running),
                Steer::Pause => (&[S::Running], S::Paused),
                Steer::Resume => (&[S::Prepared, S::Paused, S::Halted], S::Running),
                Steer::Abort => (&[S::Prepared, S::Running, S::Paused, S::Halted], S::Aborted),
            };
            if !self.storage.move_rollout(id, from, to, None)? {
                return Err(Refusal::new(
                    RefusalKind::Conflict,
                    format!("rollout {id} is {}; it cannot be {}", rollout.state.as_str(), steered(steer)),
                )
                .into());
            }
            let mut retried = Vec::new();
            let detail = match steer {
                Steer::Resume if rollout.state == S::Halted => {
                    retried = self.storage.retry_rollout_failures(id)?;
                    format!("resumed; {} failed devices retried", retried.len())
                }
                Steer::Abort => {
                    format!("aborted; {} queued commands aborted", self.storage.abort_rollout_commands(id)?)
                }
                _ => steered(steer).to_owned(),
            };
            Ok((retried, detail))
        })?;
        if matches!(steer, Steer::Start | Steer::Resume) {
            self.advance(id, None)?;
        }
        for (device, url) in &retried {
            self.poke(device, url.as_deref());
        }
        self.rollout_now(id)
    }

    /// After a model change: the rollout `follow` asks for, once `deploy` is
    /// authorised (the change's use case audits). `None`: none asked for, or
    /// the version did not change.
    pub(crate) fn follow(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        created: Option<ModelVersionId>,
        follow: Follow,
    ) -> Result<Option<RolloutId>, Failure> {
        match (follow, created) {
            (Follow::Rollout { start, policy }, Some(target)) => {
                Ok(Some(self.begin_rollout(caller, site, model, target, start, policy)?))
            }
            _ => Ok(None),
        }
    }

    /// Refuses a model change that asks for a rollout the caller may not
    /// deploy, before the version is made.
    pub(crate) fn may_follow(
        &self,
        caller: &Caller,
        site: &str,
        model: ModelId,
        follow: Follow,
    ) -> Result<(), Failure> {
        if follow == Follow::Nothing {
            return Ok(());
        }
        authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
        if let Some(current) = self.storage.current_model_version(model)? {
            self.authorise_deploy(caller, site, &[current])?;
        }
        Ok(())
    }
}

fn steered(steer: Steer) -> &'static str {
    match steer {
        Steer::Start => "started",
        Steer::Pause => "paused",
        Steer::Resume => "resumed",
        Steer::Abort => "aborted",
    }
}
