//! People at a device: an operator reaches the agent's access endpoint with
//! their client certificate (curl here, as a browser would), the agent asks
//! the gateway about every request, the gateway decides from its trust
//! hierarchy and audits, and what the person changed is recorded on the
//! device with their identity. The same certificate authenticates on the
//! operator listener without a password (zeep).

use anyhow::Result;
use outfit_tests::{Database, Gateway, curl, wait_for};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn operator(gateway: &Gateway, certs: &Path, name: &str) -> Result<()> {
    gateway.operator_with_cert(name, certs)
}

fn configure(category: &str, component: &str, path: &str) -> String {
    serde_json::json!({
        "category": category,
        "component": component,
        "path": path,
        "template": "greeting={{ greeting }}\n",
        "parameters": { "greeting": "tried at the console" },
    })
    .to_string()
}

#[test]
fn a_person_at_the_device_is_authorised_by_the_gateway_and_recorded() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("root");
    let _agent = gateway.add_agent("acc-1", "webserver", "demo", &root)?;
    let poke_url = wait_for(Duration::from_secs(60), "the agent's Hello", || {
        Ok(database
            .query("SELECT poke_url FROM devices WHERE name = 'acc-1' AND poke_url IS NOT NULL")?
            .lines()
            .next()
            .map(str::to_owned))
    })?;
    let base = poke_url.trim_end_matches(outfit_wsdl::AGENT_POKE_PATH).to_owned();

    let certs = dir.path().join("certs");
    operator(&gateway, &certs, "ann")?;
    operator(&gateway, &certs, "bob")?;
    gateway.cli(&["operator", "grant", "ann", "--action", "read", "--site", "demo"])?;
    gateway.cli(&["operator", "grant", "ann", "--action", "change", "--site", "demo", "--category", "CONTENT"])?;

    // Read: ann may, bob (no right) may not, and without a certificate nothing.
    let (status, body) = curl(&gateway, &certs, Some("ann"), &format!("{base}/access/status"), None)?;
    assert_eq!(status, 200, "{body}");
    let shown: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!((shown["device"].as_str(), shown["operator"].as_str()), (Some("acc-1"), Some("ann")), "{body}");
    let (status, body) = curl(&gateway, &certs, Some("bob"), &format!("{base}/access/status"), None)?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("`bob` has no right to read"), "{body}");
    let refused = Command::new("curl")
        .args(["--silent", "--cacert"])
        .arg(gateway.dir.join("ca.pem"))
        .arg(format!("{base}/access/status"))
        .output()?;
    // The listener requires a client certificate: curl fails the handshake.
    assert!(!refused.status.success(), "a request without a certificate got through");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("acc-1"), "no certificate, no answer");
    // A device's certificate is not a person's.
    let device_certs = gateway.agent_dir("acc-1");
    let state = root.join("var/lib/outfit-agent/identity");
    std::fs::copy(state.join("cert.pem"), device_certs.join("device.pem"))?;
    std::fs::copy(state.join("key.pem"), device_certs.join("device.key"))?;
    let (status, body) = curl(&gateway, &device_certs, Some("device"), &format!("{base}/access/status"), None)?;
    assert_eq!(status, 401, "{body}");

    // Change: ann may try the configuration of a CONTENT component, but
    // neither another file (the OS plug-in could write any of /etc) nor an OS one.
    let attempt = |category: &str, component: &str, path: &str| {
        let url = format!("{base}/access/configure");
        curl(&gateway, &certs, Some("ann"), &url, Some(&configure(category, component, path)))
    };
    let (status, body) = attempt("CONTENT", "site", "/etc/outfit-demo/content.conf")?;
    assert_eq!(status, 200, "{body}");
    let tried = root.join("etc/outfit-demo/content.conf");
    assert_eq!(std::fs::read_to_string(&tried)?, "greeting=tried at the console\n");
    let (status, body) = attempt("CONTENT", "site", "/etc/shadow")?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("no component `site` of the CONTENT roles of `acc-1` configures `/etc/shadow`"), "{body}");
    assert!(!root.join("etc/shadow").exists(), "a refused change writes nothing");
    let (status, body) = attempt("OS", "base", "/etc/outfit-demo/os.conf")?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("no right to change OS roles"), "{body}");

    // The device keeps who changed what; the gateway audited every question.
    let changes = std::fs::read_to_string(root.join("var/lib/outfit-agent/local-changes.jsonl"))?;
    let lines: Vec<serde_json::Value> = changes.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 1, "{changes}");
    assert_eq!(lines[0]["operator"], "ann");
    assert_eq!(lines[0]["path"], "/etc/outfit-demo/content.conf");
    assert_eq!(lines[0]["outcome"], "succeeded");
    let audit = database.query(
        "SELECT principal, action, outcome, object FROM audit_log WHERE action LIKE 'AgentAccess:%' ORDER BY id",
    )?;
    let audit: Vec<&str> = audit.lines().collect();
    assert_eq!(
        audit,
        [
            "ann\tAgentAccess:read\tallowed\tacc-1 status",
            "bob\tAgentAccess:read\trefused\tacc-1 status",
            "ann\tAgentAccess:change\tallowed\tacc-1 configure site /etc/outfit-demo/content.conf",
            "ann\tAgentAccess:change\trefused\tacc-1 configure site /etc/shadow",
            "ann\tAgentAccess:change\trefused\tacc-1 configure base /etc/outfit-demo/os.conf",
        ]
    );

    // The operator certificate also stands in for a password on the operator listener.
    let fields = [
        ("site", "demo"),
        ("model", "webserver"),
        ("category", "CONTENT"),
        ("component", "site"),
        ("name", "greeting"),
        ("value", "set with a certificate"),
    ];
    let (cert, key) = (certs.join("ann.pem"), certs.join("ann.key"));
    let with_certificate =
        || crate::operators::call_operator(&gateway, "-", "-", Some((&cert, &key)), "SetParameter", &fields);
    let out = with_certificate()?;
    assert!(out.contains(r#""created": true"#), "{out}");
    let last = database.scalar("SELECT CONCAT(principal, ' ', outcome) FROM audit_log ORDER BY id DESC LIMIT 1")?;
    assert_eq!(last, "ann allowed");

    // Revoked, the certificate opens nothing any more, at the agent or the gateway.
    gateway.cli(&["operator", "revoke", "ann"])?;
    let (status, body) = curl(&gateway, &certs, Some("ann"), &format!("{base}/access/status"), None)?;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("no valid operator certificate"), "{body}");
    let out = with_certificate()?;
    assert!(out.contains(r#""detail": "Unauthenticated""#), "{out}");
    Ok(())
}

/// The same endpoint as a page in Debian's Chromium
/// (`tests/fixtures/console/agent-page.mjs`): shown and used with an
/// operator certificate, refused without one or from another origin.
#[test]
fn a_person_at_the_device_uses_the_agents_page_in_a_browser() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("root");
    let _agent = gateway.add_agent("acc-page", "webserver", "demo", &root)?;
    gateway.reported("acc-page")?;
    let poke_url = database.scalar("SELECT poke_url FROM devices WHERE name = 'acc-page'")?;
    let base = poke_url.trim_end_matches(outfit_wsdl::AGENT_POKE_PATH).to_owned();
    let certs = dir.path().join("certs");
    operator(&gateway, &certs, "cat")?;
    gateway.cli(&["operator", "grant", "cat", "--action", "read", "--site", "demo"])?;
    gateway.cli(&["operator", "grant", "cat", "--action", "change", "--site", "demo", "--category", "CONTENT"])?;

    let shots = outfit_tests::workspace().join("target/test-artefacts/agent-page");
    std::fs::create_dir_all(&shots)?;
    let fixture = outfit_tests::workspace().join("tests/fixtures/console");
    let out = outfit_tests::run(
        Command::new("node")
            .arg(fixture.join("agent-page.mjs"))
            .current_dir(&fixture)
            .env("AGENT", &base)
            .env("CERT", certs.join("cat.pem"))
            .env("KEY", certs.join("cat.key"))
            .env("SHOTS", &shots),
    )?;
    let seen: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or(""))?;
    assert_eq!(seen["status"], 200, "{seen}");
    let page = seen["page"].as_str().unwrap_or_default();
    assert!(page.contains("Device acc-page") && page.contains("you are cat") && page.contains("debian"), "{page}");
    let tried = seen["tried"].as_str().unwrap_or_default();
    assert!(tried.contains("/etc/outfit-demo/content.conf: succeeded"), "{tried}");
    let conf = std::fs::read_to_string(root.join("etc/outfit-demo/content.conf"))?;
    assert_eq!(conf, "greeting=tried in a browser\n");
    assert_eq!(seen["crossSite"], 403, "{seen}");
    let refused = seen["withoutCertificate"].as_str().unwrap_or_default();
    assert!(refused.contains("net::ERR_"), "a browser without a certificate got an answer: {seen}");
    let changes = std::fs::read_to_string(root.join("var/lib/outfit-agent/local-changes.jsonl"))?;
    assert_eq!(changes.lines().count(), 1, "only the trial from the page ran: {changes}");
    assert!(changes.contains(r#""operator":"cat""#), "{changes}");
    Ok(())
}
