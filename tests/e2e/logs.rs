//! Logs for machines: with `--log-format json` the gateway and the agent
//! write one JSON object a line, each carrying the fields of the request or
//! command it belongs to (operation, device, command, operator).

use crate::plugins::queued_on;
use anyhow::{Context, Result, ensure};
use outfit_tests::{Gateway, wait_for};
use serde_json::Value;
use std::time::Duration;

/// Every line from byte `from` on, each parsed as JSON (an error names the line).
fn json_lines(path: &std::path::Path, from: usize) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)?;
    text[from.min(text.len())..]
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).with_context(|| format!("not a JSON line: {line}")))
        .collect()
}

fn field<'a>(line: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(line, |value, key| value.get(key))?.as_str()
}

#[test]
fn json_logs_carry_operation_device_command_and_operator() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, mut gateway) = Gateway::start_on_sqlite(dir.path())?;
    let log = gateway.dir.join("gateway.log");
    let from = std::fs::metadata(&log)?.len() as usize;
    gateway.restart_with(&["--log-format", "json"], &[("OUTFIT_LOG", "warn,outfit_gateway=info,outfit_app=info")])?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.register("logged-1", "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent_with("logged-1", &dir.path().join("root"), &["--log-format", "json"])?;
    gateway.reported("logged-1")?;
    let ran = queued_on(&gateway, &database, "logged-1", &["provision", "logged-1"])?;
    ensure!(ran.iter().all(|(_, state, _)| state == "succeeded"), "the provisioning: {ran:?}");

    let lines = json_lines(&log, from)?;
    ensure!(lines.iter().all(|l| l.get("timestamp").is_some() && l.get("level").is_some()), "{lines:?}");
    let recorded = lines.iter().find(|l| field(l, &["fields", "message"]) == Some("result recorded"));
    let recorded = recorded.context("no `result recorded` line in the gateway's JSON log")?;
    assert_eq!(field(recorded, &["span", "operation"]), Some("ReportResult"));
    assert_eq!(field(recorded, &["span", "device"]), Some("logged-1"));
    ensure!(recorded["span"]["command"].is_i64(), "the command's id: {recorded}");
    let served = lines
        .iter()
        .find(|l| field(l, &["span", "operation"]) == Some("ProvisionMany"))
        .context("no line of the operator's ProvisionMany call (`outfit provision`)")?;
    assert_eq!(field(served, &["span", "operator"]), Some("admin"));
    assert_eq!(field(served, &["fields", "outcome"]), Some("ok"));

    // The agent logs a command's outcome after reporting it.
    let agent_log = gateway.agent_dir("logged-1").join("agent.log");
    let succeeded = wait_for(Duration::from_secs(30), "`command succeeded` in the agent's JSON log", || {
        let lines = json_lines(&agent_log, 0)?;
        Ok(lines.into_iter().find(|l| field(l, &["fields", "message"]) == Some("command succeeded")))
    })?;
    assert_eq!(field(&succeeded, &["span", "device"]), Some("logged-1"));
    ensure!(field(&succeeded, &["span", "command"]).is_some_and(|c| !c.is_empty()), "the command's id: {succeeded}");
    ensure!(
        field(&succeeded, &["fields", "result"]).is_some_and(|r| r.contains("debian")),
        "the plug-in's answer: {succeeded}"
    );
    Ok(())
}
