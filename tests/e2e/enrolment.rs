//! Enrolment by approval (the default) and certificate renewal, with real
//! agent processes: an agent without a token waits until an operator
//! approves the key it printed, a rejected one gives up, and an agent whose
//! certificate nears its end renews it for a new key and goes on working
//! with the new one only.

use anyhow::{Context, Result, ensure};
use outfit_tests::{Database, Gateway, Process, bin, installed_packages, wait_for};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Waits for an agent to exit; its status.
fn exited(agent: &mut Process, within: Duration) -> Result<std::process::ExitStatus> {
    wait_for(within, "the agent to exit", || Ok(agent.child.try_wait()?))
}

/// The key fingerprint the agent logged while waiting.
fn logged_key(state: &Path) -> Result<String> {
    let log = std::fs::read_to_string(state.join("agent.log"))?;
    let marker = "this agent's key is ";
    let at = log.find(marker).context("the agent prints its key fingerprint while it waits")?;
    Ok(log[at + marker.len()..].chars().take_while(char::is_ascii_hexdigit).collect())
}

#[test]
fn an_agent_without_a_token_waits_for_approval_and_a_rejected_one_gives_up() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    for name in ["ok-1", "no-1"] {
        gateway.cli(&["device", "add", name, "--site", "demo", "--model", "webserver"])?;
    }

    // An unregistered device cannot even wait.
    let stranger = dir.path().join("stranger");
    let mut child = gateway.ask_for_approval("nobody", "demo", &stranger)?;
    ensure!(!exited(&mut child, Duration::from_secs(30))?.success());
    let log = std::fs::read_to_string(stranger.join("agent.log"))?;
    assert!(log.contains("no device `nobody` of site `demo` is registered"), "{log}");

    let ok = dir.path().join("ok-1");
    let mut waiting = gateway.ask_for_approval("ok-1", "demo", &ok)?;
    wait_for(Duration::from_secs(30), "the request to be filed", || {
        Ok((database.scalar("SELECT COUNT(*) FROM enrolment_requests")? == "1").then_some(()))
    })?;
    // It keeps asking with the same key: still one request, and no certificate.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(database.scalar("SELECT COUNT(*) FROM enrolment_requests")?, "1");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM device_certificates")?, "0");
    assert!(waiting.child.try_wait()?.is_none(), "the agent waits");
    let asked: u32 =
        database.scalar("SELECT COUNT(*) FROM exchanges WHERE operation = 'Enrol' AND answer = 'waiting'")?.parse()?;
    assert!(asked >= 2, "the agent asked again ({asked})");

    // The operator sees the key the agent printed, and approves it.
    let key = logged_key(&ok)?;
    let listed: serde_json::Value = serde_json::from_str(&gateway.cli(&["--json", "device", "requests"])?)?;
    let request = &listed["request"][0];
    assert_eq!(
        (&request["device"], &request["site"], &request["key"]),
        (&"ok-1".into(), &"demo".into(), &key.clone().into()),
        "{listed}\n(agent key {key})"
    );
    assert_eq!(request["certified"], false, "{listed}");
    let approved = gateway.cli(&["device", "approve", "ok-1", "--fingerprint", &key[..16]])?;
    assert!(approved.contains("enrolment approved"), "{approved}");
    ensure!(exited(&mut waiting, Duration::from_secs(30))?.success(), "{}", logged(&ok));
    assert!(ok.join("identity/cert.pem").exists() && !ok.join("identity/pending-key.pem").exists());
    assert_eq!(database.scalar("SELECT COUNT(*) FROM device_certificates")?, "1");
    // Approving again finds nothing waiting.
    let again = format!("{:#}", gateway.cli(&["device", "approve", "ok-1"]).unwrap_err());
    assert!(again.contains("no waiting enrolment request for device `ok-1`"), "{again}");

    // A rejected request: the agent is told so and stops asking.
    let no = dir.path().join("no-1");
    let mut refused = gateway.ask_for_approval("no-1", "demo", &no)?;
    wait_for(Duration::from_secs(30), "the second request", || {
        Ok(gateway.cli(&["--json", "device", "requests"])?.contains(r#""device": "no-1""#).then_some(()))
    })?;
    gateway.cli(&["device", "reject", "no-1"])?;
    ensure!(!exited(&mut refused, Duration::from_secs(30))?.success());
    assert!(logged(&no).contains("rejected by admin"), "{}", logged(&no));
    assert!(!no.join("identity/cert.pem").exists());

    // Both decisions are in the audit log, with who made them.
    let audit = database.query("SELECT principal, action, site, object, peer, outcome FROM audit_log ORDER BY id")?;
    let decided = |line: &str| audit.lines().any(|l| l.starts_with(line) && l.ends_with("\tallowed"));
    assert!(decided("admin\tApproveEnrolment\tdemo\tok-1\t127.0.0.1:"), "{audit}");
    assert!(decided("admin\tRejectEnrolment\tdemo\tno-1\t127.0.0.1:"), "{audit}");
    Ok(())
}

fn logged(state: &Path) -> String {
    std::fs::read_to_string(state.join("agent.log")).unwrap_or_default()
}

#[test]
fn a_certificate_near_its_end_is_renewed_and_the_old_one_is_not_needed() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    // Certificates valid one day; the agent renews when fewer than two remain,
    // so it renews at its first start.
    let gateway = Gateway::start_with(&dir.path().join("gateway"), &database, &["--device-cert-days", "1"])?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.register("renew-1", "webserver", "demo", "127.0.0.1")?;
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state)?;
    let (enrolled, stderr) = gateway.enrol(
        "renew-1",
        "demo",
        &std::fs::read_to_string(gateway.agent_dir("renew-1").join("token"))?,
        &state,
    )?;
    ensure!(enrolled, "{stderr}");
    let first = std::fs::read_to_string(state.join("identity/cert.pem"))?;
    let first_fingerprint = database.scalar("SELECT sha256 FROM device_certificates")?;

    let root = dir.path().join("root");
    outfit_tests::prepare_root(&root)?;
    let log = std::fs::File::create(dir.path().join("agent.log"))?;
    let child = Command::new(bin("outfit-agent"))
        .args(["--gateway", &gateway.url, "--device", "renew-1", "--listen", "127.0.0.1:0"])
        .args(["--poll-interval", "2", "--renew-before", &(2 * 24 * 3600).to_string()])
        .arg("--ca")
        .arg(gateway.dir.join("ca.pem"))
        .arg("--root")
        .arg(&root)
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let _agent = Process { child, name: "renew-1".into() };
    wait_for(Duration::from_secs(60), "the renewal", || {
        Ok((database.scalar("SELECT COUNT(*) FROM device_certificates")? == "2").then_some(()))
    })?;
    let renewed = std::fs::read_to_string(state.join("identity/cert.pem"))?;
    assert_ne!(renewed, first, "the agent switched to its new certificate");
    assert!(!state.join("identity/cert.pem.next").exists() && !state.join("identity/key.pem.next").exists());
    // The old certificate keeps at most a day of overlap (it had a day anyway);
    // revoke it outright to show the agent no longer needs it.
    let cut: i64 = database
        .scalar(&format!("SELECT not_after FROM device_certificates WHERE sha256 = '{first_fingerprint}'"))?
        .parse()?;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    assert!(cut <= now_ms + 24 * 3600 * 1000 + 60_000, "old certificate valid until {cut}");
    database
        .query(&format!("UPDATE device_certificates SET revoked_at = {now_ms} WHERE sha256 = '{first_fingerprint}'"))?;

    // Provisioning works end to end on the new certificate alone: the poke
    // reaches the listener (which now presents the new certificate), every
    // exchange and download authenticates with it.
    gateway.cli(&["provision", "renew-1"])?;
    wait_for(Duration::from_secs(90), "the queue to finish", || {
        let done = database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")?;
        let all = database.scalar("SELECT COUNT(*) FROM commands")?;
        Ok((done == all && all != "0").then_some(()))
    })?;
    assert_eq!(installed_packages(&root)?.len(), 3);
    let refused = database.scalar("SELECT COUNT(*) FROM exchanges WHERE answer = 'Unauthenticated'")?;
    assert_eq!(refused, "0", "no exchange came with the revoked certificate");
    // Hourly checks: one renewal, not one per poll.
    assert_eq!(database.scalar("SELECT COUNT(*) FROM exchanges WHERE operation = 'Renew'")?, "1");
    Ok(())
}
