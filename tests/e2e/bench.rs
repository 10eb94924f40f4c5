//! `outfit-gateway bench` (the throughput figures in the README come from it):
//! a small run on SQLite enrols, starts and drains every simulated agent, and
//! its report counts exactly the commands that were queued.

use anyhow::Result;
use outfit_tests::{bin, run};

#[test]
fn the_bench_runs_every_queued_command_once_and_reports_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = run(std::process::Command::new(bin("outfit-gateway"))
        .args(["bench", "--agents", "3", "--commands", "4", "--dir"])
        .arg(dir.path().join("bench")))?;
    assert!(out.contains("enrolled 3 agents"), "{out}");
    assert!(out.contains("started 3 agents"), "{out}");
    // 3 × 4 commands: one NextCommand and four ReportResults per agent.
    assert!(out.contains("agents 3  commands 12  exchanges 15  errors 0"), "{out}");
    for line in ["commands/s", "with the agents' start", "gateway CPU", "stolen by the hypervisor"] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    Ok(())
}
