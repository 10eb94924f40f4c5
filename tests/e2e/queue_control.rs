//! Queue control with real agents on MariaDB: predefined scripts run by name on
//! every device of a model; commands for an offline device expire instead of
//! running late; a command that outlives its kind's timeout halts its queue
//! until the late result arrives.

use anyhow::Result;
use outfit_tests::{
    Database, Gateway, build_deb, build_rpm, installed_packages, installed_rpms, prepare_root, wait_for,
};
use std::time::Duration;

/// Counts of each state among a device's commands, as "state n" lines.
fn states(database: &Database, device: &str) -> Result<String> {
    database.query(&format!(
        "SELECT state, COUNT(*) FROM commands WHERE device_id = (SELECT id FROM devices WHERE name = '{device}') \
         GROUP BY state ORDER BY state"
    ))
}

fn all_succeeded(database: &Database, device: &str, n: usize) -> impl FnMut() -> Result<Option<()>> {
    let (database, device) = (database, device.to_owned());
    move || Ok((states(database, &device)?.trim() == format!("succeeded\t{n}")).then_some(()))
}

/// Writes `script.toml` (with the files it names) into `dir`: install a package
/// whose postinst leaves a marker, write a config file, reboot, write it again.
fn hotfix_script(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    build_deb(&build, "outfit-hotfix", "1.0.1", "echo hotfix >> /var/log/outfit-hotfix")?;
    std::fs::write(dir.join("hotfix.conf.j2"), "level = {{ level }}\nrun = {{ run }}\n")?;
    let file = dir.join("script.toml");
    std::fs::write(
        &file,
        r#"site = "demo"
name = "hotfix"
description = "patch, write the config, reboot, write it again"

[[steps]]
kind = "install"
package = "build/outfit-hotfix_1.0.1_all.deb"
package_name = "outfit-hotfix"
version = "1.0.1"
format = "deb"

[[steps]]
kind = "configure"
component = "outfit-hotfix"
path = "/etc/outfit-hotfix.conf"
template = "hotfix.conf.j2"
parameters = { level = "high", run = "before reboot" }

[[steps]]
kind = "reboot"

[[steps]]
kind = "configure"
component = "outfit-hotfix"
path = "/etc/outfit-hotfix.conf"
template = "hotfix.conf.j2"
parameters = { level = "high", run = "after reboot" }
"#,
    )?;
    Ok(file)
}

#[test]
fn a_stored_script_runs_by_name_on_every_device_of_a_model() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let script = hotfix_script(&dir.path().join("script"))?;
    assert!(gateway.cli(&["script", "import", script.to_str().unwrap()])?.contains(": new, 4 steps"));
    let listed = gateway.cli(&["script", "list"])?;
    assert!(listed.contains("hotfix") && listed.contains("patch, write"), "{listed}");

    let mut agents = Vec::new();
    let mut roots = Vec::new();
    for name in ["patch-1", "patch-2"] {
        let root = dir.path().join(name);
        prepare_root(&root)?;
        agents.push(gateway.add_agent(name, "webserver", "demo", &root)?);
        roots.push(root);
    }
    wait_for(Duration::from_secs(60), "both Hellos", || {
        Ok((database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == "2").then_some(()))
    })?;

    // Refusals change no queue: an unknown device among the targets, an unknown script.
    let refused = gateway.cli(&["script", "run", "hotfix", "--site", "demo", "patch-1", "ghost"]).unwrap_err();
    assert!(format!("{refused:#}").contains("no device `ghost`"), "{refused:#}");
    let unknown = gateway.cli(&["script", "run", "nope", "--site", "demo", "patch-1"]).unwrap_err();
    assert!(format!("{unknown:#}").contains("import it with `outfit script import"), "{unknown:#}");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, "0");

    let out = gateway.cli(&["script", "run", "hotfix", "--site", "demo", "--model", "webserver"])?;
    assert!(out.contains("patch-1: queued 4 commands") && out.contains("patch-2: queued 4 commands"), "{out}");
    for (name, root) in ["patch-1", "patch-2"].iter().zip(&roots) {
        wait_for(Duration::from_secs(90), "the script to finish", all_succeeded(&database, name, 4))?;
        assert_eq!(installed_packages(root)?, ["outfit-hotfix 1.0.1"], "{name}");
        assert_eq!(std::fs::read_to_string(root.join("var/log/outfit-hotfix"))?, "hotfix\n", "{name}: ran once");
        assert_eq!(
            std::fs::read_to_string(root.join("etc/outfit-hotfix.conf"))?,
            "level = high\nrun = after reboot\n",
            "{name}: steps ran in order"
        );
        let reboot = database.scalar(&format!(
            "SELECT result FROM commands WHERE kind = 'reboot' AND device_id = (SELECT id FROM devices WHERE name = '{name}')"
        ))?;
        assert!(reboot.starts_with("rebooted: boot id"), "{name}: {reboot}");
    }

    // Re-importing replaces the steps; commands already queued keep theirs.
    std::fs::write(&script, "site = \"demo\"\nname = \"hotfix\"\n[[steps]]\nkind = \"reboot\"\n")?;
    assert!(gateway.cli(&["script", "import", script.to_str().unwrap()])?.contains("replaced, 1 steps"));
    assert_eq!(database.scalar("SELECT COUNT(*) FROM script_steps")?, "1");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands WHERE kind = 'configure'")?, "4");
    drop(agents);
    Ok(())
}

