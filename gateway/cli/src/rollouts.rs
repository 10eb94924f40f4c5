//! `outfit rollout …`: the dry run, starting and steering rollouts, and
//! following one (`--wait`) until it completes or halts.

use crate::args::{PolicyArgs, RolloutCmd, Wait};
use crate::client::Client;
use crate::failure::{CliError, Exit};
use crate::output::{or_dash, show, table};
use indicatif::{ProgressBar, ProgressStyle};
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};
use std::time::{Duration, Instant};

/// A policy as the contract carries it (`start` set by the caller).
pub fn policy(p: &PolicyArgs) -> wire::RolloutPolicy {
    wire::RolloutPolicy {
        start: true,
        canary: p.canary,
        batch_size: p.batch,
        max_failures: p.max_failures,
        max_failure_percent: p.max_failure_percent,
        expire_after_seconds: p.expire_after,
    }
}

/// Devices no longer under way.
fn done(r: &wire::RolloutInfo) -> i32 {
    r.applied + r.converged + r.failed + r.expired + r.aborted
}

fn summary(r: &wire::RolloutInfo) {
    let stage = if r.stage < 0 { "not started".to_owned() } else { format!("stage {} of {}", r.stage + 1, r.stages) };
    println!(
        "rollout {} of {}/{} version {}: {} ({stage}); {} devices: {} applied, {} converged, {} queued, {} waiting, \
         {} failed, {} expired, {} aborted",
        r.id,
        r.site,
        r.model,
        r.version,
        r.state,
        r.devices,
        r.applied,
        r.converged,
        r.queued,
        r.waiting,
        r.failed,
        r.expired,
        r.aborted
    );
    if let Some(reason) = &r.halt_reason {
        println!("halted: {reason}");
    }
}

/// How many device names a dry run's group shows as text (`--json` has all).
const NAMES_SHOWN: usize = 10;

/// One group of the dry run: where its devices start, which they are, and
/// their commands.
fn plan_group(g: &wire::PlanGroup) {
    let from = g.from_version.map_or_else(|| "bare".to_owned(), |v| format!("from version {v}"));
    let mut names = g.device.iter().take(NAMES_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if g.device.len() > NAMES_SHOWN {
        names.push_str(&format!(" and {} more", g.device.len() - NAMES_SHOWN));
    }
    let what = if g.command.is_empty() { ": nothing to do" } else { "" };
    println!("\n{from}: {} device(s) ({names}){what}", g.devices);
    for (i, c) in g.command.iter().enumerate() {
        println!("  {}. {}", i + 1, c.summary);
    }
}

pub fn rollout(client: &Client, command: RolloutCmd, json: bool) -> Result<(), CliError> {
    match command {
        RolloutCmd::Plan { model, site, version } => {
            let r = call!(client, PlanRollout(wire::PlanRollout { site, model, version }));
            show(json, &r, |r| {
                println!("plan to version {} for {} devices (dry run: nothing was changed)", r.version, r.devices);
                for group in &r.group {
                    plan_group(group);
                }
            });
        }
        RolloutCmd::Start { model, site, version, prepare, policy: asked, wait } => {
            let policy = wire::RolloutPolicy { start: !prepare, ..policy(&asked) };
            let r = call!(client, StartRollout(wire::StartRollout { site, model, version, policy: Some(policy) }));
            // With --json and --wait, one document: the rollout as it ended.
            if wait.wait && !prepare {
                if !json {
                    summary(&r.rollout);
                }
                follow(client, r.rollout.id, &wait, json)?;
            } else {
                show(json, &r, |r| summary(&r.rollout));
            }
        }
        RolloutCmd::List { site, model } => {
            let r = call!(client, ListRollouts(wire::ListRollouts { site, model }));
            show(json, &r, |r| {
                let rows = r.rollout.iter().map(|r| {
                    vec![
                        r.id.to_string(),
                        r.model.clone(),
                        r.version.to_string(),
                        r.state.clone(),
                        format!("{}/{}", done(r), r.devices),
                        r.failed.to_string(),
                        r.created_by.clone(),
                        r.created_at.clone(),
                    ]
                });
                table(&["id", "model", "version", "state", "done", "failed", "by", "made"], rows);
            });
        }
        RolloutCmd::Show { rollout } => {
            let r = call!(client, ShowRollout(wire::ShowRollout { rollout }));
            show(json, &r, |r| {
                summary(&r.rollout);
                let rows = r.device.iter().map(|d| {
                    vec![
                        d.device.clone(),
                        d.stage.to_string(),
                        d.state.clone(),
                        d.from_version.map_or_else(|| "bare".to_owned(), |v| v.to_string()),
                        d.commands.to_string(),
                        or_dash(&d.detail),
                    ]
                });
                table(&["device", "stage", "state", "from", "commands", "detail"], rows);
            });
        }
        RolloutCmd::Pause { rollout } => steer(client, rollout, "pause", None, json)?,
        RolloutCmd::Resume { rollout, wait } => steer(client, rollout, "resume", Some(&wait), json)?,
        RolloutCmd::Abort { rollout } => steer(client, rollout, "abort", None, json)?,
    }
    Ok(())
}

fn steer(client: &Client, rollout: i64, action: &str, wait: Option<&Wait>, json: bool) -> Result<(), CliError> {
    let r = call!(client, SteerRollout(wire::SteerRollout { rollout, action: action.to_owned() }));
    match wait {
        Some(wait) if wait.wait => {
            if !json {
                summary(&r.rollout);
            }
            follow(client, rollout, wait, json)
        }
        _ => {
            show(json, &r, |r| summary(&r.rollout));
            Ok(())
        }
    }
}

/// Follows a rollout until it is no longer running and prints it as it
/// ended (`ShowRollout`): completed is success; halted, paused, aborted or
/// superseded is exit code 9, as is running out of time.
fn follow(client: &Client, rollout: i64, wait: &Wait, json: bool) -> Result<(), CliError> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("rollout {prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(rollout.to_string());
    if json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let deadline = Instant::now() + Duration::from_secs(wait.timeout);
    loop {
        let r = call!(client, ShowRollout(wire::ShowRollout { rollout }));
        let info = &r.rollout;
        bar.set_length(info.devices.max(0) as u64);
        bar.set_position(done(info).max(0) as u64);
        bar.set_message(format!("{} (stage {} of {})", info.state, info.stage + 1, info.stages));
        match info.state.as_str() {
            "running" => {}
            "completed" => {
                bar.finish_and_clear();
                show(json, &r, |r| summary(&r.rollout));
                return Ok(());
            }
            state => {
                bar.finish_and_clear();
                show(json, &r, |r| summary(&r.rollout));
                let why = info.halt_reason.clone().map_or_else(String::new, |r| format!(": {r}"));
                return Err(CliError::new(Exit::Halted, format!("rollout {rollout} is {state}{why}")).help(format!(
                    "see `outfit rollout show {rollout}`; go on with `outfit rollout resume {rollout}`"
                )));
            }
        }
        if Instant::now() >= deadline {
            bar.finish_and_clear();
            return Err(CliError::new(Exit::Halted, format!("rollout {rollout} still running after the timeout"))
                .help(format!("follow it with `outfit rollout show {rollout}`")));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}
