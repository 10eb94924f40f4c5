//! Trust: token enrolment and mutual TLS. Every refusal here is checked to
//! happen (and the honest path to work): spent, expired, wrong-site and
//! wrong-device tokens; no certificate, another CA's certificate, a revoked
//! one; device A's certificate asking for device B's commands or a package
//! its queue does not install, such as another site's (refused and logged).

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use outfit_tests::{Gateway, build_deb};
use outfit_wsdl::envelope::{Answer, FaultCode, GatewayRequest, decode_answer};
use outfit_wsdl::messages::{Hello, NextCommand};
use outfit_wsdl::transport::{self, Endpoint, Identity};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A model of site `other` with one package of its own.
fn other_site_model(dir: &Path) -> Result<PathBuf> {
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    build_deb(&build, "other-secret", "1", "true")?;
    let model = "site = \"other\"\nname = \"secret\"\n\n[[roles]]\ncategory = \"APP\"\nname = \"secret\"\n\n\
                 [[roles.components]]\nname = \"secret\"\npackage = \"build/other-secret_1_all.deb\"\n\
                 package_name = \"other-secret\"\nversion = \"1\"\nformat = \"deb\"\n";
    let file = dir.join("model.toml");
    std::fs::write(&file, model)?;
    Ok(file)
}

/// Enrols `name` into its own state directory; returns a client presenting its certificate.
fn enrolled(gateway: &Gateway, dir: &Path, name: &str, site: &str) -> Result<Arc<rustls::ClientConfig>> {
    let state = dir.join(format!("state-{name}"));
    std::fs::create_dir_all(&state)?;
    let (ok, stderr) = gateway.enrol(name, site, &gateway.token(name, site, "127.0.0.1")?, &state)?;
    anyhow::ensure!(ok, "enrolment of {name} failed: {stderr}");
    let (cert, key) = (state.join("identity/cert.pem"), state.join("identity/key.pem"));
    Ok(transport::client_config(&gateway.dir.join("ca.pem"), Some(Identity { cert: &cert, key: &key }))?)
}

struct Client {
    runtime: tokio::runtime::Runtime,
    url: String,
}

impl Client {
    /// One SOAP exchange; a fault comes back as its code and message.
    fn soap(
        &self,
        tls: &Arc<rustls::ClientConfig>,
        request: GatewayRequest,
    ) -> Result<Result<(), (FaultCode, String)>> {
        let endpoint = Endpoint::parse(&self.url)?.join(outfit_wsdl::GATEWAY_AGENT_PATH);
        let operation = request.operation();
        let reply = self.runtime.block_on(transport::soap_call(tls, &endpoint, operation, request.encode()))?;
        match decode_answer(&reply, Some).map_err(|f| anyhow::anyhow!("{f}"))? {
            Answer::Ok(_) => Ok(Ok(())),
            Answer::Fault(f) => Ok(Err((f.code, f.message))),
        }
    }

    /// GET `path`; returns the HTTP status.
    fn get(&self, tls: &Arc<rustls::ClientConfig>, path: &str) -> Result<u16> {
        Ok(self.fetch(tls, path)?.0)
    }

    /// GET `path`; returns the HTTP status and the body as text.
    fn fetch(&self, tls: &Arc<rustls::ClientConfig>, path: &str) -> Result<(u16, String)> {
        let endpoint = Endpoint::parse(&self.url)?.join(path);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, format!("{}:{}", endpoint.host, endpoint.port))
            .body(Full::new(Bytes::new()))?;
        self.runtime.block_on(async {
            let response = transport::send(tls, &endpoint, request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok((status, String::from_utf8_lossy(&body).into_owned()))
        })
    }
}

fn hello(device: &str) -> GatewayRequest {
    GatewayRequest::Hello(Hello {
        device: device.into(),
        boot_id: "trust".into(),
        agent_version: "test".into(),
        ..Hello::default()
    })
}

