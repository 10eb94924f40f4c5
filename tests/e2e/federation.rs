//! Two data centres that share a site, each a gateway with its own database:
//! A (MariaDB, this namespace) is the site's home; B (SQLite) serves in a
//! network namespace of its own, its agent in another. A model authored in A
//! provisions a device in B with real dpkg; the link between the centres is
//! cut (the veth of B's namespace goes down), the same model is edited on
//! both sides, the link comes back, and both converge by the rule: equal
//! digests, A's edit current, B's edit refused with its reason on both
//! sides. Each package crosses between the centres once.

use anyhow::{Context, Result};
use outfit_tests::netns::Bridge;
use outfit_tests::{Database, Gateway, build_demo_model, curl, installed_packages, run, wait_for};
use std::time::Duration;

/// `peer status --json` of a gateway.
fn status(gateway: &Gateway) -> Result<serde_json::Value> {
    Ok(serde_json::from_str(&gateway.local(&["peer", "status", "--json"])?)?)
}

fn digest(gateway: &Gateway) -> Result<String> {
    let status = status(gateway)?;
    let site = &status["sites"][0];
    anyhow::ensure!(site["site"] == "demo", "{status}");
    Ok(site["digest"].as_str().context("a digest")?.to_owned())
}

/// Waits until both data centres hold the same state of the shared site.
fn converged(a: &Gateway, b: &Gateway, what: &str) -> Result<String> {
    wait_for(Duration::from_secs(60), what, || {
        let (da, db) = (digest(a)?, digest(b)?);
        Ok((da == db).then_some(da))
    })
}

fn set_title(gateway: &Gateway, title: &str, reason: &str) -> Result<String> {
    gateway.cli(&[
        "model",
        "set-parameter",
        "--site",
        "demo",
        "--model",
        "webserver",
        "--category",
        "CONTENT",
        "--component",
        "site",
        &format!("site_title={title}"),
        "--reason",
        reason,
    ])
}

/// (state, decision) of the one proposal of `gateway`'s data centre.
fn proposals(gateway: &Gateway) -> Result<String> {
    gateway.cli(&["model", "proposals", "webserver", "--site", "demo"])
}

