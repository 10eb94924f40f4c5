//! The trust hierarchy for personnel: an operator authenticates with a
//! WS-Security UsernameToken (sent by zeep, a SOAP client we did not write) on
//! the gateway's operator listener, and may only do what a right grants, per
//! site × role category × action. Every call, allowed or refused, is audited.

use anyhow::{Context, Result};
use outfit_tests::{Database, Gateway, run, workspace};
use std::path::Path;

const PASSWORD: &str = "content editor passphrase";

/// One operator call through zeep (USER `-`: with `certificate`, a pair of
/// files, instead of a UsernameToken); returns its JSON line.
pub fn call_operator(
    gateway: &Gateway,
    user: &str,
    password: &str,
    certificate: Option<(&Path, &Path)>,
    operation: &str,
    fields: &[(&str, &str)],
) -> Result<String> {
    let url = std::fs::read_to_string(gateway.dir.join("operator.url")).context("read operator.url")?;
    let mut command = std::process::Command::new("python3");
    command
        .arg(workspace().join("tests/fixtures/zeep/operator.py"))
        .arg(workspace().join("wsdl/outfit-operator.wsdl"))
        .arg(url.trim())
        .arg(gateway.dir.join("ca.pem"))
        .args([user, password, operation])
        .args(fields.iter().map(|(name, value)| format!("{name}={value}")));
    if let Some((cert, key)) = certificate {
        command.env("OPERATOR_CERT", cert).env("OPERATOR_KEY", key);
    }
    let out = run(&mut command)?;
    Ok(out.lines().last().unwrap_or_default().to_owned())
}

/// One SetParameter call through zeep; returns its JSON line.
fn set_parameter(
    gateway: &Gateway,
    user: &str,
    password: &str,
    site: &str,
    category: &str,
    component: &str,
) -> Result<String> {
    let fields = [
        ("site", site),
        ("model", "webserver"),
        ("category", category),
        ("component", component),
        ("name", "greeting"),
        ("value", "hello from ann"),
    ];
    call_operator(gateway, user, password, None, "SetParameter", &fields)
}