#[test]
fn enrolment_tokens_are_one_time_expiring_and_bound_to_site_and_device() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    for name in ["t-a", "t-b"] {
        gateway.cli(&["device", "add", name, "--site", "demo", "--model", "webserver"])?;
    }
    let attempt = |name: &str, site: &str, token: &str, tag: &str| -> Result<(bool, String)> {
        let state = dir.path().join(format!("attempt-{tag}"));
        std::fs::create_dir_all(&state)?;
        gateway.enrol(name, site, token, &state)
    };
    let token = gateway.token("t-a", "demo", "127.0.0.1")?;
    let (ok, stderr) = attempt("t-a", "demo", &token, "first")?;
    assert!(ok, "the honest enrolment works: {stderr}");
    let (ok, stderr) = attempt("t-a", "demo", &token, "again")?;
    assert!(!ok && stderr.contains("TokenRefused") && stderr.contains("already used"), "{stderr}");

    let expired = gateway.cli(&["device", "token", "t-b", "--site", "demo", "--expires-in", "0"])?;
    let (ok, stderr) = attempt("t-b", "demo", expired.trim(), "expired")?;
    assert!(!ok && stderr.contains("expired"), "{stderr}");

    let for_b = gateway.token("t-b", "demo", "127.0.0.1")?;
    let (ok, stderr) = attempt("t-b", "elsewhere", &for_b, "site")?;
    assert!(!ok && stderr.contains("not for site `elsewhere`"), "{stderr}");
    let (ok, stderr) = attempt("t-a", "demo", &for_b, "device")?;
    assert!(!ok && stderr.contains("not for device `t-a`"), "{stderr}");
    let (ok, stderr) = attempt("t-b", "demo", "0123456789abcdef", "unknown")?;
    assert!(!ok && stderr.contains("unknown"), "{stderr}");
    // The refusals spent nothing: the right device still enrols with its token.
    let (ok, stderr) = attempt("t-b", "demo", &for_b, "right")?;
    assert!(ok, "{stderr}");

    // An agent started without a site or token says how to enrol.
    let state = dir.path().join("never");
    std::fs::create_dir_all(&state)?;
    let out = std::process::Command::new(outfit_tests::bin("outfit-agent"))
        .args(["--gateway", &gateway.url, "--device", "t-a", "--enrol-only"])
        .arg("--ca")
        .arg(gateway.dir.join("ca.pem"))
        .arg("--root")
        .arg(&state)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("outfit device token t-a"), "{stderr}");
    assert!(stderr.contains("outfit device approve t-a"), "{stderr}");
    Ok(())
}

