//! A file server near the devices: `outfit-gateway file-server add` issues
//! its certificate, `outfit-fileserver` serves the devices of its site, asks
//! the gateway per download, and copies each package from the gateway once.
//! Two devices are provisioned with real dpkg from it; a device asking for a
//! package outside its model, and callers that are not devices or not file
//! servers, are refused; with the file server gone, a third device
//! downloads from the gateway instead.

use anyhow::{Context, Result};
use outfit_tests::{Database, Gateway, Process, bin, build_demo_model, installed_packages, run, wait_for};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A port nothing listens on now (the file server's URL names it before it runs).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_file_server(dir: &Path, port: u16) -> Result<Process> {
    let _ = std::fs::remove_file(dir.join("listening.addr"));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("fileserver.log"))?;
    let child = Command::new(bin("outfit-fileserver"))
        .arg("--dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let process = Process { child, name: "fs1".into() };
    wait_for(Duration::from_secs(20), "the file server to listen", || {
        Ok(dir.join("listening.addr").exists().then_some(()))
    })?;
    Ok(process)
}

/// `curl` with a client certificate: (HTTP status, body).
fn fetch(ca: &Path, cert: &Path, key: &Path, url: &str, data: Option<&str>) -> Result<(u16, String)> {
    let mut command = Command::new("curl");
    command.args(["--silent", "--write-out", "\n%{http_code}", "--cacert"]).arg(ca);
    command.arg("--cert").arg(cert).arg("--key").arg(key);
    if let Some(data) = data {
        command.args(["--header", "Content-Type: text/xml", "--data-binary", data]);
    }
    let out = run(command.arg(url))?;
    let (body, status) = out.rsplit_once('\n').context("curl printed a status")?;
    Ok((status.trim().parse()?, body.to_owned()))
}

fn provision(gateway: &Gateway, db: &Database, device: &str) -> Result<()> {
    gateway.cli(&["provision", device])?;
    wait_for(Duration::from_secs(120), &format!("{device} to reach the model"), || {
        let failed = db.scalar("SELECT COUNT(*) FROM commands WHERE state = 'failed'")?;
        anyhow::ensure!(failed == "0", "{}", db.query("SELECT kind, state, result FROM commands")?);
        let done = db.scalar(&format!(
            "SELECT COUNT(*) FROM devices WHERE name = '{device}' AND applied_model_version_id = desired_model_version_id"
        ))?;
        Ok((done == "1").then_some(()))
    })
}

#[test]
fn devices_download_from_their_file_server_which_asks_the_gateway() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (db, gateway) = Gateway::start_on_sqlite(&dir.path().join("gateway"))?;
    let model = build_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["model", "import", model.to_str().unwrap(), "--rollout", "none"])?;
    let files = dir.path().join("fs1");
    let port = free_port()?;
    let url = format!("https://127.0.0.1:{port}");
    let added = gateway.local(&[
        "file-server",
        "add",
        "fs1",
        "--url",
        &url,
        "--site",
        "demo",
        "--out",
        files.to_str().unwrap(),
    ])?;
    assert!(added.contains("file server fs1 added"), "{added}");
    let listed = gateway.local(&["file-server", "list"])?;
    assert!(listed.contains(&format!("fs1 at {url} serving demo")), "{listed}");
    let file_server = start_file_server(&files, port)?;

    // Two devices of the site are provisioned from the file server.
    let roots = dir.path().join("roots");
    let mut agents = Vec::new();
    for device in ["web-1", "web-2"] {
        agents.push(gateway.add_agent(device, "webserver", "demo", &roots.join(device))?);
        gateway.reported(device)?;
        provision(&gateway, &db, device)?;
        let installed = installed_packages(&roots.join(device))?;
        assert!(installed.iter().any(|p| p.starts_with("outfit-demo-content")), "{installed:?}");
    }
    let log = std::fs::read_to_string(files.join("fileserver.log"))?;
    let downloads = log.lines().filter(|l| l.contains(": download device=")).count();
    assert_eq!(downloads, 6, "3 packages to each of 2 devices:\n{log}");
    let stored = std::fs::read_dir(files.join("store"))?.count();
    assert_eq!(stored, 3, "the store holds each package once");
    let copies = "SELECT COUNT(*), COUNT(DISTINCT object) FROM audit_log \
                  WHERE action = 'ReleasePackageToFileServer' AND outcome = 'allowed'";
    assert_eq!(db.scalar(copies)?, "3\t3", "each package was copied from the gateway once");

    // A device asking for a package outside its model is refused, with the reason.
    let ca = gateway.dir.join("ca.pem");
    let state = roots.join("web-1/var/lib/outfit-agent/identity");
    let (device_cert, device_key) = (state.join("cert.pem"), state.join("key.pem"));
    let other = "0".repeat(64);
    let (status, body) = fetch(&ca, &device_cert, &device_key, &format!("{url}/repository/{other}"), None)?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("neither a command nor the model of `web-1` holds this package"), "{body}");
    let shared = db.scalar("SELECT sha256 FROM components LIMIT 1")?;
    let (status, _) = fetch(&ca, &device_cert, &device_key, &format!("{url}/repository/{shared}"), None)?;
    assert_eq!(status, 200, "a package of its model");
    // An operator's certificate is no device's.
    let (admin_cert, admin_key) = (gateway.dir.join("admin/admin.pem"), gateway.dir.join("admin/admin.key"));
    let (status, body) = fetch(&ca, &admin_cert, &admin_key, &format!("{url}/repository/{shared}"), None)?;
    assert_eq!(status, 403, "{body}");
    // The gateway's file-server service takes only a file server's certificate,
    // and copies out only the packages of the sites it serves.
    let operator = std::fs::read_to_string(gateway.dir.join("operator.url"))?.trim().to_owned();
    let check = outfit_wsdl::file_server::CheckRelease::new(b"not a certificate", "127.0.0.1:1", &shared).encode();
    let (status, body) = fetch(&ca, &admin_cert, &admin_key, &format!("{operator}/soap/file-server"), Some(&check))?;
    assert!(status == 500 && body.contains("Unauthenticated"), "{status} {body}");
    let (fs_cert, fs_key) = (files.join("cert.pem"), files.join("key.pem"));
    let (status, _) = fetch(&ca, &fs_cert, &fs_key, &format!("{operator}/file-server/packages/{other}"), None)?;
    assert_eq!(status, 403, "no site of the file server uses it");
    let (status, _) =
        fetch(&ca, &device_cert, &device_key, &format!("{operator}/file-server/packages/{shared}"), None)?;
    assert_eq!(status, 401, "a device is not a file server");

    // Without its file server, a device downloads from the gateway.
    drop(file_server);
    agents.push(gateway.add_agent("web-3", "webserver", "demo", &roots.join("web-3"))?);
    gateway.reported("web-3")?;
    provision(&gateway, &db, "web-3")?;
    let agent_log = gateway.agent_log("web-3");
    assert!(agent_log.contains("file server unavailable; downloading from the gateway"), "{agent_log}");
    Ok(())
}
