//! Interoperability: zeep (Python), a SOAP toolkit we did not write, loads our WSDL
//! and talks to a real gateway over TLS with the CA pinned.

use anyhow::Result;
use outfit_tests::{Gateway, run, workspace};

#[test]
fn zeep_client_speaks_to_the_gateway_through_the_wsdl() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["device", "add", "zeep-1", "--site", "demo", "--model", "webserver"])?;
    let identity = dir.path().join("zeep-identity");
    std::fs::create_dir_all(&identity)?;
    let (enrolled, stderr) =
        gateway.enrol("zeep-1", "demo", &gateway.token("zeep-1", "demo", "127.0.0.1")?, &identity)?;
    assert!(enrolled, "{stderr}");

    let out = run(std::process::Command::new("python3")
        .arg(workspace().join("tests/fixtures/zeep/client.py"))
        .arg(workspace().join("wsdl/outfit-agent.wsdl"))
        .arg(&gateway.url)
        .arg(gateway.dir.join("ca.pem"))
        .arg("zeep-1")
        .arg(identity.join("identity/cert.pem"))
        .arg(identity.join("identity/key.pem")))?;
    let line = out.lines().last().unwrap_or_default();
    assert!(line.contains(r#""hello_pending": 0"#), "{out}");
    assert!(line.contains(r#""next_no_command_reason": "empty""#), "{out}");
    assert!(line.contains(r#""next_command": false"#), "{out}");
    assert!(line.contains(r#""detail": "Forbidden""#), "{out}");
    assert!(line.contains(r#""code": "soapenv:Client""#), "{out}");
    // The gateway recorded zeep's Hello like any agent's.
    assert_eq!(database.scalar("SELECT boot_id FROM devices WHERE name = 'zeep-1'")?, "zeep-boot");
    Ok(())
}
