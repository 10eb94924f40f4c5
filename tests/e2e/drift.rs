//! Inventory, drift, remediation and promotion with real agents, real dpkg and
//! MariaDB: a managed file edited by hand shows as drift with its diff after
//! an on-demand inventory; an operator without the right cannot promote it;
//! remediation puts it back; a person with the right changes the file
//! through the agent's access endpoint asking for promotion, and the change
//! becomes a new model version every device converges to.

use anyhow::{Context, Result};
use outfit_tests::{Database, Fleet, Gateway, curl, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

const DEVICES: [&str; 3] = ["dr-1", "dr-2", "dr-3"];
const APP_CONF: &str = "etc/outfit-demo/app.conf";

fn outfit(gateway: &Gateway, args: &[&str]) -> Result<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = gateway.cli(&all)?;
    serde_json::from_str(&out).with_context(|| format!("outfit {args:?} printed {out}"))
}

fn open_drift(gateway: &Gateway, device: &str) -> Result<Vec<Value>> {
    Ok(outfit(gateway, &["drift", "list", "--device", device])?["drift"].as_array().cloned().unwrap_or_default())
}

#[test]
fn drift_is_seen_remediated_refused_and_promoted() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let Fleet { gateway, roots, agents } = Fleet::demo(dir.path(), &database, &DEVICES)?;

    // An inventory: facts of the machine, the packages dpkg holds, the files written.
    let shown = outfit(&gateway, &["inventory", "show", "dr-2"])?;
    assert!(shown["fact"].as_array().unwrap().iter().any(|f| f["name"] == "kernel"), "{shown}");
    let packages: Vec<&str> =
        shown["package"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(packages, ["outfit-demo-app", "outfit-demo-content", "outfit-demo-os"], "{shown}");
    assert!(shown["file"].as_array().unwrap().iter().all(|f| f["changed"] == false), "{shown}");
    assert!(open_drift(&gateway, "dr-2")?.is_empty());

    // Edited by hand: drift, with its diff, once an inventory is asked for.
    let conf = roots.join("dr-2").join(APP_CONF);
    let original = std::fs::read_to_string(&conf)?;
    std::fs::write(&conf, format!("{original}workers = 64\n"))?;
    gateway.cli(&["inventory", "request", "--site", "demo", "dr-2", "--wait"])?;
    let drift = open_drift(&gateway, "dr-2")?;
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!((&drift[0]["kind"], &drift[0]["subject"]), (&"file".into(), &"/etc/outfit-demo/app.conf".into()));
    assert!(drift[0]["diff"].as_str().unwrap().contains("+workers = 64"), "{drift:?}");
    let id = drift[0]["id"].as_i64().unwrap().to_string();

    // Without `change` on APP, promotion is refused, and audited.
    gateway.add_operator("noah", "a long enough passphrase")?;
    gateway.cli(&["operator", "grant", "noah", "--action", "change", "--site", "demo", "--category", "CONTENT"])?;
    let refused = gateway
        .outfit_as("noah", "a long enough passphrase", &["drift", "promote", &id, "--rollout", "none"])
        .output()?;
    assert_eq!(refused.status.code(), Some(3), "{}", String::from_utf8_lossy(&refused.stderr));
    let audit = outfit(&gateway, &["audit", "--action", "PromoteDrift"])?;
    let line = &audit["entry"].as_array().unwrap()[0];
    assert_eq!((&line["principal"], &line["outcome"]), (&"noah".into(), &"refused".into()), "{audit}");

    // Remediation writes the model's file again; the inventory after it shows no drift.
    gateway.cli(&["drift", "remediate", "dr-2", "--wait"])?;
    assert_eq!(std::fs::read_to_string(&conf)?, original);
    assert!(open_drift(&gateway, "dr-2")?.is_empty());
    let history = outfit(&gateway, &["drift", "list", "--device", "dr-2", "--history"])?;
    assert_eq!(history["drift"][0]["resolution"], "gone", "{history}");

    // A person with the right changes the file at dr-3 and asks for promotion.
    let certs = dir.path().join("certs");
    gateway.operator_with_cert("ann", &certs)?;
    gateway.cli(&["operator", "grant", "ann", "--action", "change", "--site", "demo", "--category", "APP"])?;
    gateway.cli(&["operator", "grant", "ann", "--action", "deploy", "--site", "demo"])?;
    let poke_url = database.scalar("SELECT poke_url FROM devices WHERE name = 'dr-3'")?;
    let base = poke_url.trim_end_matches(outfit_wsdl::AGENT_POKE_PATH).to_owned();
    let change = json!({
        "category": "APP",
        "component": "web",
        "path": "/etc/outfit-demo/app.conf",
        "template": "# tuned at the device\nlisten_port = {{ listen_port }}\nworkers = {{ workers }}\n",
        "parameters": { "listen_port": "8080", "workers": "8" },
        "promote": true,
    });
    let (status, body) =
        curl(&gateway, &certs, Some("ann"), &format!("{base}/access/configure"), Some(&change.to_string()))?;
    assert_eq!(status, 200, "{body}");
    gateway.cli(&["inventory", "request", "--site", "demo", "dr-3", "--wait"])?;
    // The gateway promoted it as ann: version 2, rolled out to every device.
    let versions = wait_for(Duration::from_secs(30), "the promotion", || {
        let history = outfit(&gateway, &["model", "history", "webserver", "--site", "demo"])?;
        Ok((history["version"].as_array().map_or(0, Vec::len) == 2).then_some(history))
    })?;
    assert_eq!(versions["version"][1]["author"], "ann", "{versions}");
    let rollouts = outfit(&gateway, &["rollout", "list", "--site", "demo", "--model", "webserver"])?;
    let id = rollouts["rollout"][0]["id"].as_i64().context("the promotion's rollout")?;
    let done = wait_for(Duration::from_secs(120), "the promotion's rollout", || {
        let shown = outfit(&gateway, &["rollout", "show", &id.to_string()])?;
        Ok((shown["rollout"]["state"] != "running").then_some(shown))
    })?;
    assert_eq!((&done["rollout"]["state"], &done["rollout"]["version"]), (&"completed".into(), &2.into()), "{done}");
    let expected = "# tuned at the device\nlisten_port = 8080\nworkers = 8\n";
    for name in DEVICES {
        assert_eq!(std::fs::read_to_string(roots.join(name).join(APP_CONF))?, expected, "{name}");
        assert!(open_drift(&gateway, name)?.is_empty(), "{name} converged");
    }
    drop(agents);
    Ok(())
}
