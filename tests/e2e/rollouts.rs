//! Models over time with real agents, real dpkg and MariaDB: five devices
//! built by a rollout from bare; a parameter change (dry run first, then the
//! rollout); rollback; an upgrade whose maintainer script fails on the canary
//! halts the rollout until resumed; a dropped component is purged; a device
//! added while a rollout waits is built completely.

use anyhow::{Context, Result};
use outfit_tests::{
    Database, Gateway, Process, build_deb, build_demo_model, installed_packages, prepare_root, wait_for,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEVICES: [&str; 5] = ["ro-1", "ro-2", "ro-3", "ro-4", "ro-5"];
const APP_CONF: &str = "etc/outfit-demo/app.conf";

/// `outfit --json ARGS` as the administrator.
fn json(gateway: &Gateway, args: &[&str]) -> Result<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = gateway.cli(&all)?;
    serde_json::from_str(&out).with_context(|| format!("outfit {args:?} printed {out}"))
}

/// The demo model plus an `outfit-tools` component (version `tools`, or
/// none) in its APP role.
fn write_model(file: &Path, original: &str, tools: Option<&str>) -> Result<()> {
    let anchor = "parameters = { listen_port = \"8080\", workers = \"4\" }\n";
    anyhow::ensure!(original.contains(anchor), "the demo model changed: {original}");
    let text = match tools {
        Some(version) => original.replace(
            anchor,
            &format!(
                "{anchor}\n[[roles.components]]\nname = \"tools\"\npackage = \"build/outfit-tools_{version}_all.deb\"\n\
                 package_name = \"outfit-tools\"\nversion = \"{version}\"\nformat = \"deb\"\n"
            ),
        ),
        None => original.to_owned(),
    };
    std::fs::write(file, text)?;
    Ok(())
}

/// Polls a rollout until it is no longer running; returns `rollout show`.
fn settled(gateway: &Gateway, id: i64) -> Result<Value> {
    wait_for(Duration::from_secs(180), &format!("rollout {id} to settle"), || {
        let shown = json(gateway, &["rollout", "show", &id.to_string()])?;
        Ok((shown["rollout"]["state"] != "running").then_some(shown))
    })
}

fn app_conf(root: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(root.join(APP_CONF))?)
}

fn queue_len(gateway: &Gateway, device: &str) -> Result<usize> {
    Ok(json(gateway, &["queue", "show", device])?["command"].as_array().map_or(0, Vec::len))
}

fn start_device(gateway: &Gateway, name: &str, roots: &Path) -> Result<Process> {
    let root = roots.join(name);
    prepare_root(&root)?;
    gateway.add_agent(name, "webserver", "demo", &root)
}