#[test]
fn a_certificate_speaks_only_for_its_own_device_and_site() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let other = other_site_model(&dir.path().join("other"))?;
    gateway.cli(&["model", "import", other.to_str().unwrap()])?;
    for name in ["m-a", "m-b"] {
        gateway.cli(&["device", "add", name, "--site", "demo", "--model", "webserver"])?;
    }
    let tls_a = enrolled(&gateway, dir.path(), "m-a", "demo")?;
    let anonymous = transport::client_config(&gateway.dir.join("ca.pem"), None)?;
    let client = Client { runtime: tokio::runtime::Runtime::new()?, url: gateway.url.clone() };

    // The honest path: A speaks for A.
    assert_eq!(client.soap(&tls_a, hello("m-a"))?, Ok(()));
    // No certificate: only Enrol is served.
    let (code, message) = client.soap(&anonymous, hello("m-a"))?.expect_err("no certificate");
    assert_eq!(code, FaultCode::Unauthenticated, "{message}");
    // A's certificate asking for B's commands: refused and logged.
    let next_b = GatewayRequest::NextCommand(NextCommand { device: "m-b".into() });
    let (code, message) = client.soap(&tls_a, next_b)?.expect_err("A cannot speak for B");
    assert_eq!(code, FaultCode::Forbidden, "{message}");
    assert!(message.contains("`m-a`") && message.contains("`m-b`"), "{message}");
    assert_eq!(
        database.scalar("SELECT COUNT(*) FROM exchanges WHERE operation = 'NextCommand' AND answer = 'Forbidden'")?,
        "1"
    );

    // Packages: one A's queue installs is released to A; another site's is not
    // (and that is logged).
    gateway.cli(&["provision", "m-a"])?;
    let key_of = |site: &str| {
        database.scalar(&format!(
            "SELECT c.storage_key FROM components c JOIN sites s ON s.id = c.site_id WHERE s.name = '{site}' LIMIT 1"
        ))
    };
    let (own, foreign) = (key_of("demo")?, key_of("other")?);
    assert_eq!(client.get(&tls_a, &format!("/repository/{own}"))?, 200);
    let (status, why) = client.fetch(&tls_a, &format!("/repository/{foreign}"))?;
    assert_eq!(status, 403);
    assert!(why.contains("neither a command nor the model of `m-a` holds this package"), "{why}");
    assert_eq!(client.get(&anonymous, &format!("/repository/{own}"))?, 401);
    assert_eq!(client.get(&anonymous, "/wsdl")?, 401);
    let logged = database.scalar("SELECT answer FROM exchanges WHERE operation = 'download'")?;
    assert_eq!(logged, format!("Forbidden:{foreign}"));

    // A certificate of another CA (another gateway's enrolment) fails the handshake.
    let (_db2, stranger) = Gateway::start_on_sqlite(&dir.path().join("stranger"))?;
    stranger.import_demo_model(&dir.path().join("model2"))?;
    stranger.cli(&["device", "add", "m-a", "--site", "demo", "--model", "webserver"])?;
    let foreign_tls = {
        let state = dir.path().join("stranger-state");
        std::fs::create_dir_all(&state)?;
        let (ok, stderr) = stranger.enrol("m-a", "demo", &stranger.token("m-a", "demo", "127.0.0.1")?, &state)?;
        anyhow::ensure!(ok, "{stderr}");
        let (cert, key) = (state.join("identity/cert.pem"), state.join("identity/key.pem"));
        // Trusts our gateway's CA (so the server is accepted) but presents the stranger's certificate.
        transport::client_config(&gateway.dir.join("ca.pem"), Some(Identity { cert: &cert, key: &key }))?
    };
    let refused = client.soap(&foreign_tls, hello("m-a"));
    let error = format!("{:#}", refused.expect_err("another CA's certificate must fail the handshake"));
    assert!(error.contains("handshake") || error.contains("HTTP"), "{error}");

    // A queue exchange: A's first command goes out. The gateway now knows
    // A's certificate and checks only that it still holds (see soap::Certified).
    let next_a = || GatewayRequest::NextCommand(NextCommand { device: "m-a".into() });
    assert_eq!(client.soap(&tls_a, next_a())?, Ok(()));
    let head_of_a = || {
        database.scalar(
            "SELECT state || ':' || attempts FROM commands WHERE device_id = \
             (SELECT id FROM devices WHERE name = 'm-a') ORDER BY sequence LIMIT 1",
        )
    };
    assert_eq!(head_of_a()?, "sent:1");

    // Revocation takes effect on the next request, queue exchanges included:
    // refused, and nothing handed out again.
    let out = gateway.cli(&["device", "revoke", "m-a"])?;
    assert!(out.contains("1 certificates revoked"), "{out}");
    let (code, message) = client.soap(&tls_a, next_a())?.expect_err("revoked");
    assert_eq!(code, FaultCode::Unauthenticated);
    assert!(message.contains("revoked"), "{message}");
    assert_eq!(head_of_a()?, "sent:1", "a refused exchange moves no queue row");
    let refused = "SELECT COUNT(*) FROM exchanges WHERE operation = 'NextCommand' AND answer = 'Unauthenticated'";
    assert_eq!(database.scalar(refused)?, "1");
    let (code, message) = client.soap(&tls_a, hello("m-a"))?.expect_err("revoked");
    assert_eq!(code, FaultCode::Unauthenticated);
    assert!(message.contains("revoked"), "{message}");
    let (status, why) = client.fetch(&tls_a, &format!("/repository/{own}")).context("download after revocation")?;
    assert_eq!(status, 403);
    assert!(why.contains("revoked"), "{why}");
    Ok(())
}
