//! The wire, pinned: one conversation with a real gateway over TLS that calls
//! every agent operation and every operator operation, the honest path and the
//! Faults, and compares each response envelope byte for byte with a golden
//! file in `tests/fixtures/envelopes/` (insta snapshots). Agents already
//! deployed parse exactly these bytes, so a change to the gateway behind them
//! must leave them as they are; a deliberate change of the wire is a new
//! snapshot, reviewed with `cargo insta review`.
//!
//! Requests are encoded by `outfit-wsdl`, as the agent encodes them (those
//! encodings are pinned in `wsdl/tests/golden.rs`). What differs from run to
//! run — certificates, package digests and sizes, ports — is replaced by a
//! placeholder before comparing.

use anyhow::{Context, Result};
use outfit_tests::{Gateway, run};
use outfit_wsdl::envelope::GatewayRequest;
use outfit_wsdl::messages::{
    Authorise, Enrol, Hello, LocatePackage, NextCommand, Outcome, PluginReport, Renew, ReportResult,
};
use outfit_wsdl::transport::{self, Endpoint, Identity};
use std::path::Path;
use std::sync::Arc;

const DEVICE: &str = "wire-1";
const PASSWORD: &str = "wire operator passphrase";

/// Compares one response with its golden file, after replacing what differs
/// from run to run with a placeholder.
fn pin(name: &str, reply: &[u8]) {
    let text = String::from_utf8_lossy(reply);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(outfit_tests::workspace().join("tests/fixtures/envelopes"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.add_filter(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*", "{certificate}");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "{sha256}");
    settings.add_filter(r"<(\w+:)?size>\d+</(\w+:)?size>", "<${1}size>{size}</${2}size>");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:{port}");
    // The start of a key's fingerprint, as enrolment messages quote it.
    settings.add_filter(r"\b[0-9a-f]{16}\b", "{key}");
    // Times, as the operator API gives them (ISO-8601).
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "{time}");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A key and a certificate signing request for `device`, made by openssl (a
/// tool we did not write), PEM.
fn key_and_csr(dir: &Path, device: &str) -> Result<(std::path::PathBuf, String)> {
    let (key, csr) = (dir.join(format!("{device}.key")), dir.join(format!("{device}.csr")));
    run(std::process::Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", &format!("/CN={device}"), "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&csr))?;
    Ok((key, std::fs::read_to_string(csr)?))
}

/// Sends envelopes to one endpoint of the gateway as one client.
struct Caller<'a> {
    runtime: &'a tokio::runtime::Runtime,
    tls: Arc<rustls::ClientConfig>,
    endpoint: Endpoint,
}

impl Caller<'_> {
    fn send(&self, action: &str, envelope: String) -> Result<Vec<u8>> {
        let reply = self.runtime.block_on(transport::soap_call(&self.tls, &self.endpoint, action, envelope))?;
        Ok(reply.to_vec())
    }

    /// Sends an agent request and pins the response under `name`.
    fn agent(&self, name: &str, request: GatewayRequest) -> Result<String> {
        let reply = self.send(request.operation(), request.encode())?;
        pin(name, &reply);
        Ok(String::from_utf8(reply)?)
    }
}

fn hello(boot_id: &str) -> GatewayRequest {
    GatewayRequest::Hello(Hello {
        device: DEVICE.into(),
        boot_id: boot_id.into(),
        agent_version: "0.1.0".into(),
        poke_url: None,
        platform: Some("linux-x86_64".into()),
        plugins: vec![PluginReport {
            name: "debian".into(),
            version: "0.2.0".into(),
            world: "outfit:plugin/os-plugin@0.1.0".into(),
            formats: vec!["deb".into()],
            changes: vec!["install".into(), "configure".into()],
        }],
        precompiled_only: None,
    })
}

fn next() -> GatewayRequest {
    GatewayRequest::NextCommand(NextCommand { device: DEVICE.into() })
}

fn report(command: &str, outcome: Outcome, message: &str) -> GatewayRequest {
    GatewayRequest::ReportResult(ReportResult {
        device: DEVICE.into(),
        command_id: command.into(),
        outcome: Some(outcome),
        message: message.into(),
    })
}

/// The command id in a response envelope.
fn command_id(envelope: &str) -> Result<String> {
    let id = regex::Regex::new(r"<(?:\w+:)?id>(\d+)</(?:\w+:)?id>")?;
    Ok(id.captures(envelope).with_context(|| format!("no command in {envelope}"))?[1].to_owned())
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:outfit:agent:1"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

#[test]
fn every_operation_answers_with_the_pinned_envelopes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["device", "add", DEVICE, "--site", "demo", "--model", "webserver"])?;
    gateway.cli(&["device", "add", "wire-2", "--site", "demo", "--model", "webserver"])?;
    let runtime = tokio::runtime::Runtime::new()?;
    let ca = gateway.dir.join("ca.pem");
    let agent_endpoint = Endpoint::parse(&gateway.url)?.join(outfit_wsdl::GATEWAY_AGENT_PATH);
    let anonymous = Caller { runtime: &runtime, tls: transport::client_config(&ca, None)?, endpoint: agent_endpoint };

    // Enrolment: waiting for approval, a refused token, a bad request, a certificate.
    let (key, csr) = key_and_csr(dir.path(), DEVICE)?;
    let enrol = |token: Option<String>, csr: &str| {
        GatewayRequest::Enrol(Enrol { device: DEVICE.into(), site: "demo".into(), token, csr: csr.into() })
    };
    anonymous.agent("agent-enrol-waiting", enrol(None, &csr))?;
    anonymous.agent("agent-enrol-token-refused", enrol(Some("not-a-token".into()), &csr))?;
    let token = gateway.token(DEVICE, "demo", "127.0.0.1")?;
    anonymous.agent("agent-enrol-bad-csr", enrol(Some(token.clone()), "not a signing request"))?;
    let enrolled = anonymous.agent("agent-enrol-certificate", enrol(Some(token), &csr))?;
    let begin = enrolled.find("-----BEGIN CERTIFICATE-----").context("a certificate")?;
    let end = enrolled.find("-----END CERTIFICATE-----").context("its end")? + "-----END CERTIFICATE-----".len();
    let cert = dir.path().join("wire-1.pem");
    std::fs::write(&cert, format!("{}\n", &enrolled[begin..end]))?;
    let device = Caller {
        runtime: &runtime,
        tls: transport::client_config(&ca, Some(Identity { cert: &cert, key: &key }))?,
        endpoint: anonymous.endpoint.clone(),
    };

    // The queue: Hello, the commands of a provisioning, a failure that halts,
    // a retry, a drained queue, a reboot and the Hello after it.
    device.agent("agent-hello", hello("boot-1"))?;
    gateway.cli(&["provision", DEVICE])?;
    let install = device.agent("agent-next-command-install", next())?;
    let configure = device.agent(
        "agent-report-result-configure",
        report(&command_id(&install)?, Outcome::Succeeded, "installed outfit-demo-os 1.0.0"),
    )?;
    device.agent("agent-report-result-halted", report(&command_id(&configure)?, Outcome::Failed, "disk full"))?;
    device.agent("agent-next-command-halted", next())?;
    gateway.cli(&["queue", "retry", DEVICE])?;
    let mut head = device.agent("agent-next-command-retried", next())?;
    for _ in 0..5 {
        let reply = device.send("ReportResult", report(&command_id(&head)?, Outcome::Succeeded, "done").encode())?;
        head = String::from_utf8(reply)?;
    }
    pin("agent-report-result-empty", head.as_bytes());
    device.agent("agent-report-result-unknown-command", report("999999", Outcome::Succeeded, "done"))?;
    device.agent("agent-report-result-not-a-command", report("x", Outcome::Succeeded, "done"))?;
    gateway.cli(&["queue", "reboot", DEVICE])?;
    let reboot = device.agent("agent-next-command-reboot", next())?;
    device.agent("agent-report-result-rebooting", report(&command_id(&reboot)?, Outcome::RebootUnderway, ""))?;
    device.agent("agent-hello-after-reboot", hello("boot-2"))?;

    // A package of the device's model, and one outside it.
    let locate = |name: &str, version: &str| {
        GatewayRequest::LocatePackage(LocatePackage {
            device: DEVICE.into(),
            name: name.into(),
            version: version.into(),
        })
    };
    device.agent("agent-locate-package", locate("outfit-demo-app", "2.1.0"))?;
    device.agent("agent-locate-package-not-entitled", locate("outfit-demo-app", "9.9.9"))?;

    // A person at the device: no operator certificate, no right, a right.
    gateway.add_operator("wire-op", PASSWORD)?;
    gateway.cli(&["operator", "cert", "wire-op", "--out", dir.path().join("op").to_str().unwrap()])?;
    let operator_pem = std::fs::read_to_string(dir.path().join("op/wire-op.pem"))?;
    let der = transport::load_certs(&dir.path().join("op/wire-op.pem"))?;
    use base64::Engine as _;
    let operator_der = base64::engine::general_purpose::STANDARD.encode(der[0].as_ref());
    assert!(operator_pem.contains("BEGIN CERTIFICATE"));
    let ask = |operator: &str, action: &str| {
        GatewayRequest::Authorise(Authorise {
            device: DEVICE.into(),
            operator: operator.into(),
            action: action.into(),
            category: Some("CONTENT".into()),
            component: None,
            path: None,
            object: "/access/status".into(),
            from: "127.0.0.1:5555".into(),
        })
    };
    device.agent("agent-authorise-not-an-operator", ask(&base64_of(b"not a certificate"), "read"))?;
    device.agent("agent-authorise-invalid", ask("%%%", "read"))?;
    device.agent("agent-authorise-bad-action", ask(&operator_der, "fly"))?;
    device.agent("agent-authorise-refused", ask(&operator_der, "read"))?;
    gateway.cli(&["operator", "grant", "wire-op", "--action", "read", "--site", "demo"])?;
    device.agent("agent-authorise-allowed", ask(&operator_der, "read"))?;

    // Renewal: a new certificate for a new key; a bad request.
    let (_, renewal_csr) = key_and_csr(dir.path(), "wire-1-renewed")?;
    let renew = |csr: &str| GatewayRequest::Renew(Renew { device: DEVICE.into(), csr: csr.into() });
    device.agent("agent-renew-bad-csr", renew("not a signing request"))?;
    device.agent("agent-renew", renew(&renewal_csr))?;

    // Refusals and malformed requests.
    anonymous.agent("agent-fault-unauthenticated", hello("boot-3"))?;
    device.agent("agent-fault-forbidden", GatewayRequest::NextCommand(NextCommand { device: "wire-2".into() }))?;
    let raw = |name: &str, body: String| -> Result<()> {
        pin(name, &device.send("Hello", body)?);
        Ok(())
    };
    raw("agent-fault-malformed-envelope", "this is not xml <".into())?;
    raw("agent-fault-unknown-operation", envelope("<o:Frobnicate><o:device>wire-1</o:device></o:Frobnicate>"))?;
    raw("agent-fault-missing-field", envelope("<o:NextCommand/>"))?;
    raw("agent-fault-too-large", envelope(&"<o:x/>".repeat(300_000)))?;
    raw(
        "agent-fault-doctype-refused",
        format!(r#"<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x "y">]>{}"#, envelope("<o:NextCommand/>")),
    )?;
    raw("agent-fault-too-deep", envelope(&format!("{}{}", "<a>".repeat(100), "</a>".repeat(100))))?;

    operator_operations(&gateway, &runtime)?;
    Ok(())
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A request to the operator service with a WS-Security UsernameToken.
fn operator_envelope(user: Option<(&str, &str)>, body: &str) -> String {
    let header = user.map_or(String::new(), |(user, password)| {
        format!(
            r#"<s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{password}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>"#
        )
    });
    format!(
        r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:op="urn:outfit:operator:1">{header}<s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn operator_operations(gateway: &Gateway, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let url = std::fs::read_to_string(gateway.dir.join("operator.url"))?;
    let operator = Caller {
        runtime,
        tls: transport::client_config(&gateway.dir.join("ca.pem"), None)?,
        endpoint: Endpoint::parse(url.trim())?.join(outfit_wsdl::OPERATOR_PATH),
    };
    gateway.add_operator("ann", PASSWORD)?;
    gateway.cli(&["operator", "grant", "ann", "--action", "change", "--site", "demo", "--category", "CONTENT"])?;
    let call = |name: &str, user: Option<(&str, &str)>, action: &str, body: &str| -> Result<()> {
        pin(name, &operator.send(action, operator_envelope(user, body))?);
        Ok(())
    };
    let ann = Some(("ann", PASSWORD));
    let set = |category: &str, component: &str, value: &str| {
        format!(
            "<op:SetParameter><op:site>demo</op:site><op:model>webserver</op:model><op:category>{category}</op:category><op:component>{component}</op:component><op:name>greeting</op:name><op:value>{value}</op:value></op:SetParameter>"
        )
    };
    call("operator-set-parameter", ann, "SetParameter", &set("CONTENT", "site", "hello"))?;
    call("operator-set-parameter-unchanged", ann, "SetParameter", &set("CONTENT", "site", "hello"))?;
    call("operator-set-parameter-forbidden", ann, "SetParameter", &set("OS", "base", "hello"))?;
    call("operator-set-parameter-unknown-object", ann, "SetParameter", &set("CONTENT", "nothing", "hello"))?;
    call(
        "operator-set-parameter-unauthenticated",
        Some(("ann", "not the passphrase")),
        "SetParameter",
        &set("CONTENT", "site", "hello"),
    )?;
    call("operator-set-parameter-no-token", None, "SetParameter", &set("CONTENT", "site", "hello"))?;
    let provision =
        |device: &str| format!("<op:Provision><op:site>demo</op:site><op:device>{device}</op:device></op:Provision>");
    call("operator-provision-forbidden", ann, "Provision", &provision("wire-2"))?;
    gateway.cli(&["operator", "grant", "ann", "--action", "deploy", "--site", "demo"])?;
    call("operator-provision", ann, "Provision", &provision("wire-2"))?;
    call("operator-provision-unknown-object", ann, "Provision", &provision("nowhere-1"))?;
    call("operator-fault-missing-field", ann, "Provision", "<op:Provision><op:site>demo</op:site></op:Provision>")?;
    call("operator-fault-unknown-operation", ann, "Frobnicate", "<op:Frobnicate/>")?;
    pin("operator-fault-malformed-envelope", &operator.send("Provision", "<oops".into())?);

    // The operations added with the `outfit` CLI, pinned from their first
    // release on (ann may read and change demo, and deploy there).
    gateway.cli(&["operator", "grant", "ann", "--action", "read", "--site", "demo"])?;
    let ops: [(&str, &str, String); 10] = [
        ("operator-list-devices", "ListDevices", "<op:ListDevices><op:search>wire-2</op:search></op:ListDevices>".into()),
        ("operator-show-device", "ShowDevice", "<op:ShowDevice><op:device>wire-2</op:device></op:ShowDevice>".into()),
        ("operator-show-queue", "ShowQueue", "<op:ShowQueue><op:device>wire-2</op:device></op:ShowQueue>".into()),
        ("operator-abort", "Abort", "<op:Abort><op:device>wire-2</op:device></op:Abort>".into()),
        ("operator-retry-not-halted", "Retry", "<op:Retry><op:device>wire-2</op:device></op:Retry>".into()),
        ("operator-list-models", "ListModels", "<op:ListModels><op:site>demo</op:site></op:ListModels>".into()),
        ("operator-show-model", "ShowModel", "<op:ShowModel><op:site>demo</op:site><op:model>webserver</op:model></op:ShowModel>".into()),
        ("operator-list-scripts", "ListScripts", "<op:ListScripts/>".into()),
        ("operator-grant-forbidden", "Grant", "<op:Grant><op:operator>ann</op:operator><op:action>admin</op:action></op:Grant>".into()),
        ("operator-add-device-forbidden", "AddDevice", "<op:AddDevice><op:site>demo</op:site><op:device>x</op:device><op:model>webserver</op:model></op:AddDevice>".into()),
    ];
    for (name, action, body) in ops {
        call(name, ann, action, &body)?;
    }
    Ok(())
}
