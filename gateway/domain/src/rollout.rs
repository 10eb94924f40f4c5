//! Rollouts: a model version applied to every device of the model in stages
//! — a canary first, then batches — halting by itself when failures pass a
//! threshold. The decisions live here; the store keeps the state and the
//! use cases move it.
//!
//! **Invariant:** a stage starts only when every device of the earlier
//! stages is done (applied, converged, failed within the threshold, expired
//! or aborted), and a stage is started by one compare-and-set on the
//! rollout's stage, so two gateways never queue it twice.

use crate::ids::{DeviceId, ModelId, ModelVersionId, RolloutId};
use crate::queue::CommandState;

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    /// Made, not started (the operator asked to prepare it).
    Prepared,
    Running,
    /// The operator paused it: no new stage starts.
    Paused,
    /// Failures passed the threshold: no new stage starts until resumed.
    Halted,
    Completed,
    Aborted,
    /// A newer rollout of the same model replaced it.
    Superseded,
}

impl RolloutState {
    pub const ALL: [Self; 7] =
        [Self::Prepared, Self::Running, Self::Paused, Self::Halted, Self::Completed, Self::Aborted, Self::Superseded];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Prepared => "prepared",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Halted => "halted",
            Self::Completed => "completed",
            Self::Aborted => "aborted",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Not finished: at most one such rollout per model.
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Prepared | Self::Running | Self::Paused | Self::Halted)
    }
}

/// Where one device of a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceState {
    /// Its stage has not started.
    Waiting,
    /// Its plan is in its queue.
    Queued,
    /// Every command of its plan succeeded.
    Applied,
    /// Its inventory matches the target version.
    Converged,
    /// A command of its plan failed or timed out.
    Failed,
    /// Its commands expired before it came online.
    Expired,
    /// Aborted by an operator (the rollout, or the device's queue).
    Aborted,
}

impl DeviceState {
    pub const ALL: [Self; 7] =
        [Self::Waiting, Self::Queued, Self::Applied, Self::Converged, Self::Failed, Self::Expired, Self::Aborted];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Queued => "queued",
            Self::Applied => "applied",
            Self::Converged => "converged",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Aborted => "aborted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the device no longer holds its stage back: an applied device
    /// still waits for the inventory that shows it converged.
    pub const fn is_done(self) -> bool {
        !matches!(self, Self::Waiting | Self::Queued | Self::Applied)
    }

    /// What the states of a device's queued plan say of it; `None`: still
    /// under way. A failure decides first (the queue halts there).
    pub fn of_commands(states: &[CommandState]) -> Option<Self> {
        use CommandState as C;
        if states.iter().any(|s| matches!(s, C::Failed | C::TimedOut)) {
            return Some(Self::Failed);
        }
        if states.iter().any(|s| matches!(s, C::Pending | C::Sent | C::Rebooting)) {
            return None;
        }
        Some(if states.iter().all(|s| matches!(s, C::Succeeded | C::Skipped)) {
            Self::Applied
        } else if states.contains(&C::Expired) {
            Self::Expired
        } else {
            Self::Aborted
        })
    }
}

/// How a rollout goes, once defaults are filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Devices of the first stage.
    pub canary: i32,
    /// Devices per later stage.
    pub batch_size: i32,
    /// Halts when more devices than this failed.
    pub max_failures: i32,
    /// Or when more than this percent of the devices started failed.
    pub max_failure_percent: Option<i32>,
    /// Offline devices: their commands expire this long after their stage
    /// starts (`None`: they wait).
    pub expire_after_ms: Option<i64>,
}

/// What an operator asked for; `None` takes the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyRequest {
    pub canary: Option<i32>,
    pub batch_size: Option<i32>,
    pub max_failures: Option<i32>,
    pub max_failure_percent: Option<i32>,
    pub expire_after_ms: Option<i64>,
}

impl Policy {
    /// The policy for `devices` devices: one canary, batches of a quarter of
    /// the devices (at least one), the first failure halts, offline devices wait.
    pub fn for_devices(devices: usize, asked: PolicyRequest) -> Result<Self, String> {
        let quarter = i32::try_from(devices.div_ceil(4)).unwrap_or(i32::MAX).max(1);
        let policy = Self {
            canary: asked.canary.unwrap_or(1),
            batch_size: asked.batch_size.unwrap_or(quarter),
            max_failures: asked.max_failures.unwrap_or(0),
            max_failure_percent: asked.max_failure_percent,
            expire_after_ms: asked.expire_after_ms,
        };
        if policy.canary < 0 {
            return Err("the canary is a number of devices, 0 or more".into());
        }
        if policy.batch_size < 1 {
            return Err("a batch holds at least one device".into());
        }
        if policy.max_failures < 0 {
            return Err("the failures allowed are 0 or more".into());
        }
        if policy.max_failure_percent.is_some_and(|p| !(0..=100).contains(&p)) {
            return Err("the failure percentage is between 0 and 100".into());
        }
        if policy.expire_after_ms.is_some_and(|ms| ms <= 0) {
            return Err("offline devices expire after a positive time".into());
        }
        Ok(policy)
    }

    /// The stage of the device at `position` (0-based, devices by name).
    pub fn stage_of(&self, position: usize) -> i32 {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        if position < self.canary { 0 } else { 1 + (position - self.canary) / self.batch_size }
    }

    /// How many stages `devices` devices make.
    pub fn stages(&self, devices: usize) -> i32 {
        if devices == 0 { 0 } else { self.stage_of(devices - 1) + 1 }
    }