#[test]
fn offline_commands_expire_and_a_slow_command_times_out_then_counts() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start_with(&dir.path().join("gateway"), &database, &["--timeout", "install=2"])?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("late-1");
    prepare_root(&root)?;
    gateway.register("late-1", "webserver", "demo", "127.0.0.1")?;

    // The device is offline: its commands wait, and with an expiry they close unrun.
    let out = gateway.cli(&["provision", "late-1", "--expires-in", "1"])?;
    assert!(out.contains("queued 6 commands"), "{out}");
    wait_for(Duration::from_secs(30), "the sweep to expire the queue", || {
        Ok((states(&database, "late-1")?.trim() == "expired\t6").then_some(()))
    })?;
    let _agent = gateway.start_agent("late-1", &root, &gateway.url)?;
    wait_for(Duration::from_secs(60), "Hello", || {
        Ok((database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == "1").then_some(()))
    })?;
    // Queued without an expiry, the same commands wait for the device and run.
    gateway.cli(&["provision", "late-1"])?;
    wait_for(Duration::from_secs(90), "provisioning", || {
        Ok((states(&database, "late-1")?.trim() == "expired\t6\nsucceeded\t6").then_some(()))
    })?;
    assert_eq!(installed_packages(&root)?.len(), 3);
    let status: serde_json::Value = serde_json::from_str(&gateway.cli(&["--json", "status", "--search", "late-1"])?)?;
    let late = &status["device"][0];
    assert_eq!(
        (&late["queue"], &late["closed"], &late["succeeded"]),
        (&"idle".into(), &6.into(), &6.into()),
        "{status}"
    );
    assert!(late["appliedVersion"].is_number() && late["appliedVersion"] == late["desiredVersion"], "{status}");

    // An install that takes ~6 s against a 2 s timeout: the queue halts as
    // timed out while dpkg still runs, then the late success is taken and the
    // queue goes on to the next step.
    let slow = dir.path().join("slow");
    std::fs::create_dir_all(slow.join("build"))?;
    build_deb(&slow.join("build"), "outfit-slow", "1", "sleep 6; echo slow >> /var/log/outfit-slow")?;
    std::fs::write(slow.join("after.j2"), "after = {{ x }}\n")?;
    std::fs::write(
        slow.join("slow.toml"),
        "site = \"demo\"\nname = \"slow\"\n\
         [[steps]]\nkind = \"install\"\npackage = \"build/outfit-slow_1_all.deb\"\npackage_name = \"outfit-slow\"\n\
         version = \"1\"\nformat = \"deb\"\n\
         [[steps]]\nkind = \"configure\"\ncomponent = \"slow\"\npath = \"/etc/after.conf\"\ntemplate = \"after.j2\"\n\
         parameters = { x = \"1\" }\n",
    )?;
    gateway.cli(&["script", "import", slow.join("slow.toml").to_str().unwrap()])?;
    gateway.cli(&["script", "run", "slow", "--site", "demo", "late-1"])?;
    wait_for(Duration::from_secs(30), "the install to time out", || {
        Ok((database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'timedout'")? == "1").then_some(()))
    })?;
    assert!(!root.join("etc/after.conf").exists(), "nothing after a timed-out command runs");
    let status: serde_json::Value = serde_json::from_str(&gateway.cli(&["--json", "status", "--queue", "halted"])?)?;
    assert_eq!(status["device"][0]["name"], "late-1", "{status}");
    wait_for(Duration::from_secs(60), "the late result and the next step", || {
        Ok((states(&database, "late-1")?.trim() == "expired\t6\nsucceeded\t8").then_some(()))
    })?;
    assert_eq!(std::fs::read_to_string(root.join("etc/after.conf"))?, "after = 1\n");
    assert_eq!(std::fs::read_to_string(root.join("var/log/outfit-slow"))?, "slow\n", "the slow install ran once");
    Ok(())
}

#[test]
fn the_agent_picks_the_plugin_by_package_format() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("mixed-1");
    prepare_root(&root)?;
    // A third-party bundle nobody signed: the agent refuses it at start, serves
    // on with its built-in plug-ins, and says why when a command needs it.
    let unsigned = root.join("var/lib/outfit-agent/plugins/windows-msi");
    std::fs::create_dir_all(&unsigned)?;
    std::fs::write(unsigned.join("plugin.wasm"), b"\0asm not really a component")?;
    std::fs::write(unsigned.join("manifest.toml"), "name = \"windows-msi\"\n")?;
    // Queued before the agent's first Hello: the gateway cannot know its
    // plug-ins yet, so the agent itself refuses what none of them serves.
    gateway.register("mixed-1", "webserver", "demo", "127.0.0.1")?;

    // One script, two package formats: the .rpm goes to the rpm plug-in, the
    // .deb to the Debian one; a format no plug-in installs fails clearly.
    let build = dir.path().join("script/build");
    std::fs::create_dir_all(&build)?;
    build_rpm(&build, "outfit-e2e-rpm", "1.0")?;
    build_deb(&build, "outfit-e2e-deb", "1.0", "true")?;
    std::fs::write(build.join("setup.msi"), b"not really an msi")?;
    std::fs::write(build.join("app.conf.j2"), "pinned = 1\n")?;
    let script = dir.path().join("script/mixed.toml");
    std::fs::write(
        &script,
        "site = \"demo\"\nname = \"mixed\"\n\
         [[steps]]\nkind = \"install\"\npackage = \"build/outfit-e2e-rpm-1.0-1.noarch.rpm\"\n\
         package_name = \"outfit-e2e-rpm\"\nversion = \"1.0-1\"\nformat = \"rpm\"\n\
         [[steps]]\nkind = \"install\"\npackage = \"build/outfit-e2e-deb_1.0_all.deb\"\n\
         package_name = \"outfit-e2e-deb\"\nversion = \"1.0\"\nformat = \"deb\"\n\
         [[steps]]\nkind = \"install\"\npackage = \"build/setup.msi\"\npackage_name = \"setup\"\n\
         version = \"1\"\nformat = \"msi\"\n\
         [[steps]]\nkind = \"configure\"\ncomponent = \"app\"\npath = \"/etc/app.conf\"\n\
         template = \"build/app.conf.j2\"\nplugin = \"files\"\n",
    )?;
    gateway.cli(&["script", "import", script.to_str().unwrap()])?;
    let run = ["script", "run", "mixed", "--site", "demo", "mixed-1"];
    gateway.cli(&run)?;
    let _agent = gateway.start_agent("mixed-1", &root, &gateway.url)?;
    let failed = wait_for(Duration::from_secs(90), "the msi step to fail", || {
        let failed = database.scalar("SELECT COALESCE(MAX(result), '') FROM commands WHERE state = 'failed'")?;
        Ok((!failed.is_empty()).then_some(failed))
    })?;
    assert!(failed.contains("no plug-in installs `msi` packages"), "{failed}");
    assert!(failed.contains("refused plug-ins") && failed.contains("windows-msi: unsigned"), "{failed}");
    assert_eq!(states(&database, "mixed-1")?.trim(), "failed\t1\npending\t1\nsucceeded\t2");
    assert_eq!(installed_rpms(&root)?, ["outfit-e2e-rpm 1.0-1"]);
    assert_eq!(installed_packages(&root)?, ["outfit-e2e-deb 1.0"]);
    let rpm_result = database.scalar("SELECT result FROM commands WHERE sequence = 1")?;
    assert_eq!(rpm_result, "rpm 0.1.0: installed outfit-e2e-rpm 1.0-1", "the result names the plug-in version");
    // A step that names a plug-in the agent lacks fails; no other plug-in
    // (the built-in debian one configures too) stands in for it.
    gateway.cli(&["queue", "skip", "mixed-1"])?;
    let failed = wait_for(Duration::from_secs(60), "the step naming `files` to fail", || {
        let failed = database.scalar("SELECT COALESCE(MAX(result), '') FROM commands WHERE state = 'failed'")?;
        Ok((!failed.is_empty()).then_some(failed))
    })?;
    assert!(failed.contains("names plug-in files, which this agent does not have"), "{failed}");
    assert!(!root.join("etc/app.conf").exists());

    // Once the agent has reported its plug-ins, the gateway refuses the msi
    // step itself, naming what the device can install, and queues none of it.
    let shown = gateway.reported("mixed-1")?;
    assert!(shown.contains("\nplatform: linux-"), "{shown}");
    gateway.cli(&["queue", "abort", "mixed-1"])?;
    let refused = format!("{:#}", gateway.cli(&run).unwrap_err());
    assert!(refused.contains("`install` command for device `mixed-1` refused"), "{refused}");
    assert!(refused.contains("installs `msi` packages (component setup)"), "{refused}");
    assert!(refused.contains("rpm 0.1.0 [rpm, install") && refused.contains("debian 0.1.0 [deb, install"), "{refused}");
    assert_eq!(states(&database, "mixed-1")?.trim(), "aborted\t1\nskipped\t1\nsucceeded\t2", "nothing more queued");
    Ok(())
}
