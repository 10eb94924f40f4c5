//! The web console in Debian's Chromium, driven by playwright-core
//! (`tests/fixtures/console/walkthrough.mjs`), against a real gateway on
//! MariaDB and four real agents installing with real dpkg: sign in, the
//! fleet, a parameter change and its dry run, a canary rollout halted by a
//! failing device and resumed, drift promoted, the audit lines, a refusal,
//! a client certificate, CSRF. Screenshots of each step are kept in
//! `target/test-artefacts/console/`.

use anyhow::{Context, Result};
use outfit_tests::{Database, Fleet, run, workspace};
use serde_json::Value;
use std::process::Command;

const DEVICES: [&str; 4] = ["ui-1", "ui-2", "ui-3", "ui-4"];

#[test]
fn the_console_changes_rolls_out_promotes_and_refuses_in_a_real_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let Fleet { gateway, roots, agents: _agents } = Fleet::demo(dir.path(), &database, &DEVICES)?;
    gateway.add_operator("alice", "alice has a long password")?;
    gateway.cli(&["operator", "grant", "alice", "--action", "read"])?;
    for action in ["change", "deploy"] {
        gateway.cli(&["operator", "grant", "alice", "--action", action, "--site", "demo"])?;
    }
    gateway.add_operator("victor", "victor may only read things")?;
    gateway.cli(&["operator", "grant", "victor", "--action", "read", "--site", "demo"])?;

    let shots = workspace().join("target/test-artefacts/console");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots)?;
    let console = std::fs::read_to_string(gateway.dir.join("operator.url"))?;
    let fixture = workspace().join("tests/fixtures/console");
    let out = run(Command::new("node")
        .arg(fixture.join("walkthrough.mjs"))
        .current_dir(&fixture)
        .env("CONSOLE", console.trim())
        .env("ROOTS", &roots)
        .env("SHOTS", &shots)
        .env("ADMIN_CERT", gateway.dir.join("admin/admin.pem"))
        .env("ADMIN_KEY", gateway.dir.join("admin/admin.key"))
        .env("DEVICE_CERT", roots.join("ui-1/var/lib/outfit-agent/identity/cert.pem"))
        .env("DEVICE_KEY", roots.join("ui-1/var/lib/outfit-agent/identity/key.pem")))?;
    let seen: Value = serde_json::from_str(out.lines().last().unwrap_or(""))
        .with_context(|| format!("the walk-through printed {out}"))?;
    let text = |key: &str| seen[key].as_str().unwrap_or_default().to_owned();

    assert!(text("wrongPassword").contains("unknown operator or wrong password"), "{seen}");
    let cookie = &seen["cookie"];
    assert_eq!(
        (&cookie["httpOnly"], &cookie["secure"], &cookie["sameSite"]),
        (&true.into(), &true.into(), &"Strict".into())
    );
    assert!(cookie["expires"].as_f64().unwrap_or(-1.0) > 0.0, "the session cookie expires: {seen}");
    assert_eq!(seen["fleet"], 4, "{seen}");
    assert_eq!(seen["search"], serde_json::json!(["ui-3"]));
    let plan = text("plan");
    assert!(plan.contains("4 devices; 4 would run commands"), "{plan}");
    assert!(plan.contains("listen_port") && plan.contains("8081"), "{plan}");
    assert_eq!(plan.matches("configure: configure").count(), 1, "one plan for the devices of version 1: {plan}");
    assert!(plan.contains("From version 1: 4 devices"), "{plan}");
    let halted = text("halted");
    assert!(halted.contains("Halted:") && halted.contains("1 failed"), "{halted}");
    assert!(text("completed").contains("4 converged"), "{seen}");
    let device = text("deviceDrift");
    assert!(device.contains("/etc/outfit-demo/app.conf"), "{device}");
    assert!(device.contains("debian") && device.contains("Roll back to the version it replaced"), "{device}");
    let promoted = text("promoted");
    assert!(promoted.contains("Dry run: webserver version 3") && promoted.contains("workers = 64"), "{promoted}");
    let diff = text("diff");
    assert!(diff.contains("from version 1 to version 3"), "{diff}");
    assert!(diff.contains("listen_port") && diff.contains("8080") && diff.contains("8081"), "{diff}");
    assert!(diff.contains("template") && diff.contains("workers = 64"), "{diff}");
    let audit: Vec<String> = seen["audit"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    for action in ["SignIn", "SetParameter", "StartRollout", "SteerRollout", "RequestInventory", "PromoteDrift"] {
        assert!(audit.iter().any(|l| l.contains(action) && l.contains("alice")), "no {action} line: {audit:#?}");
    }
    assert!(audit.iter().any(|l| l.contains("SignIn") && l.contains("refused")), "{audit:#?}");
    assert_eq!((&seen["withoutCsrf"], &seen["crossSite"]), (&403.into(), &403.into()), "{seen}");
    assert!(text("afterSignOut").contains("/console/sign-in"), "{seen}");
    let refused = text("refused");
    assert!(refused.contains("Refused: no right") && refused.contains("no right to change"), "{refused}");
    assert!(seen["certificate"]["url"].as_str().unwrap().ends_with("/console/fleet"), "{seen}");
    assert!(seen["certificate"]["who"].as_str().unwrap().contains("admin"), "{seen}");
    let device = &seen["deviceCertificate"];
    assert!(device["url"].as_str().unwrap_or_default().contains("/console/sign-in"), "{seen}");
    assert!(device["said"].as_str().unwrap_or_default().contains("does not take as an operator's"), "{seen}");
    assert!(text("operatorsRefused").contains("no right to admin on every site"), "{seen}");
    let operators = text("operators");
    assert!(operators.contains("alice") && operators.contains("read all roles of every site"), "{operators}");
    assert!(text("granted").contains("operator victor may now deploy all roles of site demo"), "{seen}");

    // What the browser did, as the devices and the CLI see it.
    for name in DEVICES {
        let conf = std::fs::read_to_string(roots.join(name).join("etc/outfit-demo/app.conf"))?;
        assert!(conf.contains("listen_port = 8081"), "{name}: {conf}");
    }
    let history = gateway.cli(&["--json", "model", "history", "webserver", "--site", "demo"])?;
    let history: Value = serde_json::from_str(&history)?;
    assert_eq!(history["version"].as_array().map(Vec::len), Some(3), "{history}");
    let shown = gateway.cli(&["model", "show", "webserver", "--site", "demo"])?;
    assert!(!shown.contains("9999"), "a refused form changed the model: {shown}");
    let grants = gateway.cli(&["audit", "--principal", "admin", "--action", "Grant"])?;
    assert!(grants.contains("operator victor") && grants.contains("deploy all roles of site demo"), "{grants}");
    let refusals = gateway.cli(&["audit", "--principal", "victor", "--outcome", "refused"])?;
    assert!(refusals.contains("SetParameter"), "{refusals}");
    for step in ["fleet", "dry-run", "rollout-halted", "rollout-completed", "promoted", "diff", "audit", "refused"] {
        let found = std::fs::read_dir(&shots)?.flatten().any(|e| e.file_name().to_string_lossy().contains(step));
        assert!(found, "no screenshot of {step} in {}", shots.display());
    }
    Ok(())
}
