//! `outfit-gateway bench` (the throughput figures in docs/benchmarks.md come from it):
//! a small run enrols, starts and drains every simulated agent, and its report
//! counts exactly the commands that were queued; on MariaDB it also reports
//! the database's work per exchange. Its models-over-time phase rolls the
//! bench model out to every simulated agent until each converged (it fails
//! otherwise).

use anyhow::Result;
use outfit_tests::{Database, bin, run};

/// Runs the bench with 3 agents × 4 commands; returns its report.
fn bench(database: Option<&Database>) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let mut command = std::process::Command::new(bin("outfit-gateway"));
    command
        .args(["bench", "--agents", "3", "--commands", "4", "--operator-calls", "5", "--rollout", "--dir"])
        .arg(dir.path().join("bench"));
    if let Some(database) = database {
        command.arg("--database").arg(database.url());
    }
    let out = run(&mut command)?;
    assert!(out.contains("enrolled 3 agents"), "{out}");
    assert!(out.contains("started 3 agents"), "{out}");
    // 3 × 4 commands: one NextCommand and four ReportResults per agent.
    assert!(out.contains("agents 3  commands 12  exchanges 15  errors 0"), "{out}");
    for line in [
        "commands/s",
        "with the agents' start",
        "gateway CPU",
        "stolen by the hypervisor",
        "read  ListDevices",
        "write SetParameter",
        "`outfit --json status` over 3 devices",
        "dry run (PlanRollout, every device's plan): median",
        "rollout from bare (install + configure",
        "a parameter change, from the operator's call to the last device converged: ",
        "inventory reports ingested: 3 in",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    Ok(out)
}

#[test]
fn the_bench_runs_every_queued_command_once_and_reports_it() -> Result<()> {
    let out = bench(None)?;
    assert!(!out.contains("database work per exchange"), "SQLite has no server counters:\n{out}");
    Ok(())
}

#[test]
fn on_mariadb_the_bench_reports_the_database_work_per_exchange() -> Result<()> {
    let database = Database::mariadb()?;
    let out = bench(Some(&database))?;
    assert!(out.contains("one durable commit alone: "), "{out}");
    let line = out.lines().find_map(|l| l.strip_prefix("database work per exchange: ")).expect(&out);
    let numbers: Vec<f64> = line.split(", ").map(|part| part.split(' ').next().unwrap().parse().unwrap()).collect();
    // The counters are the server's, so other clients can only add to them:
    // every exchange is at least its transaction's opening, one read, one
    // move, its log row and the commit, and commits once.
    assert!(numbers[0] >= 5.0, "statements per exchange: {line}");
    assert!(numbers[1] >= 1.0, "commits per exchange: {line}");
    Ok(())
}