#[test]
fn a_site_shared_by_two_data_centres_converges_by_the_rule_after_a_cut() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut bridge = Bridge::create()?;
    let (dc_b, agent_net) = (bridge.add(0)?, bridge.add(1)?);
    let here = |address: &str| format!("{address}:0");
    let a_db = Database::mariadb()?;
    let a = Gateway::start_with(
        &dir.path().join("a"),
        &a_db,
        &[
            "--listen",
            &here(&bridge.gateway_ip),
            "--operator-listen",
            &here(&bridge.gateway_ip),
            "--san",
            &bridge.gateway_ip,
        ],
    )?;
    let b_db = Database::sqlite(&dir.path().join("b"));
    let b = Gateway::start_in(
        &dir.path().join("b"),
        &b_db,
        &["--listen", &here(&dc_b.address), "--operator-listen", &here(&dc_b.address), "--san", &dc_b.address],
        Some(&dc_b.netns),
    )?;
    let model = build_demo_model(&dir.path().join("model"))?;
    a.cli(&["model", "import", model.to_str().unwrap(), "--reason", "first"])?;

    // Pairing: each side issues the other a certificate, then installs the one it got.
    let url = |g: &Gateway| std::fs::read_to_string(g.dir.join("operator.url")).map(|u| u.trim().to_owned());
    let (for_b, for_a) = (dir.path().join("for-b"), dir.path().join("for-a"));
    a.local(&[
        "peer",
        "add",
        "dc-b",
        "--url",
        &url(&b)?,
        "--site",
        "demo",
        "--data-centre",
        "dc-a",
        "--out",
        for_b.to_str().unwrap(),
    ])?;
    b.local(&[
        "peer",
        "add",
        "dc-a",
        "--url",
        &url(&a)?,
        "--site",
        "demo",
        "--data-centre",
        "dc-b",
        "--out",
        for_a.to_str().unwrap(),
    ])?;
    a.local(&["peer", "trust", "dc-b", "--from", for_a.to_str().unwrap()])?;
    b.local(&["peer", "trust", "dc-a", "--from", for_b.to_str().unwrap()])?;

    // The model authored in A reaches B, with its packages, and builds a device there.
    let first = converged(&a, &b, "B to hold the model authored in A")?;
    let shown = b.cli(&["model", "show", "webserver", "--site", "demo"])?;
    assert!(shown.contains("outfit-demo-content"), "{shown}");
    b.register("web-b", "webserver", "demo", &agent_net.address)?;
    let root = dir.path().join("roots/web-b");
    let _agent = b.start_agent_in("web-b", &root, &b.url, Some(&agent_net))?;
    wait_for(Duration::from_secs(60), "the agent's Hello", || {
        Ok((b_db.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == "1").then_some(()))
    })?;
    b.cli(&["provision", "web-b"])?;
    wait_for(Duration::from_secs(120), "web-b to reach the model", || {
        let failed = b_db.scalar("SELECT COUNT(*) FROM commands WHERE state = 'failed'")?;
        anyhow::ensure!(failed == "0", "{}", b_db.query("SELECT kind, state, result FROM commands")?);
        let done =
            b_db.scalar("SELECT COUNT(*) FROM devices WHERE applied_model_version_id = desired_model_version_id")?;
        Ok((done == "1").then_some(()))
    })?;
    let installed = installed_packages(&root)?;
    assert!(installed.iter().any(|p| p.starts_with("outfit-demo-content")), "{installed:?}");
    let transfers = "SELECT COUNT(*), COUNT(DISTINCT object) FROM audit_log \
                     WHERE action = 'ReleasePackageToPeer' AND outcome = 'allowed'";
    assert_eq!(a_db.scalar(transfers)?, "3\t3", "each of the 3 packages crossed once");

    // Cut off, both sides edit the same model: A makes version 2, B a proposal.
    dc_b.cut()?;
    let made = set_title(&a, "Shop of A", "A's title")?;
    assert!(made.contains("new model version 2"), "{made}");
    let proposed = set_title(&b, "Shop of B", "B's title")?;
    assert!(proposed.contains("proposed to the site's home data centre as dc-b#"), "{proposed}");
    std::thread::sleep(Duration::from_secs(3));
    assert_ne!(digest(&a)?, digest(&b)?, "they cannot agree while cut off");
    assert!(proposals(&b)?.contains("pending"), "{}", proposals(&b)?);
    dc_b.restore()?;

    // Back together: the home's version stands, B's edit is refused, visibly, on both sides.
    let after = converged(&a, &b, "the data centres to agree after the cut")?;
    assert_ne!(after, first);
    for gateway in [&a, &b] {
        let listed = proposals(gateway)?;
        assert!(listed.contains("refused"), "{listed}");
        assert!(
            listed.contains("made from version 1, but version 2 by admin (A's title) is current at dc-a"),
            "{listed}"
        );
        let shown = gateway.cli(&["--json", "model", "show", "webserver", "--site", "demo"])?;
        assert!(shown.contains("\"version\": 2") || shown.contains("\"version\":2"), "{shown}");
        assert!(shown.contains("Shop of A") && !shown.contains("Shop of B"), "{shown}");
    }

    // The console shows it too; the peer service takes only a peer's
    // certificate, and a peer only the packages of the sites it shares.
    let base = url(&a)?;
    let (status, page) =
        curl(&a, &a.dir.join("admin"), Some("admin"), &format!("{base}/console/models/demo/webserver"), None)?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Proposals") && page.contains("made from version 1"), "{page}");
    let other = "0".repeat(64);
    let package = |cert: &std::path::Path, key: &std::path::Path, sha: &str| -> Result<String> {
        let mut command = std::process::Command::new("curl");
        command.args(["--silent", "--output", "/dev/null", "--write-out", "%{http_code}", "--cacert"]);
        command.arg(a.dir.join("ca.pem")).arg("--cert").arg(cert).arg("--key").arg(key);
        run(command.arg(format!("{base}/peer/packages/{sha}")))
    };
    let (admin_cert, admin_key) = (a.dir.join("admin/admin.pem"), a.dir.join("admin/admin.key"));
    assert_eq!(package(&admin_cert, &admin_key, &other)?, "401", "an operator is not a peer");
    assert_eq!(package(&for_b.join("cert.pem"), &for_b.join("key.pem"), &other)?, "403", "no shared site uses it");

    // An edit in B made from the current version is accepted by the home.
    let proposed = set_title(&b, "Shop of B, again", "made from version 2")?;
    assert!(proposed.contains("proposed"), "{proposed}");
    converged(&a, &b, "the accepted proposal to reach both sides")?;
    let versions = a.cli(&["model", "history", "webserver", "--site", "demo"])?;
    assert!(versions.contains("admin@dc-b"), "the home's version 3 names its author: {versions}");
    b.cli(&["provision", "web-b"])?;
    wait_for(Duration::from_secs(60), "web-b to take version 3", || {
        let conf = std::fs::read_to_string(root.join("etc/outfit-demo/content.conf")).unwrap_or_default();
        Ok(conf.contains("Shop of B, again").then_some(()))
    })?;
    assert_eq!(a_db.scalar(transfers)?, "3\t3", "no package crossed twice");
    let shared = a_db.scalar("SELECT sha256 FROM components LIMIT 1")?;
    assert_eq!(package(&for_b.join("cert.pem"), &for_b.join("key.pem"), &shared)?, "200", "its own certificate");
    Ok(())
}
