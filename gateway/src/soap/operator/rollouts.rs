//! Rollouts: `PlanRollout` (the dry run), `StartRollout`, `ListRollouts`,
//! `ShowRollout`, `SteerRollout`.

use super::iso8601;
use outfit_app::rollouts::{Follow, Steer};
use outfit_app::{Failure, Services};
use outfit_domain::ids::RolloutId;
use outfit_domain::rights::Caller;
use outfit_domain::rollout::{DeviceState, PolicyRequest, Rollout};
use outfit_wsdl::operator as wire;

/// A policy as the contract carries it.
fn policy(p: &wire::RolloutPolicy) -> PolicyRequest {
    PolicyRequest {
        canary: p.canary,
        batch_size: p.batch_size,
        max_failures: p.max_failures,
        max_failure_percent: p.max_failure_percent,
        expire_after_ms: p.expire_after_seconds.map(|s| s.saturating_mul(1000)),
    }
}

/// What a model change asks to follow it.
pub fn follow(rollout: Option<wire::RolloutPolicy>) -> Follow {
    rollout.map_or(Follow::Nothing, |p| Follow::Rollout { start: p.start, policy: policy(&p) })
}

fn info(r: Rollout) -> wire::RolloutInfo {
    let count = |state| r.tally.get(state);
    wire::RolloutInfo {
        id: r.id.0,
        version: r.version,
        state: r.state.as_str().to_owned(),
        stage: r.stage,
        stages: r.stages,
        canary: r.policy.canary,
        batch_size: r.policy.batch_size,
        max_failures: r.policy.max_failures,
        max_failure_percent: r.policy.max_failure_percent,
        expire_after_seconds: r.policy.expire_after_ms.map(|ms| ms / 1000),
        halt_reason: r.halt_reason.clone(),
        created_by: r.created_by.clone(),
        created_at: iso8601(r.created_at),
        devices: r.tally.total(),
        waiting: count(DeviceState::Waiting),
        queued: count(DeviceState::Queued),
        applied: count(DeviceState::Applied),
        converged: count(DeviceState::Converged),
        failed: count(DeviceState::Failed),
        expired: count(DeviceState::Expired),
        aborted: count(DeviceState::Aborted),
        site: r.site,
        model: r.model,
    }
}

pub fn plan(s: &Services, caller: &Caller, m: wire::PlanRollout) -> Result<wire::PlanRolloutResponse, Failure> {
    let (version, groups) = s.plan_rollout(caller, &m.site, &m.model, m.version)?;
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let devices = count(groups.iter().map(|g| g.devices.len()).sum());
    let group = groups
        .into_iter()
        .map(|g| wire::PlanGroup {
            from_version: g.from.map(|(_, number)| number),
            devices: count(g.devices.len()),
            command: g
                .commands
                .iter()
                .map(|c| wire::PlannedCommand {
                    kind: c.kind().to_owned(),
                    component: c.component().map(str::to_owned),
                    summary: c.summary(),
                })
                .collect(),
            device: g.devices,
        })
        .collect();
    Ok(wire::PlanRolloutResponse { version, devices, group })
}

pub fn start(s: &Services, caller: &Caller, m: wire::StartRollout) -> Result<wire::StartRolloutResponse, Failure> {
    let asked = m.policy.unwrap_or(wire::RolloutPolicy { start: true, ..Default::default() });
    let rollout = s.start_rollout(caller, &m.site, &m.model, m.version, asked.start, policy(&asked))?;
    Ok(wire::StartRolloutResponse { rollout: info(rollout) })
}

pub fn list(s: &Services, caller: &Caller, m: wire::ListRollouts) -> Result<wire::ListRolloutsResponse, Failure> {
    let rollout = s.rollouts(caller, &m.site, m.model.as_deref())?.into_iter().map(info).collect();
    Ok(wire::ListRolloutsResponse { rollout })
}

pub fn show(s: &Services, caller: &Caller, m: wire::ShowRollout) -> Result<wire::ShowRolloutResponse, Failure> {
    let (rollout, members) = s.show_rollout(caller, RolloutId(m.rollout))?;
    let device = members
        .into_iter()
        .map(|d| wire::RolloutDevice {
            device: d.name,
            stage: d.stage,
            state: d.state.as_str().to_owned(),
            from_version: d.from.map(|(_, number)| number),
            commands: d.commands,
            detail: d.detail,
        })
        .collect();
    Ok(wire::ShowRolloutResponse { rollout: info(rollout), device })
}

pub fn steer(s: &Services, caller: &Caller, m: wire::SteerRollout) -> Result<wire::SteerRolloutResponse, Failure> {
    let object = format!("rollout {}", m.rollout);
    let steer = super::input(s, caller, "SteerRollout", None, &object, Steer::parse(m.action.trim()))?;
    Ok(wire::SteerRolloutResponse { rollout: info(s.steer_rollout(caller, RolloutId(m.rollout), steer)?) })
}
