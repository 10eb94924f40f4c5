//! `/metrics` on the operator listener: Prometheus' text format that
//! `promtool check metrics` accepts, counters that move with the work the
//! test does, gauges read from the database, and only for an operator who
//! may read every site.

use crate::plugins::queued_on;
use anyhow::{Context, Result, ensure};
use outfit_tests::{Gateway, curl};
use std::io::Write;
use std::process::{Command, Stdio};

/// The value of the sample `name{labels}` (labels exactly as printed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn promtool_check(text: &str) -> Result<String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("run promtool (Debian's prometheus package; .ci/setup installs it)")?;
    child.stdin.take().expect("piped").write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    ensure!(out.status.success(), "promtool check metrics failed:\n{said}\n--- the metrics:\n{text}");
    Ok(said)
}

#[test]
fn metrics_pass_promtool_and_move_with_the_work() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    let url = format!("{}/metrics", std::fs::read_to_string(gateway.dir.join("operator.url"))?.trim());
    let admin = gateway.dir.join("admin");
    let scrape = || -> Result<String> {
        let (status, text) = curl(&gateway, &admin, Some("admin"), &url, None)?;
        ensure!(status == 200, "GET /metrics: {status} {text}");
        Ok(text)
    };

    ensure!(!gateway.dir.join("metrics.url").exists(), "no plain metrics address unless asked for");
    // Its memory: no transparent huge pages (gateway/src/main.rs; Linux 5.0+ shows the flag).
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.process.child.id()))?;
    if let Some(thp) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
        ensure!(thp.ends_with('0'), "the gateway runs with transparent huge pages: {thp}");
    }
    let before = scrape()?;
    promtool_check(&before)?;
    assert_eq!(sample(&before, r#"outfit_commands{state="succeeded"}"#), None, "no command yet:\n{before}");

    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.register("metered-1", "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent("metered-1", &dir.path().join("root"), &gateway.url)?;
    gateway.reported("metered-1")?;
    let ran = queued_on(&gateway, &database, "metered-1", &["provision", "metered-1"])?;
    ensure!(ran.iter().all(|(_, state, _)| state == "succeeded"), "the provisioning: {ran:?}");
    // A request that fails: a Fault counted by its code.
    let refused = gateway.outfit(&["device", "show", "no-such-device"]).output()?;
    ensure!(!refused.status.success(), "showing an unknown device fails");

    let after = scrape()?;
    promtool_check(&after)?;
    let commands: f64 = database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")?.parse()?;
    ensure!(commands >= 6.0, "the demo model's provisioning ran its six commands, not {commands}");
    assert_eq!(sample(&after, r#"outfit_commands{state="succeeded"}"#), Some(commands), "{after}");
    let reported = sample(&after, r#"outfit_agent_exchanges_total{operation="ReportResult",outcome="ok"}"#);
    ensure!(reported.is_some_and(|n| n >= commands), "one ReportResult per command at least:\n{after}");
    let hellos = sample(&after, r#"outfit_agent_exchanges_total{operation="Hello",outcome="ok"}"#);
    ensure!(hellos.is_some_and(|n| n >= 1.0), "{after}");
    let provisioned = sample(&after, r#"outfit_operator_requests_total{operation="ProvisionMany",outcome="ok"}"#);
    assert_eq!(provisioned, Some(1.0), "{after}");
    let not_found = sample(&after, r#"outfit_faults_total{code="UnknownObject",endpoint="operator"}"#);
    ensure!(not_found.is_some_and(|n| n >= 1.0), "the refused ShowDevice:\n{after}");
    assert_eq!(sample(&after, "outfit_agents_seen_recently"), Some(1.0), "{after}");
    let answered = sample(&after, r#"outfit_request_duration_seconds_count{endpoint="agent"}"#);
    ensure!(answered.is_some_and(|n| n >= commands), "{after}");

    // Only for an operator who may read every site.
    let certs = dir.path().join("certs");
    gateway.operator_with_cert("viewer", &certs)?;
    gateway.cli(&["operator", "grant", "viewer", "--action", "read", "--site", "demo"])?;
    let (status, text) = curl(&gateway, &certs, Some("viewer"), &url, None)?;
    assert_eq!(status, 403, "{text}");
    ensure!(text.contains("`read` on every site"), "{text}");
    let (status, _) = curl(&gateway, &certs, None, &url, None)?;
    assert_eq!(status, 401, "no certificate");
    gateway.cli(&["operator", "grant", "viewer", "--action", "read"])?;
    let (status, text) = curl(&gateway, &certs, Some("viewer"), &url, None)?;
    assert_eq!(status, 200, "{text}");
    Ok(())
}

/// `init --metrics-listen`: the same metrics over plain HTTP on an address of
/// their own, for a Prometheus without an operator certificate; nothing else there.
#[test]
fn a_plain_metrics_address_serves_only_the_metrics() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let home = dir.path().join("gateway");
    std::fs::create_dir_all(&home)?;
    let database = outfit_tests::Database::sqlite(&home);
    let gateway = Gateway::start_with(&home, &database, &["--metrics-listen", "127.0.0.1:0"])?;
    let url = std::fs::read_to_string(gateway.dir.join("metrics.url"))?;
    ensure!(url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"), "{url}");
    let get = |url: &str| -> Result<(u16, String)> {
        let out = outfit_tests::run(Command::new("curl").args(["--silent", "--write-out", "\n%{http_code}", url]))?;
        let (body, status) = out.trim_end().rsplit_once('\n').context("curl printed no status")?;
        Ok((status.parse()?, body.to_owned()))
    };
    gateway.cli(&["device", "show", "nobody"]).err().context("showing an unknown device fails")?;
    let (status, text) = get(&url)?;
    assert_eq!(status, 200, "{text}");
    promtool_check(&text)?;
    let refused = sample(&text, r#"outfit_operator_requests_total{operation="ShowDevice",outcome="UnknownObject"}"#);
    assert_eq!(refused, Some(1.0), "{text}");
    let (status, _) = get(&url.replace("/metrics", "/wsdl"))?;
    assert_eq!(status, 404, "only the metrics on the plain address");
    Ok(())
}
