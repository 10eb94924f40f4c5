//! A real gateway (on MariaDB and on SQLite) and three real agent processes,
//! each with its own root, provision a 3-role model with real dpkg.

use anyhow::Result;
use outfit_tests::{Database, Gateway, build_demo_model, installed_packages, wait_for};
use std::time::Duration;

const DEVICES: [&str; 3] = ["node-a", "node-b", "node-c"];

fn provision_three_devices(database: &Database, dir: &std::path::Path) -> Result<()> {
    let gateway = Gateway::start(&dir.join("gateway"), database)?;
    let model = build_demo_model(&dir.join("model"))?;
    let imported = gateway.cli(&["model", "import", model.to_str().unwrap()])?;
    assert!(imported.contains("new version 1"), "{imported}");
    // Importing the same content again adds no version.
    let again = gateway.cli(&["model", "import", model.to_str().unwrap()])?;
    assert!(again.contains("unchanged"), "{again}");

    let mut agents = Vec::new();
    for name in DEVICES {
        agents.push(gateway.add_agent(name, "webserver", "demo", &dir.join("roots").join(name))?);
    }
    // Each agent says Hello (which records its poke URL) before we provision.
    wait_for(Duration::from_secs(60), "every agent's Hello", || {
        let n = database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")?;
        Ok((n == "3").then_some(()))
    })?;
    // The built-in Debian and RPM plug-ins were compiled by short-lived
    // children, so no agent holds the compiler's memory.
    for name in DEVICES {
        let log = gateway.agent_log(name);
        assert_eq!(log.matches("plug-in compiled in a child process").count(), 2, "{name}: {log}");
    }
    let out = gateway.cli(&["provision", DEVICES[0], DEVICES[1], DEVICES[2]])?;
    assert_eq!(out.matches("queued 6 commands").count(), 3, "{out}");
    assert_eq!(out.matches("(poke sent)").count(), 3, "{out}");

    wait_for(Duration::from_secs(120), "every device to reach its model", || {
        let applied = database
            .scalar("SELECT COUNT(*) FROM devices WHERE applied_model_version_id = desired_model_version_id")?;
        let failed = database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'failed'")?;
        anyhow::ensure!(failed == "0", "a command failed: {}", database.query("SELECT id, result FROM commands")?);
        Ok((applied == "3").then_some(()))
    })?;

    // Every queue row succeeded, in order, exactly once.
    assert_eq!(
        database.query("SELECT state, COUNT(*), MAX(attempts) FROM commands GROUP BY state")?.trim(),
        "succeeded\t18\t1"
    );

    let expected_conf = [
        (
            "etc/outfit-demo/os.conf",
            "# Managed by Outfit (role OS). Local edits are drift.\ntimezone = UTC\nntp_server = ntp.example.net\n",
        ),
        ("etc/outfit-demo/app.conf", "# Managed by Outfit (role APP).\nlisten_port = 8080\nworkers = 4\n"),
        ("etc/outfit-demo/content.conf", "# Managed by Outfit (role CONTENT).\nsite_title = \"Outfit demo shop\"\n"),
    ];
    for name in DEVICES {
        let root = dir.join("roots").join(name);
        assert_eq!(
            installed_packages(&root)?,
            ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0"],
            "{name}"
        );
        assert!(root.join("var/www/outfit-demo/index.html").is_file(), "{name}: package payload missing");
        for (path, contents) in expected_conf {
            assert_eq!(std::fs::read_to_string(root.join(path))?, contents, "{name}: {path}");
        }
        let device = format!("(SELECT id FROM devices WHERE name = '{name}')");
        // The agent's last exchange was answered with NoCommand.
        let last = database.scalar(&format!(
            "SELECT answer FROM exchanges WHERE device_id = {device} AND operation IN ('NextCommand', 'ReportResult') \
             ORDER BY id DESC LIMIT 1"
        ))?;
        assert!(last.starts_with("noCommand"), "{name}: last answer {last}");
        // After its queue drained, it reports what it holds (after its last
        // answer, so it may still be on its way): no drift.
        let drained = wait_for(Duration::from_secs(30), "the inventory after the drain", || {
            let drift = database.scalar(&format!(
                "SELECT drift FROM inventories WHERE device_id = {device} AND occasion = 'drained' \
                 ORDER BY id DESC LIMIT 1"
            ))?;
            Ok((!drift.is_empty()).then_some(drift))
        })?;
        assert_eq!(drained, "0", "{name}: its inventory matches the model");
        // Hello, NextCommand, six ReportResults at least: each on its own TCP connection.
        let counts = database.query(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT connection_serial) FROM exchanges WHERE device_id = {device}"
        ))?;
        let (total, distinct) = counts.trim().split_once('\t').unwrap();
        assert_eq!(total, distinct, "{name}: an exchange reused a connection");
        assert!(total.parse::<u32>()? >= 8, "{name}: only {total} exchanges");
    }
    drop(agents);
    Ok(())
}

#[test]
fn provisions_three_devices_on_mariadb() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    provision_three_devices(&database, dir.path())
}

#[test]
fn provisions_three_devices_on_sqlite() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("gateway"))?;
    provision_three_devices(&Database::sqlite(&dir.path().join("gateway")), dir.path())
}