    /// Why a rollout with `failed` failed devices out of `started` must halt, if it must.
    pub fn halts(&self, failed: i32, started: i32) -> Option<String> {
        if failed > self.max_failures {
            return Some(format!(
                "{failed} of {started} devices started failed; at most {} may fail",
                self.max_failures
            ));
        }
        if let Some(percent) = self.max_failure_percent
            && started > 0
            && i64::from(failed) * 100 > i64::from(percent) * i64::from(started)
        {
            return Some(format!("{failed} of {started} devices started failed, more than {percent} %"));
        }
        None
    }
}

/// The version a device's next plan starts from: what its queue was last
/// built to (`desired`, once anything was queued toward it), unless part of
/// that was skipped, aborted or expired — then what it last reached
/// (`applied`; `None`: a bare device).
pub fn plan_base(
    applied: Option<ModelVersionId>,
    desired: Option<ModelVersionId>,
    queued: bool,
    left_undone: bool,
) -> Option<ModelVersionId> {
    if queued && !left_undone { desired.or(applied) } else { applied }
}

/// How many devices of a rollout are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally(pub [i32; 7]);

impl Tally {
    pub fn get(&self, state: DeviceState) -> i32 {
        self.0[DeviceState::ALL.iter().position(|s| *s == state).expect("listed")]
    }

    pub fn add(&mut self, state: DeviceState, n: i32) {
        self.0[DeviceState::ALL.iter().position(|s| *s == state).expect("listed")] += n;
    }

    pub fn total(&self) -> i32 {
        self.0.iter().sum()
    }

    /// Devices whose plan was queued (every device but the waiting ones).
    pub fn started(&self) -> i32 {
        self.total() - self.get(DeviceState::Waiting)
    }
}

/// A rollout as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub id: RolloutId,
    pub site: String,
    pub model: String,
    pub model_id: ModelId,
    pub target: ModelVersionId,
    /// The target's version number.
    pub version: i32,
    pub state: RolloutState,
    pub policy: Policy,
    /// The stage under way: 0 the canary, 1.. the batches; -1 not started.
    pub stage: i32,
    /// How many stages its devices make.
    pub stages: i32,
    pub halt_reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub tally: Tally,
    /// Devices of the stages up to `stage` not done yet: the next stage
    /// starts when none is left.
    pub open: i32,
}

/// One device of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub device: DeviceId,
    pub name: String,
    pub stage: i32,
    pub state: DeviceState,
    /// Where its plan starts (`None`: a bare device), and that version's number.
    pub from: Option<(ModelVersionId, i32)>,
    pub commands: i32,
    pub detail: Option<String>,
}

/// A device of a model, and where its next plan starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBase {
    pub device: DeviceId,
    pub name: String,
    pub poke_url: Option<String>,
    pub base: Option<ModelVersionId>,
}

/// What a stage does for one device: its plan queued, or nothing to do, or
/// refused (its agent cannot serve it).
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    pub device: DeviceId,
    pub from: Option<ModelVersionId>,
    pub commands: Vec<crate::queue::NewCommand>,
    /// `Queued` when there are commands; `Applied` or `Failed` otherwise.
    pub state: DeviceState,
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use CommandState as C;

    #[test]
    fn a_canary_then_batches() {
        let policy = Policy::for_devices(5, PolicyRequest { batch_size: Some(2), ..Default::default() }).unwrap();
        let stages: Vec<i32> = (0..5).map(|i| policy.stage_of(i)).collect();
        assert_eq!(stages, [0, 1, 1, 2, 2]);
        assert_eq!(policy.stages(5), 3);
        let default = Policy::for_devices(10, PolicyRequest::default()).unwrap();
        assert_eq!((default.canary, default.batch_size, default.max_failures), (1, 3, 0));
        assert!(Policy::for_devices(3, PolicyRequest { batch_size: Some(0), ..Default::default() }).is_err());
    }

    #[test]
    fn failures_past_the_count_or_the_percentage_halt() {
        let policy = Policy::for_devices(10, PolicyRequest::default()).unwrap();
        assert_eq!(policy.halts(0, 1), None);
        assert!(policy.halts(1, 1).unwrap().contains("1 of 1 devices started failed"));
        let lenient = Policy::for_devices(
            10,
            PolicyRequest { max_failures: Some(5), max_failure_percent: Some(20), ..Default::default() },
        )
        .unwrap();
        assert_eq!(lenient.halts(1, 5), None);
        assert!(lenient.halts(2, 5).unwrap().contains("more than 20 %"));
    }

    #[test]
    fn a_plan_is_applied_only_when_every_command_succeeded() {
        assert_eq!(DeviceState::of_commands(&[C::Succeeded, C::Pending]), None);
        assert_eq!(DeviceState::of_commands(&[C::Succeeded, C::Succeeded]), Some(DeviceState::Applied));
        assert_eq!(DeviceState::of_commands(&[C::Failed, C::Pending]), Some(DeviceState::Failed));
        assert_eq!(DeviceState::of_commands(&[C::Expired, C::Expired]), Some(DeviceState::Expired));
        assert_eq!(DeviceState::of_commands(&[C::Succeeded, C::Aborted]), Some(DeviceState::Aborted));
        assert_eq!(DeviceState::of_commands(&[]), Some(DeviceState::Applied));
    }

    #[test]
    fn a_plan_starts_where_the_queue_leads_unless_it_was_left_undone() {
        let (v1, v2) = (Some(ModelVersionId(1)), Some(ModelVersionId(2)));
        assert_eq!(plan_base(v1, v2, true, false), v2);
        assert_eq!(plan_base(v1, v2, true, true), v1);
        // Registered with its model's version in mind, nothing queued yet: bare.
        assert_eq!(plan_base(None, v2, false, false), None);
    }
}
