//! Models over time under `outfit-gateway bench --rollout`: the dry run of
//! the bench model for every device, a rollout that builds every device from
//! bare, a parameter change rolled out from the operator's call to the last
//! device converged, and inventory reports ingested per second.
//!
//! The simulated agents run nothing: they report success, then an inventory
//! that holds what the model asks for (the bench package, its file as
//! written). The gateway pokes them as it pokes real agents (`pokes.rs`);
//! the bench only watches the rollout's state in the short listing.

use super::SimulatedAgent;
use super::operator::Operator;
use anyhow::{Context, Result, ensure};
use outfit_wsdl::operator::{
    ListRollouts, OperatorRequest as Q, OperatorResponse as R, PlanRollout, RolloutPolicy, SetParameter, StartRollout,
};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Median and range of `runs`, in seconds.
fn spread(mut runs: Vec<Duration>) -> String {
    runs.sort();
    format!(
        "median {:.3}s (range {:.3}–{:.3}s, {} runs)",
        seconds(runs[runs.len() / 2]),
        seconds(runs[0]),
        seconds(runs[runs.len() - 1]),
        runs.len()
    )
}

fn policy(devices: usize) -> RolloutPolicy {
    RolloutPolicy {
        start: true,
        canary: Some(1),
        batch_size: Some(i32::try_from(devices.div_ceil(4)).unwrap_or(i32::MAX).max(1)),
        ..RolloutPolicy::default()
    }
}

/// Waits until the rollout is no longer running (its agents, poked by the
/// gateway, converge meanwhile); returns its final state. Reads the short
/// listing, not the rollout's ten thousand devices.
async fn follow(operator: &Operator, rollout: i64, agents: &mut JoinSet<Result<()>>) -> Result<String> {
    loop {
        if let Some(ended) = agents.try_join_next() {
            ended??;
            anyhow::bail!("a simulated agent stopped serving pokes");
        }
        let list = Q::ListRollouts(ListRollouts { site: "bench".into(), model: Some("bench".into()) });
        let R::ListRollouts(listed) = operator.ask(list).await? else {
            anyhow::bail!("ListRollouts answered otherwise")
        };
        let state = listed.rollout.iter().find(|r| r.id == rollout).context("the rollout is not listed")?.state.clone();
        if state != "running" {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn run(dir: &Path, ca: &Path, agents: &[Arc<SimulatedAgent>]) -> Result<()> {
    let operator = Operator::admin(dir, ca)?;
    let n = agents.len();
    let mut running = JoinSet::new();
    for agent in agents {
        running.spawn(agent.clone().serve_pokes());
    }
    println!("models over time, {n} devices:");

    let plan = || Q::PlanRollout(PlanRollout { site: "bench".into(), model: "bench".into(), version: None });
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let R::PlanRollout(planned) = operator.ask(plan()).await? else { anyhow::bail!("PlanRollout") };
        runs.push(started.elapsed());
        let listed: usize = planned.group.iter().map(|g| g.device.len()).sum();
        ensure!(listed == n, "the dry run planned {listed} devices of {n}");
    }
    println!("  dry run (PlanRollout, every device's plan): {}", spread(runs));

    let started = Instant::now();
    let start = StartRollout { site: "bench".into(), model: "bench".into(), version: None, policy: Some(policy(n)) };
    let R::StartRollout(build) = operator.ask(Q::StartRollout(start)).await? else { anyhow::bail!("StartRollout") };
    let state = follow(&operator, build.rollout.id, &mut running).await?;
    ensure!(state == "completed", "the build rollout ended {state}");
    println!(
        "  rollout from bare (install + configure, canary then batches of {}): {:.2}s",
        n.div_ceil(4),
        seconds(started.elapsed())
    );

    let started = Instant::now();
    let change = SetParameter {
        site: "bench".into(),
        model: "bench".into(),
        category: "OS".into(),
        component: "bench".into(),
        name: "n".into(),
        value: format!("rollout-{}", std::process::id()),
        reason: Some("bench".into()),
        rollout: Some(policy(n)),
    };
    let R::SetParameter(set) = operator.ask(Q::SetParameter(change)).await? else { anyhow::bail!("SetParameter") };
    let rollout = set.rollout.context("SetParameter started no rollout")?;
    let state = follow(&operator, rollout, &mut running).await?;
    ensure!(state == "completed", "the parameter's rollout ended {state}");
    println!(
        "  a parameter change, from the operator's call to the last device converged: {:.2}s",
        seconds(started.elapsed())
    );

    let started = Instant::now();
    let mut reports = tokio::task::JoinSet::new();
    for agent in agents {
        let agent = agent.clone();
        reports.spawn(async move { agent.report_inventory("periodic").await });
    }
    while let Some(done) = reports.join_next().await {
        done??;
    }
    let took = started.elapsed();
    if let Some(ended) = running.try_join_next() {
        ended??;
    }
    println!("  inventory reports ingested: {n} in {:.2}s, {:.0}/s", seconds(took), n as f64 / seconds(took));
    Ok(())
}