#[test]
fn a_model_change_rolls_out_in_stages_halts_on_the_canary_and_rolls_back() -> Result<()> {
    let database = Database::mariadb()?;
    let dir = tempfile::tempdir()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    let model: PathBuf = build_demo_model(&dir.path().join("model"))?;
    let build = model.with_file_name("build");
    build_deb(&build, "outfit-tools", "1.0", "exit 0")?;
    // Fails where the device holds /etc/outfit-fail (only the canary will).
    build_deb(&build, "outfit-tools", "2.0", "if [ -e /etc/outfit-fail ]; then echo refused >&2; exit 1; fi")?;
    let original = std::fs::read_to_string(&model)?;
    write_model(&model, &original, Some("1.0"))?;
    let m = model.to_str().unwrap();
    gateway.cli(&["model", "import", m, "--reason", "first", "--rollout", "none"])?;

    let roots = dir.path().join("roots");
    let mut agents = Vec::new();
    for name in DEVICES {
        agents.push(start_device(&gateway, name, &roots)?);
    }
    for name in DEVICES {
        gateway.reported(name)?;
    }

    // v1 to five bare devices: a canary, then batches of two.
    let built = json(&gateway, &["rollout", "start", "webserver", "--site", "demo", "--batch", "2", "--wait"])?;
    assert_eq!(built["rollout"]["state"], "completed", "{built}");
    assert_eq!((&built["rollout"]["stages"], &built["rollout"]["converged"]), (&3.into(), &5.into()), "{built}");
    let stages: Vec<&Value> = built["device"].as_array().unwrap().iter().map(|d| &d["stage"]).collect();
    assert_eq!(stages, [&Value::from(0), &1.into(), &1.into(), &2.into(), &2.into()], "{built}");
    let full = ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0", "outfit-tools 1.0"];
    for name in DEVICES {
        assert_eq!(installed_packages(&roots.join(name))?, full, "{name}");
        assert!(app_conf(&roots.join(name))?.contains("listen_port = 8080"), "{name}");
    }

    // v2: one parameter. The dry run lists one reconfigure per device and changes nothing.
    let changed = gateway.cli(&[
        "model",
        "set-parameter",
        "--site",
        "demo",
        "--model",
        "webserver",
        "--category",
        "APP",
        "--component",
        "web",
        "listen_port=8081",
        "--reason",
        "the new load balancer",
        "--rollout",
        "none",
    ])?;
    assert!(changed.contains("new model version 2"), "{changed}");
    let before: Vec<usize> = DEVICES.iter().map(|d| queue_len(&gateway, d)).collect::<Result<_>>()?;
    let plan = json(&gateway, &["rollout", "plan", "webserver", "--site", "demo"])?;
    assert_eq!(plan["version"], 2, "{plan}");
    assert_eq!(plan["devices"], DEVICES.len(), "{plan}");
    // Every device starts from version 1: one group, the same command for each.
    let groups = plan["group"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{plan}");
    assert_eq!(groups[0]["fromVersion"], 1, "{plan}");
    assert_eq!(groups[0]["devices"], DEVICES.len(), "{plan}");
    let names: Vec<&str> = groups[0]["device"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(names, DEVICES, "{plan}");
    let commands: Vec<&str> =
        groups[0]["command"].as_array().unwrap().iter().map(|c| c["summary"].as_str().unwrap()).collect();
    assert_eq!(commands, ["configure /etc/outfit-demo/app.conf"], "{plan}");
    let text = gateway.cli(&["rollout", "plan", "webserver", "--site", "demo"])?;
    assert!(text.contains("from version 1: 5 device(s) (ro-1, ro-2, ro-3, ro-4, ro-5)"), "{text}");
    assert!(text.contains("  1. configure /etc/outfit-demo/app.conf"), "{text}");
    let after: Vec<usize> = DEVICES.iter().map(|d| queue_len(&gateway, d)).collect::<Result<_>>()?;
    assert_eq!(before, after, "the dry run queued nothing");
    for name in DEVICES {
        assert!(app_conf(&roots.join(name))?.contains("listen_port = 8080"), "{name}: the dry run wrote nothing");
    }
    let v2 = json(&gateway, &["rollout", "start", "webserver", "--site", "demo", "--batch", "2", "--wait"])?;
    assert_eq!(v2["rollout"]["state"], "completed", "{v2}");
    for (i, name) in DEVICES.iter().enumerate() {
        assert!(app_conf(&roots.join(name))?.contains("listen_port = 8081"), "{name}");
        // What the rollout queued is what the dry run showed: one command.
        assert_eq!(queue_len(&gateway, name)?, before[i] + 1, "{name}");
    }

    // Rollback to v1: a new version restoring it, rolled out like any change.
    let rolled = gateway.cli(&["model", "rollback", "webserver", "--site", "demo", "1", "--reason", "port clash"])?;
    assert!(rolled.contains("new model version 3"), "{rolled}");
    let id: i64 =
        rolled.split("rollout ").nth(1).and_then(|t| t.split_whitespace().next()).context(rolled.clone())?.parse()?;
    assert_eq!(settled(&gateway, id)?["rollout"]["state"], "completed");
    for name in DEVICES {
        assert!(app_conf(&roots.join(name))?.contains("listen_port = 8080"), "{name}: rolled back");
    }
    let history = json(&gateway, &["model", "history", "webserver", "--site", "demo"])?;
    let v3 = &history["version"][2];
    assert_eq!((&v3["restores"], &v3["reason"], &v3["current"]), (&1.into(), &"port clash".into(), &true.into()));
    assert_eq!(history["version"][1]["reason"], "the new load balancer", "{history}");
    let diff = json(&gateway, &["model", "diff", "webserver", "--site", "demo", "2", "3"])?;
    let kinds: Vec<(&str, &str)> = diff["difference"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["after"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds, [("parameter", "8080")], "{diff}");

    // v4 upgrades outfit-tools; its maintainer script fails on the canary only.
    std::fs::write(roots.join("ro-1/etc/outfit-fail"), "")?;
    write_model(&model, &original, Some("2.0"))?;
    let imported = gateway.cli(&["model", "import", m, "--batch", "2"])?;
    let id: i64 = imported
        .split("rollout ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .context(imported.clone())?
        .parse()?;
    let halted = settled(&gateway, id)?;
    assert_eq!(halted["rollout"]["state"], "halted", "{halted}");
    assert!(halted["rollout"]["haltReason"].as_str().unwrap().contains("1 of 1 devices started failed"), "{halted}");
    let canary = &halted["device"][0];
    assert_eq!((&canary["device"], &canary["state"]), (&"ro-1".into(), &"failed".into()), "{halted}");
    assert!(canary["detail"].as_str().unwrap().contains("refused"), "the maintainer script's words: {halted}");
    for name in &DEVICES[1..] {
        assert!(installed_packages(&roots.join(name))?.contains(&"outfit-tools 1.0".to_owned()), "{name} kept 1.0");
    }
    // The fix, then resume: the failed command runs again and the rest follow.
    std::fs::remove_file(roots.join("ro-1/etc/outfit-fail"))?;
    let resumed = json(&gateway, &["rollout", "resume", &id.to_string(), "--wait"])?;
    assert_eq!(resumed["rollout"]["state"], "completed", "{resumed}");
    for name in DEVICES {
        assert!(installed_packages(&roots.join(name))?.contains(&"outfit-tools 2.0".to_owned()), "{name}");
    }

    // v5 drops the component, prepared; a sixth device joins before it starts.
    write_model(&model, &original, None)?;
    let prepared = gateway.cli(&["model", "import", m, "--rollout", "prepare", "--reason", "tools retired"])?;
    let id: i64 = prepared
        .split("rollout ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .context(prepared.clone())?
        .parse()?;
    agents.push(start_device(&gateway, "ro-6", &roots)?);
    gateway.reported("ro-6")?;
    let done = json(&gateway, &["rollout", "resume", &id.to_string(), "--wait"])?;
    assert_eq!(done["rollout"]["state"], "completed", "{done}");
    let joined = done["device"].as_array().unwrap().iter().find(|d| d["device"] == "ro-6").context("ro-6 joined")?;
    assert_eq!(joined["fromVersion"], Value::Null, "a bare device: {done}");
    let reference = app_conf(&roots.join("ro-1"))?;
    for name in DEVICES.iter().chain(&["ro-6"]) {
        let root = roots.join(name);
        assert_eq!(installed_packages(&root)?, &full[..3], "{name}: outfit-tools is gone");
        // Purged: dpkg does not know it at all (no configuration files left).
        let status = std::fs::read_to_string(root.join("var/lib/dpkg/status"))?;
        assert!(!status.contains("Package: outfit-tools"), "{name}: {status}");
        assert_eq!(app_conf(&root)?, reference, "{name}");
    }
    drop(agents);
    Ok(())
}

/// A category ranked between OS and APP is installed in that order, and its
/// rights are its own.
#[test]
fn a_custom_category_is_ranked_and_has_its_own_rights() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_database, gateway) = Gateway::start_on_sqlite(&dir.path().join("gateway"))?;
    gateway.cli(&["category", "add", "MIDDLEWARE", "--after", "OS", "--description", "changes monthly"])?;
    let categories = json(&gateway, &["category", "list"])?;
    let ranked: Vec<&str> =
        categories["category"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(ranked, ["OS", "MIDDLEWARE", "APP", "CONTENT"], "{categories}");
    let again = gateway.outfit(&["category", "add", "MIDDLEWARE"]).output()?;
    assert_eq!(again.status.code(), Some(5), "exists already: a conflict");

    let model = build_demo_model(&dir.path().join("model"))?;
    build_deb(&model.with_file_name("build"), "outfit-mw", "1.0", "exit 0")?;
    let text = std::fs::read_to_string(&model)?
        + "\n[[roles]]\ncategory = \"MIDDLEWARE\"\nname = \"demo-mw\"\n\n[[roles.components]]\nname = \"mw\"\n\
           package = \"build/outfit-mw_1.0_all.deb\"\npackage_name = \"outfit-mw\"\nversion = \"1.0\"\nformat = \"deb\"\n\
           parameters = { pool = \"4\" }\n";
    std::fs::write(&model, text)?;
    gateway.cli(&["model", "import", model.to_str().unwrap(), "--rollout", "none"])?;
    // Models as code: exported (packages by digest, templates as files) and
    // imported back, the model is the same and no version is added.
    let exported = dir.path().join("exported");
    gateway.cli(&["model", "export", "webserver", "--site", "demo", "--out", exported.to_str().unwrap()])?;
    let text = std::fs::read_to_string(exported.join("model.toml"))?;
    assert!(text.contains("sha256 = ") && !text.contains("package = "), "{text}");
    let template = std::fs::read_to_string(exported.join("templates/APP-web.j2"))?;
    assert_eq!(template, std::fs::read_to_string(model.with_file_name("templates").join("app.conf.j2"))?);
    let before = json(&gateway, &["model", "show", "webserver", "--site", "demo"])?;
    let again =
        gateway.cli(&["model", "import", exported.join("model.toml").to_str().unwrap(), "--rollout", "none"])?;
    assert!(again.contains("unchanged; current version 1"), "{again}");
    assert_eq!(json(&gateway, &["model", "show", "webserver", "--site", "demo"])?, before);
    let edited = text.replace("workers = \"4\"", "workers = \"16\"");
    assert_ne!(edited, text, "the export holds the parameters");
    std::fs::write(exported.join("model.toml"), edited)?;
    let changed =
        gateway.cli(&["model", "import", exported.join("model.toml").to_str().unwrap(), "--rollout", "none"])?;
    assert!(changed.contains("new version 2"), "{changed}");
    gateway.cli(&["device", "add", "bare-1", "--site", "demo", "--model", "webserver"])?;
    let plan = json(&gateway, &["rollout", "plan", "webserver", "--site", "demo"])?;
    // The bare device is a group of its own, listed first.
    assert_eq!(plan["group"][0]["device"], serde_json::json!(["bare-1"]), "{plan}");
    assert!(plan["group"][0]["fromVersion"].is_null(), "{plan}");
    let installs: Vec<&str> = plan["group"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "install")
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert_eq!(installs, ["base", "mw", "web", "site"], "{plan}");

    // Rights per category: `change` on MIDDLEWARE only.
    gateway.add_operator("mia", "secret-mia-123")?;
    gateway.cli(&["operator", "grant", "mia", "--action", "change", "--site", "demo", "--category", "MIDDLEWARE"])?;
    let mia = |args: &[&str]| gateway.outfit_as("mia", "secret-mia-123", args).output();
    let set = |category: &str, component: &str, value: &str, rollout: &str| {
        mia(&[
            "model",
            "set-parameter",
            "--site",
            "demo",
            "--model",
            "webserver",
            "--category",
            category,
            "--component",
            component,
            value,
            "--rollout",
            rollout,
        ])
    };
    let allowed = set("MIDDLEWARE", "mw", "x=1", "none")?;
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stderr));
    let refused = set("APP", "web", "x=1", "none")?;
    assert_eq!(refused.status.code(), Some(3), "{}", String::from_utf8_lossy(&refused.stderr));
    // A rollout needs `deploy` as well: refused before any version is made.
    let versions =
        json(&gateway, &["model", "history", "webserver", "--site", "demo"])?["version"].as_array().unwrap().len();
    let refused = set("MIDDLEWARE", "mw", "x=2", "start")?;
    let said = format!("{}{}", String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    assert_eq!(refused.status.code(), Some(3), "{said}");
    assert!(said.contains("no right to deploy"), "{said}");
    let history = json(&gateway, &["model", "history", "webserver", "--site", "demo"])?;
    assert_eq!(history["version"].as_array().unwrap().len(), versions, "no version was made: {history}");
    Ok(())
}

/// A rollout lives in the database: prepared before the gateway is killed,
/// it is resumed and driven by the next gateway process; the canary, offline,
/// expires as the operator chose and the other devices go on.
#[test]
fn a_rollout_survives_a_gateway_restart_and_offline_devices_expire() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let mut gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    let model = build_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["model", "import", model.to_str().unwrap(), "--rollout", "none"])?;
    // `off-1` sorts first (the canary) and never comes online.
    gateway.cli(&["device", "add", "off-1", "--site", "demo", "--model", "webserver"])?;
    // The agents reach the gateway through a proxy, retargeted to the next process.
    let proxy = outfit_tests::proxy::Proxy::start(gateway.socket_addr());
    let via = format!("https://127.0.0.1:{}", proxy.addr.port());
    let roots = dir.path().join("roots");
    let mut agents = Vec::new();
    for name in ["on-1", "on-2"] {
        prepare_root(&roots.join(name))?;
        agents.push(gateway.add_agent_via(name, "webserver", "demo", &roots.join(name), &via)?);
        gateway.reported(name)?;
    }
    let prepared = json(
        &gateway,
        &["rollout", "start", "webserver", "--site", "demo", "--prepare", "--batch", "2", "--expire-after", "3"],
    )?;
    assert_eq!(prepared["rollout"]["state"], "prepared", "{prepared}");
    let id = prepared["rollout"]["id"].as_i64().context("a rollout id")?.to_string();

    gateway.crash_and_restart()?;
    proxy.retarget(gateway.socket_addr());
    let done = json(&gateway, &["rollout", "resume", &id, "--wait"])?;
    assert_eq!(done["rollout"]["state"], "completed", "{done}");
    let states: Vec<(&str, &str)> = done["device"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["device"].as_str().unwrap(), d["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("off-1", "expired"), ("on-1", "converged"), ("on-2", "converged")], "{done}");
    for name in ["on-1", "on-2"] {
        assert_eq!(installed_packages(&roots.join(name))?.len(), 3, "{name}");
    }
    drop(agents);
    Ok(())
}
