//! Three SOAP clients we did not write — zeep, suds-community (Python) and
//! Node's `soap` — each load the live operator WSDL and call every operator
//! operation: the honest path, and at least one Fault with its stable code.
//! The test prepares what the honest calls need (devices with a halted queue,
//! waiting enrolment requests, an uploaded package and bundle), one set per
//! client, then checks every answer.

use anyhow::{Context, Result, ensure};
use outfit_tests::{Gateway, build_demo_model, run, wait_for, workspace};
use outfit_wsdl::envelope::GatewayRequest;
use outfit_wsdl::messages::{NextCommand, Outcome, ReportResult};
use outfit_wsdl::transport::{self, Endpoint, Identity};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const PASSWORD: &str = "soap clients passphrase";

/// Enrols `device` with a token through the real agent (`--enrol-only`), then,
/// speaking as it, takes the first command of its provisioned queue and
/// reports it failed: the queue halts.
fn halted(gateway: &Gateway, device: &str, state: &Path) -> Result<()> {
    std::fs::create_dir_all(state)?;
    let (ok, stderr) = gateway.enrol(device, "demo", &gateway.token(device, "demo", "127.0.0.1")?, state)?;
    ensure!(ok, "{stderr}");
    gateway.cli(&["provision", device])?;
    let (cert, key) = (state.join("identity/cert.pem"), state.join("identity/key.pem"));
    let tls = transport::client_config(&gateway.dir.join("ca.pem"), Some(Identity { cert: &cert, key: &key }))?;
    let endpoint = Endpoint::parse(&gateway.url)?.join(outfit_wsdl::GATEWAY_AGENT_PATH);
    let runtime = tokio::runtime::Runtime::new()?;
    let call = |request: GatewayRequest| -> Result<String> {
        let reply = runtime.block_on(transport::soap_call(&tls, &endpoint, request.operation(), request.encode()))?;
        Ok(String::from_utf8(reply.to_vec())?)
    };
    let head = call(GatewayRequest::NextCommand(NextCommand { device: device.into() }))?;
    let id = regex::Regex::new(r"<(?:\w+:)?id>(\d+)</")?.captures(&head).context("a command")?[1].to_owned();
    let report =
        ReportResult { device: device.into(), command_id: id, outcome: Some(Outcome::Failed), message: "no".into() };
    let answer = call(GatewayRequest::ReportResult(report))?;
    ensure!(answer.contains("halted"), "{answer}");
    Ok(())
}

/// One call of the plan: operation, arguments, authentication and what must come back.
fn call(op: &str, args: Value, auth: &str, expect: Option<&str>) -> Value {
    json!({ "op": op, "args": args, "auth": auth, "expect": expect })
}