#[test]
fn an_operator_changes_only_what_a_right_allows_and_everything_is_audited() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    // Site `demo` and a second site `other` with the same device type.
    gateway.import_demo_model(&dir.path().join("model"))?;
    let other = dir.path().join("other");
    run(std::process::Command::new("cp").arg("-r").arg(dir.path().join("model")).arg(&other))?;
    let model = std::fs::read_to_string(other.join("model.toml"))?.replace(r#"site = "demo""#, r#"site = "other""#);
    std::fs::write(other.join("model.toml"), model)?;
    gateway.cli(&["model", "import", other.join("model.toml").to_str().unwrap()])?;

    let add = gateway.add_operator("ann", PASSWORD)?;
    assert!(add.contains("ann: added"), "{add}");
    gateway.cli(&["operator", "grant", "ann", "--action", "change", "--site", "demo", "--category", "CONTENT"])?;
    let stored = database.scalar("SELECT password_hash FROM operators WHERE name = 'ann'")?;
    assert!(stored.starts_with("$argon2id$") && !stored.contains(PASSWORD), "only a hash is stored: {stored}");

    // Allowed: CONTENT of site demo. A new model version (2) becomes current.
    let allowed = set_parameter(&gateway, "ann", PASSWORD, "demo", "CONTENT", "site")?;
    assert!(allowed.contains(r#""modelVersion": 2"#) && allowed.contains(r#""created": true"#), "{allowed}");
    let value = database.scalar(
        "SELECT p.value FROM role_version_parameters p JOIN model_version_roles r ON r.role_version_id = p.role_version_id \
         JOIN models m ON m.current_version_id = r.model_version_id JOIN sites s ON s.id = m.site_id \
         WHERE s.name = 'demo' AND p.name = 'greeting'",
    )?;
    assert_eq!(value, "hello from ann");

    // Refused: an OS role of the same site, and CONTENT of another site.
    for (site, category, component) in [("demo", "OS", "base"), ("other", "CONTENT", "site")] {
        let refused = set_parameter(&gateway, "ann", PASSWORD, site, category, component)?;
        assert!(refused.contains(r#""detail": "Forbidden""#), "{site}/{category}: {refused}");
    }
    // Refused: a wrong password, and an operator who does not exist.
    for (user, password) in [("ann", "not the passphrase"), ("mallory", PASSWORD)] {
        let refused = set_parameter(&gateway, user, password, "demo", "CONTENT", "site")?;
        assert!(refused.contains(r#""detail": "Unauthenticated""#), "{user}: {refused}");
    }
    // Nothing refused changed a model: still two versions of demo's, one of other's.
    assert_eq!(
        database.scalar("SELECT COUNT(*) FROM model_versions v JOIN models m ON m.id = v.model_id JOIN sites s ON s.id = m.site_id WHERE s.name = 'demo'")?,
        "2"
    );
    assert_eq!(
        database.scalar("SELECT COUNT(*) FROM model_versions v JOIN models m ON m.id = v.model_id JOIN sites s ON s.id = m.site_id WHERE s.name = 'other'")?,
        "1"
    );

    // The audit log has every call: who, what, where, from where, and the outcome.
    let audit = database.query(
        "SELECT principal, action, site, outcome, detail, peer FROM audit_log WHERE action = 'SetParameter' ORDER BY id",
    )?;
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 5, "{audit}");
    assert!(lines[0].starts_with("ann\tSetParameter\tdemo\tallowed\tmodel version 2\t127.0.0.1:"), "{audit}");
    assert!(lines[1].starts_with("ann\tSetParameter\tdemo\trefused\tForbidden"), "{audit}");
    assert!(lines[2].starts_with("ann\tSetParameter\tother\trefused\tForbidden"), "{audit}");
    assert!(lines[3].starts_with("ann\tSetParameter\tdemo\trefused\tUnauthenticated"), "{audit}");
    assert!(lines[4].starts_with("mallory\tSetParameter\tdemo\trefused\tUnauthenticated"), "{audit}");
    let shown: serde_json::Value = serde_json::from_str(&gateway.cli(&["--json", "audit", "--site", "demo"])?)?;
    let entries = shown["entry"].as_array().unwrap();
    let has = |principal: &str, outcome: &str, action: &str, object: &str| {
        entries.iter().any(|e| {
            e["principal"] == principal && e["outcome"] == outcome && e["action"] == action && e["object"] == object
        })
    };
    assert!(has("ann", "allowed", "SetParameter", "webserver/CONTENT site.greeting"), "{shown}");
    assert!(has("admin", "allowed", "Grant", "operator ann"), "granting is audited too: {shown}");

    // Reading the audit log is itself limited by rights: with `read` of demo
    // only, ann gets a full page of demo's lines, however many newer lines of
    // another site (or of none) there are.
    gateway.cli(&["operator", "grant", "ann", "--action", "read", "--site", "demo"])?;
    for site in ["'other'", "NULL"] {
        database.query(&format!(
            "INSERT INTO audit_log (principal, action, site, object, peer, outcome, detail, created_at) \
             SELECT 'bob', 'SetParameter', {site}, 'x', 'cli', 'allowed', '', 0 FROM seq_1_to_300"
        ))?;
    }
    let page: serde_json::Value =
        serde_json::from_str(&call_operator(&gateway, "ann", PASSWORD, None, "ListAudit", &[("limit", "5")])?)?;
    let page = &page["ok"];
    let entries = page.as_array().or_else(|| page["entry"].as_array()).context("entries")?;
    assert_eq!(entries.len(), 5, "a full page: {page}");
    assert!(entries.iter().all(|e| e["site"] == "demo"), "only demo's lines: {page}");

    // The agent endpoint knows nothing of operator operations.
    let agent_side = std::fs::read_to_string(gateway.dir.join("operator.url"))?;
    assert_ne!(agent_side.trim(), gateway.url, "operators are served apart from agents");
    Ok(())
}

/// `Provision` installs every role of the device's model, so it needs the
/// `deploy` right for each of their categories; a right held by a group
/// holds for its members. The allowed call really builds the device.
#[test]
fn deploying_needs_the_right_on_every_category_and_a_group_can_hold_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("root");
    let _agent = gateway.add_agent("dep-1", "webserver", "demo", &root)?;
    for name in ["carl", "dana"] {
        gateway.add_operator(name, PASSWORD)?;
    }
    for category in ["OS", "APP"] {
        gateway.cli(&["operator", "grant", "carl", "--action", "deploy", "--site", "demo", "--category", category])?;
    }
    let provision = |user: &str, device: &str| {
        call_operator(&gateway, user, PASSWORD, None, "Provision", &[("site", "demo"), ("device", device)])
    };

    // carl may deploy OS and APP, but the model has a CONTENT role too.
    let refused = provision("carl", "dep-1")?;
    assert!(refused.contains(r#""detail": "Forbidden""#) && refused.contains("deploy CONTENT"), "{refused}");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, "0", "a refusal queues nothing");

    // dana holds nothing herself; her group may deploy anything on site demo.
    let before_group = provision("dana", "dep-1")?;
    assert!(before_group.contains(r#""detail": "Forbidden""#), "{before_group}");
    gateway.cli(&["group", "add", "shop-deployers"])?;
    gateway.cli(&["group", "grant", "shop-deployers", "--action", "deploy", "--site", "demo"])?;
    gateway.cli(&["group", "join", "shop-deployers", "dana"])?;
    let allowed = provision("dana", "dep-1")?;
    assert!(allowed.contains(r#""ok": 6"#), "six commands queued: {allowed}");
    let unknown = provision("dana", "nowhere-1")?;
    assert!(unknown.contains(r#""detail": "UnknownObject""#), "{unknown}");

    // The poke reaches the agent, which builds the device.
    outfit_tests::wait_for(std::time::Duration::from_secs(90), "the queue to finish", || {
        Ok((database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")? == "6").then_some(()))
    })?;
    assert_eq!(outfit_tests::installed_packages(&root)?.len(), 3);
    let audit =
        database.query("SELECT principal, outcome, detail FROM audit_log WHERE action = 'Provision' ORDER BY id")?;
    let audit: Vec<&str> = audit.lines().collect();
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert!(audit[0].starts_with("carl\trefused\tForbidden"), "{audit:?}");
    assert!(audit[1].starts_with("dana\trefused\tForbidden"), "{audit:?}");
    assert_eq!(audit[2], "dana\tallowed\t6 commands queued");
    assert!(audit[3].starts_with("dana\trefused\tUnknownObject"), "{audit:?}");
    Ok(())
}
