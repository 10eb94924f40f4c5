//! Package integrity: bytes that do not match their sha256 are refused, on
//! upload (model import) and on delivery (agent), and nothing is installed or lost.

use anyhow::Result;
use outfit_tests::{Database, Gateway, build_demo_model, installed_packages, wait_for};
use std::time::Duration;

#[test]
fn tampered_package_fails_its_command_and_halts_the_queue() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;

    // Corrupt the OS package in the repository after it was accepted: the
    // file server now serves bytes that do not match the model's digest.
    let digest = database.scalar("SELECT sha256 FROM components WHERE package_name = 'outfit-demo-os'")?;
    let stored = dir.path().join("gateway/repository").join(&digest);
    let mut bytes = std::fs::read(&stored)?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&stored, &bytes)?;

    let root = dir.path().join("root");
    let _agent = gateway.add_agent("victim", "webserver", "demo", &root)?;
    wait_for(Duration::from_secs(60), "Hello", || {
        Ok((database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == "1").then_some(()))
    })?;
    let before = database.query("SELECT id, version FROM model_versions")?;
    gateway.cli(&["provision", "victim"])?;

    let result = wait_for(Duration::from_secs(60), "the first command to fail", || {
        let failed = database.query("SELECT sequence, result FROM commands WHERE state = 'failed'")?;
        Ok((!failed.trim().is_empty()).then_some(failed))
    })?;
    assert!(result.starts_with("1\t"), "the first command should fail: {result}");
    assert!(result.contains("sha256 mismatch"), "{result}");
    assert!(result.contains(&digest), "the message names the expected digest: {result}");

    // The queue halts: everything after the failure stays pending, even after polls.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        database.query("SELECT state, COUNT(*) FROM commands GROUP BY state ORDER BY state")?.trim(),
        "failed\t1\npending\t5"
    );
    let answer = database.scalar("SELECT answer FROM exchanges ORDER BY id DESC LIMIT 1")?;
    assert_eq!(answer, "noCommand:halted");
    // Nothing installed, no tampered file left in the agent's spool.
    assert!(installed_packages(&root)?.is_empty());
    let spool = root.join("var/lib/outfit-agent/spool");
    assert_eq!(std::fs::read_dir(&spool)?.count(), 0, "spool keeps nothing unverified");
    // Nothing stored is lost: the model is as it was, the device still points at it.
    assert_eq!(database.query("SELECT id, version FROM model_versions")?, before);
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, "6");

    // The operator repairs the file server and retries: the same command runs
    // again and the queue completes.
    let shown = gateway.cli(&["queue", "show", "victim"])?;
    assert!(shown.contains("failed") && shown.contains("sha256 mismatch"), "{shown}");
    bytes[last] ^= 0xff;
    std::fs::write(&stored, &bytes)?;
    let retried = gateway.cli(&["queue", "retry", "victim"])?;
    assert!(retried.contains("will run again"), "{retried}");
    wait_for(Duration::from_secs(60), "the retried queue to finish", || {
        Ok((database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")? == "6").then_some(()))
    })?;
    assert_eq!(database.scalar("SELECT attempts FROM commands WHERE sequence = 1")?, "2");
    assert_eq!(installed_packages(&root)?.len(), 3);
    // Retrying a queue that is not halted is refused with the reason.
    let refused = format!("{:#}", gateway.cli(&["queue", "retry", "victim"]).unwrap_err());
    assert!(refused.contains("the queue is not halted"), "{refused}");
    Ok(())
}

#[test]
fn upload_with_a_wrong_digest_is_refused_and_stores_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    let model = build_demo_model(&dir.path().join("model"))?;
    let text = std::fs::read_to_string(&model)?;
    let wrong = format!("sha256 = \"{}\"\nformat = \"deb\"", "0".repeat(64));
    std::fs::write(&model, text.replacen("format = \"deb\"", &wrong, 1))?;

    // The CLI checks the digest the file declares before it uploads anything.
    let out = gateway.outfit(&["model", "import", model.to_str().unwrap()]).output()?;
    assert_eq!(out.status.code(), Some(6), "the invalid-input exit code");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not the 0000"), "{stderr}");
    // The gateway checks it too, whoever uploads: a PUT whose bytes do not
    // hash to the digest in its URL (curl, a client we did not write).
    let package = model.parent().unwrap().join("build/outfit-demo-os_1.0.0_all.deb");
    let url = std::fs::read_to_string(gateway.dir.join("operator.url"))?;
    let put = std::process::Command::new("curl")
        .args(["--silent", "--show-error", "--write-out", "\n%{http_code}", "--upload-file"])
        .arg(&package)
        .arg("--cacert")
        .arg(gateway.dir.join("ca.pem"))
        .arg("--cert")
        .arg(gateway.dir.join("admin/admin.pem"))
        .arg("--key")
        .arg(gateway.dir.join("admin/admin.key"))
        .arg(format!("{}/packages/{}", url.trim(), "0".repeat(64)))
        .output()?;
    let answer = String::from_utf8_lossy(&put.stdout);
    assert!(answer.ends_with("\n400") && answer.contains("not the 0000"), "{answer}");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM model_versions")?, "0");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM components")?, "0");
    let repository = gateway.dir.join("repository");
    let stored = if repository.exists() { std::fs::read_dir(&repository)?.count() } else { 0 };
    assert_eq!(stored, 0, "nothing stored, not even a partial file");
    Ok(())
}