/// Every operation, honest and refused, with names of client `p`.
fn plan(p: &str, package: &str, bundle: &str, rollout: i64) -> Vec<Value> {
    let d = format!("{p}-1");
    let ok = |op: &str, args: Value| call(op, args, "cert", None);
    let fault = |op: &str, args: Value, code: &str| call(op, args, "cert", Some(code));
    let wrong = |op: &str, args: Value| call(op, args, "wrong", Some("Unauthenticated"));
    let component = |sha256: &str| {
        json!([{ "category": "OS", "name": format!("{p}-base"), "component": [{
            "name": "base", "packageName": "outfit-demo-os", "version": "1.0.0", "format": "deb",
            "sha256": sha256, "parameter": [{ "name": "tz", "value": "UTC" }] }] }])
    };
    vec![
        call("ListDevices", json!({ "search": p }), "token", None),
        ok(
            "SetParameter",
            json!({ "site": "demo", "model": "webserver", "category": "CONTENT", "component": "site", "name": "greeting", "value": p }),
        ),
        fault(
            "SetParameter",
            json!({ "site": "demo", "model": "webserver", "category": "CONTENT", "component": "nope", "name": "greeting", "value": p }),
            "UnknownObject",
        ),
        ok("Provision", json!({ "site": "demo", "device": d })),
        fault("Provision", json!({ "site": "demo", "device": "ghost" }), "UnknownObject"),
        ok("ProvisionMany", json!({ "device": [d] })),
        fault("ProvisionMany", json!({ "model": "webserver" }), "Invalid"),
        ok("ListDevices", json!({ "search": p, "limit": 10 })),
        wrong("ListDevices", json!({})),
        ok("ShowDevice", json!({ "device": d })),
        fault("ShowDevice", json!({ "device": "ghost" }), "UnknownObject"),
        ok("AddDevice", json!({ "site": "demo", "device": format!("{p}-new"), "model": "webserver" })),
        fault("AddDevice", json!({ "site": "demo", "device": format!("{p}-new"), "model": "webserver" }), "Invalid"),
        ok("IssueToken", json!({ "site": "demo", "device": format!("{p}-new") })),
        fault("IssueToken", json!({ "site": "nosite", "device": format!("{p}-new") }), "UnknownObject"),
        ok("RevokeDevice", json!({ "device": d })),
        fault("RevokeDevice", json!({ "device": "ghost" }), "UnknownObject"),
        ok("ListEnrolmentRequests", json!({})),
        wrong("ListEnrolmentRequests", json!({})),
        ok("ApproveEnrolment", json!({ "device": format!("{p}-a") })),
        fault("ApproveEnrolment", json!({ "device": d }), "UnknownObject"),
        ok("RejectEnrolment", json!({ "device": format!("{p}-r") })),
        fault("RejectEnrolment", json!({ "device": format!("{p}-r") }), "UnknownObject"),
        ok("ShowQueue", json!({ "device": format!("{p}-h1") })),
        fault("ShowQueue", json!({ "device": "ghost" }), "UnknownObject"),
        ok("Retry", json!({ "device": format!("{p}-h1") })),
        fault("Retry", json!({ "device": d }), "Invalid"),
        ok("Skip", json!({ "device": format!("{p}-h2") })),
        fault("Skip", json!({ "device": format!("{p}-h2") }), "Invalid"),
        ok("Reboot", json!({ "device": d, "expiresIn": 60 })),
        fault("Reboot", json!({ "device": "ghost" }), "UnknownObject"),
        ok("Abort", json!({ "device": d })),
        fault("Abort", json!({ "device": "ghost" }), "UnknownObject"),
        ok("ImportScript", json!({ "site": "demo", "name": format!("{p}-s"), "step": [{ "kind": "reboot" }] })),
        fault(
            "ImportScript",
            json!({ "site": "demo", "name": format!("{p}-bad"), "step": [{ "kind": "network", "interface": "eth0", "address": "192.0.2.300/24" }] }),
            "Invalid",
        ),
        ok("ListScripts", json!({})),
        wrong("ListScripts", json!({})),
        ok("RunScript", json!({ "script": format!("{p}-s"), "site": "demo", "device": [d] })),
        fault("RunScript", json!({ "script": "nope", "site": "demo", "device": [d] }), "UnknownObject"),
        ok("InstallPlugin", json!({ "sha256": bundle, "site": "demo", "device": [d] })),
        fault("InstallPlugin", json!({ "sha256": "0".repeat(64), "site": "demo", "device": [d] }), "UnknownObject"),
        ok("RollbackPlugin", json!({ "plugin": "fake", "site": "demo", "device": [d] })),
        fault("RollbackPlugin", json!({ "plugin": "../x", "site": "demo", "device": [d] }), "Invalid"),
        ok("SaveOperator", json!({ "operator": format!("{p}-op"), "password": "a long enough password" })),
        fault("SaveOperator", json!({ "operator": format!("{p}-op2"), "password": "short" }), "Invalid"),
        ok("IssueOperatorCertificate", json!({ "operator": format!("{p}-op"), "days": 2 })),
        fault("IssueOperatorCertificate", json!({ "operator": "ghost" }), "UnknownObject"),
        ok("RevokeOperatorCertificates", json!({ "operator": format!("{p}-op") })),
        fault("RevokeOperatorCertificates", json!({ "operator": "ghost" }), "UnknownObject"),
        ok("AddGroup", json!({ "group": format!("{p}-g") })),
        wrong("AddGroup", json!({ "group": format!("{p}-g2") })),
        ok("JoinGroup", json!({ "group": format!("{p}-g"), "operator": format!("{p}-op") })),
        fault("JoinGroup", json!({ "group": "nope", "operator": format!("{p}-op") }), "UnknownObject"),
        ok("Grant", json!({ "operator": format!("{p}-op"), "action": "read", "site": "demo" })),
        fault("Grant", json!({ "operator": format!("{p}-op"), "action": "fly" }), "Invalid"),
        ok("ImportModel", json!({ "site": "demo", "name": format!("{p}-m"), "role": component(package) })),
        fault(
            "ImportModel",
            json!({ "site": "demo", "name": format!("{p}-m2"), "role": component(&"1".repeat(64)) }),
            "UnknownObject",
        ),
        ok("ListModels", json!({ "site": "demo" })),
        wrong("ListModels", json!({})),
        ok("ShowModel", json!({ "site": "demo", "model": format!("{p}-m") })),
        fault("ShowModel", json!({ "site": "demo", "model": "nope" }), "UnknownObject"),
        ok("ListPackages", json!({})),
        wrong("ListPackages", json!({})),
        ok("ListModelVersions", json!({ "site": "demo", "model": "webserver" })),
        fault("ListModelVersions", json!({ "site": "demo", "model": "nope" }), "UnknownObject"),
        ok("ListProposals", json!({ "site": "demo", "model": "webserver" })),
        wrong("ListProposals", json!({ "site": "demo" })),
        ok("DiffModel", json!({ "site": "demo", "model": "webserver", "from": 1 })),
        fault("DiffModel", json!({ "site": "demo", "model": "webserver", "from": 99 }), "UnknownObject"),
        ok("RollbackModel", json!({ "site": "demo", "model": format!("{p}-m"), "version": 1, "reason": "same" })),
        fault("RollbackModel", json!({ "site": "demo", "model": format!("{p}-m"), "version": 42 }), "UnknownObject"),
        ok("ListCategories", json!({})),
        wrong("ListCategories", json!({})),
        ok("AddCategory", json!({ "name": format!("{p}-CAT"), "after": "OS", "description": "d" })),
        fault("AddCategory", json!({ "name": format!("{p}-CAT") }), "Conflict"),
        ok("PlanRollout", json!({ "site": "demo", "model": "webserver" })),
        fault("PlanRollout", json!({ "site": "demo", "model": "nope" }), "UnknownObject"),
        ok(
            "StartRollout",
            json!({ "site": "demo", "model": format!("{p}-m"), "policy": { "start": false, "canary": 2 } }),
        ),
        fault("StartRollout", json!({ "site": "demo", "model": "nope" }), "UnknownObject"),
        ok("ListRollouts", json!({ "site": "demo" })),
        wrong("ListRollouts", json!({ "site": "demo" })),
        ok("ShowRollout", json!({ "rollout": rollout })),
        fault("ShowRollout", json!({ "rollout": 999_999 }), "UnknownObject"),
        ok("SteerRollout", json!({ "rollout": rollout, "action": "abort" })),
        fault("SteerRollout", json!({ "rollout": rollout, "action": "fly" }), "Invalid"),
        ok("ShowInventory", json!({ "device": d })),
        fault("ShowInventory", json!({ "device": "ghost" }), "UnknownObject"),
        ok("ListDrift", json!({ "site": "demo", "history": true })),
        wrong("ListDrift", json!({})),
        ok("RequestInventory", json!({ "site": "demo", "device": [d] })),
        fault("RequestInventory", json!({ "site": "demo", "device": ["ghost"] }), "UnknownObject"),
        fault("Remediate", json!({ "device": d }), "Invalid"),
        fault("Remediate", json!({ "device": "ghost" }), "UnknownObject"),
        fault("PromoteDrift", json!({ "drift": 999_999 }), "UnknownObject"),
        wrong("PromoteDrift", json!({ "drift": 1 })),
        ok("ListAudit", json!({ "limit": 5 })),
        fault("ListAudit", json!({ "outcome": "maybe" }), "Invalid"),
    ]
}

