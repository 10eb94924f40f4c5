//! The rollout driver every gateway runs: each round moves the devices of
//! every unfinished rollout by what their commands and inventories say,
//! then halts a rollout past its failure threshold, starts its next stage
//! once the earlier ones are done, or completes it.
//!
//! A round looks only at the devices that reported to this gateway since
//! the last one, so its cost follows what changed, not how many devices the
//! rollout holds; every few seconds (and whenever nobody reported, and
//! right after a stage starts) it looks at all of them, for what no report
//! announces: commands expired by the sweep, devices with nothing to change,
//! reports that reached another gateway.

use crate::rollouts::Planner;
use crate::{Failure, Services};
use outfit_domain::ids::{DeviceId, ModelVersionId, RolloutId};
use outfit_domain::queue::NewCommand;
use outfit_domain::rollout::{DeviceState, Rollout, RolloutState, StagePlan};
use outfit_domain::{now_ms, serving};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a round may look only at the devices that reported.
const FULL_EVERY: Duration = Duration::from_secs(5);

/// What the next round looks at: the devices that reported a result or an
/// inventory since the last round, and when every device is due.
#[derive(Debug, Default)]
pub struct Reports {
    inner: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    devices: HashSet<DeviceId>,
    /// `None`: the next round looks at every device.
    full_due: Option<Instant>,
}

impl Reports {
    /// A device's report was stored (called after its transaction commits).
    pub fn note(&self, device: DeviceId) {
        self.lock().devices.insert(device);
    }

    /// The devices the coming round refreshes (`None`: every device).
    fn take(&self) -> Option<Vec<DeviceId>> {
        let mut pending = self.lock();
        let devices = std::mem::take(&mut pending.devices);
        let now = Instant::now();
        if devices.is_empty() || pending.full_due.is_none_or(|due| now >= due) {
            pending.full_due = Some(now + FULL_EVERY);
            return None;
        }
        Some(devices.into_iter().collect())
    }

    fn full_next(&self) {
        self.lock().full_due = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Services {
    /// One round of the driver over every unfinished rollout. A failure is
    /// logged and retried on the next round. Returns how many rollouts are
    /// unfinished (1 if they could not be read).
    pub fn advance_rollouts(&self) -> usize {
        let only = self.reports.take();
        let ids = match self.storage.active_rollouts() {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the rollouts to advance");
                self.reports.full_next();
                return 1;
            }
        };
        let (unfinished, began) = (ids.len(), Instant::now());
        for id in ids {
            if let Err(e) = self.advance(id, only.as_deref()) {
                tracing::warn!(rollout = %id, error = %e, "could not advance a rollout");
                self.reports.full_next();
            }
        }
        if unfinished > 0 {
            let devices = only.as_ref().map_or(-1, |d| d.len() as i64);
            let took_ms = began.elapsed().as_millis();
            tracing::debug!(rollouts = unfinished, devices, took_ms, "rollout driver round (devices -1: all)");
        }
        unfinished
    }

    /// One round for one rollout, over the devices `only` (all when `None`).
    pub(crate) fn advance(&self, id: RolloutId, only: Option<&[DeviceId]>) -> Result<(), Failure> {
        // Devices move first, then the rollout and its tally are read once;
        // a round over reported devices that moved none changed nothing to read.
        let moved = self.storage.refresh_rollout(id, only)?;
        if only.is_some() && moved == 0 {
            return Ok(());
        }
        let Some(rollout) = self.storage.rollout(id)? else { return Ok(()) };
        if rollout.state != RolloutState::Running {
            return Ok(());
        }
        let (failed, started) = (rollout.tally.get(DeviceState::Failed), rollout.tally.started());
        if let Some(reason) = rollout.policy.halts(failed, started) {
            self.storage.move_rollout(id, &[RolloutState::Running], RolloutState::Halted, Some(&reason))?;
            tracing::warn!(rollout = %id, %reason, "rollout halted");
            return Ok(());
        }
        if rollout.open > 0 {
            return Ok(());
        }
        // A device added to the model meanwhile joins the next stage (looked
        // for only now: it is a scan of the model's devices).
        let rollout = match self.storage.join_rollout(id, rollout.model_id, rollout.stage + 1)? {
            0 => rollout,
            _ => self.rollout_now(id)?,
        };
        if rollout.stage + 1 >= rollout.stages {
            if self.storage.move_rollout(id, &[RolloutState::Running], RolloutState::Completed, None)? {
                tracing::info!(rollout = %id, "rollout completed");
            }
            return Ok(());
        }
        self.begin_stage(&rollout)
    }

    /// Queues the plans of the rollout's next stage and pokes the devices.
    fn begin_stage(&self, rollout: &Rollout) -> Result<(), Failure> {
        let began = Instant::now();
        let stage = rollout.stage + 1;
        let bases = self.storage.stage_bases(rollout.model_id, rollout.id, stage)?;
        let names: Vec<String> = bases.iter().map(|b| b.name.clone()).collect();
        let agents: HashMap<DeviceId, _> =
            self.storage.device_agents(None, &names)?.into_iter().map(|a| (a.id, a)).collect();
        let switching = self.storage.plugin_switches_queued(&bases.iter().map(|b| b.device).collect::<Vec<_>>())?;
        let expires_at = rollout.policy.expire_after_ms.map(|ms| now_ms() + ms);
        let mut planner = Planner::new(self, rollout.target)?;
        // Devices from the same version get the same commands: their rows
        // share one copy of each payload (a stage may be 25,000 devices).
        let mut queued: HashMap<Option<ModelVersionId>, Vec<NewCommand>> = HashMap::new();
        let mut plans = Vec::with_capacity(bases.len());
        for base in &bases {
            let payloads = planner.plan(base.base)?;
            let agent = agents.get(&base.device);
            let refused = agent
                .and_then(|a| serving::check(&base.name, &a.agent, switching.contains(&base.device), &payloads).err());
            let (state, commands, detail) = match refused {
                Some(refused) => (DeviceState::Failed, Vec::new(), Some(refused.to_string())),
                None if payloads.is_empty() => (DeviceState::Applied, Vec::new(), Some("nothing to change".to_owned())),
                None => {
                    let commands = queued.entry(base.base).or_insert_with(|| NewCommand::all(&payloads, expires_at));
                    (DeviceState::Queued, commands.clone(), None)
                }
            };
            plans.push(StagePlan { device: base.device, from: base.base, commands, state, detail });
        }
        if !self.storage.begin_stage(rollout.id, rollout.stage, rollout.target, &plans)? {
            return Ok(()); // another gateway started it
        }
        // Devices with nothing to change report nothing: the next round looks at all.
        self.reports.full_next();
        let ms = began.elapsed().as_millis();
        tracing::info!(rollout = %rollout.id, stage, devices = plans.len(), queued_in_ms = ms, "rollout stage started");
        for (base, plan) in bases.iter().zip(&plans) {
            if plan.state == DeviceState::Queued {
                self.poke(&base.name, base.poke_url.as_deref());
            }
        }
        Ok(())
    }
}