#[test]
fn zeep_suds_and_node_soap_call_every_operator_operation() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    let model = build_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["model", "import", model.to_str().unwrap()])?;
    gateway.add_operator("soap", PASSWORD)?;
    gateway.cli(&["operator", "grant", "soap", "--action", "read"])?;
    let package = model.parent().unwrap().join("build/outfit-demo-os_1.0.0_all.deb");
    let uploaded: Value =
        serde_json::from_str(&gateway.cli(&["--json", "package", "upload", package.to_str().unwrap()])?)?;
    let package = uploaded[0]["sha256"].as_str().context("an uploaded package")?.to_owned();
    // A bundle as the CLI packs it (the gateway reads only its manifest).
    let fake = dir.path().join("fake");
    std::fs::create_dir_all(&fake)?;
    std::fs::write(fake.join("manifest.toml"), "name = \"fake\"\nversion = \"1.0.0\"\n")?;
    std::fs::write(fake.join("plugin.wasm"), b"\0asm")?;
    std::fs::write(fake.join("signature"), "00")?;
    let packed = dir.path().join("fake.tar");
    outfit_wsdl::bundle::pack(&fake, std::fs::File::create(&packed)?)?;
    let uploaded: Value =
        serde_json::from_str(&gateway.cli(&["--json", "package", "upload", packed.to_str().unwrap()])?)?;
    let bundle = uploaded[0]["sha256"].as_str().context("an uploaded bundle")?.to_owned();

    let url = std::fs::read_to_string(gateway.dir.join("operator.url"))?.trim().to_owned();
    let wsdl = workspace().join("wsdl/outfit-operator.wsdl");
    let ca = gateway.dir.join("ca.pem");
    let scripts = workspace().join("tests/fixtures/soap-clients");
    let clients: [(&str, Vec<&str>); 3] = [
        ("zeep", vec!["python3", "zeep_plan.py"]),
        ("suds", vec!["python3", "suds_plan.py"]),
        ("node", vec!["node", "node_plan.js"]),
    ];
    let mut mismatches = Vec::new();
    let mut operations = BTreeSet::new();
    let audit_lines = || -> Result<usize> { Ok(database.scalar("SELECT COUNT(*) FROM audit_log")?.parse()?) };
    for (p, program) in clients {
        for device in ["1", "h1", "h2", "a", "r"] {
            gateway.cli(&["device", "add", &format!("{p}-{device}"), "--site", "demo", "--model", "webserver"])?;
        }
        halted(&gateway, &format!("{p}-h1"), &dir.path().join(format!("{p}-h1")))?;
        halted(&gateway, &format!("{p}-h2"), &dir.path().join(format!("{p}-h2")))?;
        let mut asking = Vec::new();
        for device in ["a", "r"] {
            asking.push(gateway.ask_for_approval(
                &format!("{p}-{device}"),
                "demo",
                &dir.path().join(format!("{p}-{device}")),
            )?);
        }
        wait_for(Duration::from_secs(30), "the enrolment requests", || {
            let r: Value = serde_json::from_str(&gateway.cli(&["--json", "device", "requests"])?)?;
            Ok((r["request"].as_array().map_or(0, Vec::len) >= 2).then_some(()))
        })?;
        // A rollout prepared for this client's ShowRollout and SteerRollout.
        let prepared: Value = serde_json::from_str(&gateway.cli(&[
            "--json",
            "rollout",
            "start",
            "webserver",
            "--site",
            "demo",
            "--prepare",
        ])?)?;
        let rollout = prepared["rollout"]["id"].as_i64().context("a rollout id")?;
        let calls = plan(p, &package, &bundle, rollout);
        let plan_file = dir.path().join(format!("{p}-plan.json"));
        let document = json!({
            "cert": gateway.dir.join("admin/admin.pem"),
            "key": gateway.dir.join("admin/admin.key"),
            "user": "soap",
            "password": PASSWORD,
            "calls": calls,
        });
        std::fs::write(&plan_file, document.to_string())?;
        let before = audit_lines()?;
        let out = run(Command::new(program[0])
            .arg(scripts.join(program[1]))
            .arg(&wsdl)
            .arg(&url)
            .arg(&ca)
            .arg(&plan_file)
            .current_dir(&scripts))
        .with_context(|| format!("the {p} client"))?;
        let results: Vec<Value> =
            serde_json::from_str(out.lines().last().unwrap_or("[]")).with_context(|| format!("{p} printed: {out}"))?;
        ensure!(results.len() == calls.len(), "{p}: {} answers for {} calls: {out}", results.len(), calls.len());
        for (call, result) in calls.iter().zip(&results) {
            operations.insert(call["op"].as_str().unwrap_or_default().to_owned());
            let expected = call["expect"].as_str();
            let matched = match expected {
                None => result["ok"] == true,
                Some(code) => result["ok"] == false && result["code"] == code,
            };
            if !matched {
                mismatches.push(format!("{p} {} {}: wanted {expected:?}, got {result}", call["op"], call["args"]));
            }
        }
        drop(asking);
        // One audit line per state-changing call, allowed or refused, and per
        // caller refused at the door; reads leave none.
        let reads = |op: &str| ["List", "Show", "Plan", "Diff"].iter().any(|read| op.starts_with(read));
        let audited =
            calls.iter().filter(|c| !reads(c["op"].as_str().unwrap_or_default()) || c["auth"] == "wrong").count();
        assert_eq!(audit_lines()? - before, audited, "{p}: audit lines");
    }
    assert!(mismatches.is_empty(), "{} calls answered otherwise:\n{}", mismatches.len(), mismatches.join("\n"));
    // Every operation of the WSDL was called, by every client.
    let wsdl_text = std::fs::read_to_string(&wsdl)?;
    let declared: BTreeSet<String> = regex::Regex::new(r#"<wsdl:operation name="(\w+)">"#)?
        .captures_iter(&wsdl_text)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(operations, declared, "the plan covers the WSDL");
    Ok(())
}
