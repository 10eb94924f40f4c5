//! The operator API under `outfit-gateway bench`: latency of reads and writes
//! one call at a time (each a new TLS connection, as the CLI makes them), and
//! the whole fleet listed — in process and through the `outfit` CLI.

use anyhow::{Context, Result, ensure};
use outfit_wsdl::envelope::Answer;
use outfit_wsdl::operator::{
    IssueToken, ListDevices, OperatorRequest, OperatorResponse, SetParameter, ShowDevice, decode_operator_response,
};
use outfit_wsdl::transport::{self, Endpoint, Identity};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the bench's administrator keeps its certificate.
pub fn admin_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("admin")
}

/// The bench's administrator, calling the operator API.
pub(super) struct Operator {
    tls: Arc<rustls::ClientConfig>,
    endpoint: Endpoint,
}

impl Operator {
    /// The administrator of the gateway serving `dir`.
    pub(super) fn admin(dir: &Path, ca: &Path) -> Result<Self> {
        let url = std::fs::read_to_string(dir.join("operator.url")).context("read operator.url")?;
        let admin = admin_dir(dir);
        let (cert, key) = (admin.join("bench-admin.pem"), admin.join("bench-admin.key"));
        let tls = transport::client_config(ca, Some(Identity { cert: &cert, key: &key }))?;
        Ok(Self { tls, endpoint: Endpoint::parse(url.trim())?.join(outfit_wsdl::OPERATOR_PATH) })
    }

    /// One call; the answer.
    pub(super) async fn ask(&self, request: OperatorRequest) -> Result<OperatorResponse> {
        let operation = request.operation();
        let envelope = request.encode_with(None);
        let reply = transport::soap_call_limited(&self.tls, &self.endpoint, operation, envelope, 64 << 20).await?;
        match decode_operator_response(&reply, operation) {
            Ok(Answer::Ok(response)) => Ok(response),
            Ok(Answer::Fault(f)) => anyhow::bail!("{operation} was refused: {f}"),
            Err(f) => anyhow::bail!("{operation}: unreadable answer: {f}"),
        }
    }

    async fn call(&self, request: OperatorRequest) -> Result<Duration> {
        let started = Instant::now();
        self.ask(request).await?;
        Ok(started.elapsed())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of `calls` sequential calls made by `request(i)`.
async fn measure(operator: &Operator, calls: usize, request: impl Fn(usize) -> OperatorRequest) -> Result<String> {
    let mut latencies = Vec::with_capacity(calls);
    for i in 0..calls {
        latencies.push(operator.call(request(i)).await?);
    }
    latencies.sort();
    Ok(format!(
        "p50 {:.1} ms  p99 {:.1} ms  ({calls} calls)",
        ms(super::percentile(&latencies, 0.50)),
        ms(super::percentile(&latencies, 0.99))
    ))
}

/// Runs the operator phase against the gateway serving `dir`, whose fleet has
/// `devices` devices.
pub async fn run(dir: &Path, ca: &Path, devices: usize, calls: usize) -> Result<()> {
    let operator = Operator::admin(dir, ca)?;
    let url = std::fs::read_to_string(dir.join("operator.url")).context("read operator.url")?;
    let admin = admin_dir(dir);
    let (cert, key) = (admin.join("bench-admin.pem"), admin.join("bench-admin.key"));
    let page = |limit| ListDevices { limit: Some(limit), ..ListDevices::default() };
    println!("operator API, one call at a time, a new TLS connection each:");
    let read = measure(&operator, calls, |_| OperatorRequest::ListDevices(page(100))).await?;
    println!("  read  ListDevices (a page of 100 of {devices}): {read}");
    let show = measure(&operator, calls, |i| {
        OperatorRequest::ShowDevice(ShowDevice { device: format!("bench-{}", i % devices) })
    })
    .await?;
    println!("  read  ShowDevice: {show}");
    let write = measure(&operator, calls, |i| {
        OperatorRequest::IssueToken(IssueToken {
            site: "bench".into(),
            device: format!("bench-{}", i % devices),
            address: None,
            expires_in: Some(60),
        })
    })
    .await?;
    println!("  write IssueToken (a token row and an audit line): {write}");
    let change = measure(&operator, calls, |i| {
        OperatorRequest::SetParameter(SetParameter {
            site: "bench".into(),
            model: "bench".into(),
            category: "OS".into(),
            component: "bench".into(),
            name: "n".into(),
            value: i.to_string(),
            ..SetParameter::default()
        })
    })
    .await?;
    println!("  write SetParameter (a new role and model version each): {change}");
    let mut whole = Vec::new();
    for _ in 0..3 {
        whole.push(operator.call(OperatorRequest::ListDevices(page(10_000))).await?);
    }
    whole.sort();
    println!("  the whole fleet in one ListDevices: median {:.0} ms of 3", ms(whole[1]));
    // The CLI as an operator runs it, if it was built beside this binary.
    let outfit = std::env::current_exe()?.with_file_name("outfit");
    if outfit.exists() {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let out = std::process::Command::new(&outfit)
                .args(["--json", "status", "--gateway", url.trim()])
                .arg("--ca")
                .arg(ca)
                .arg("--cert")
                .arg(&cert)
                .arg("--key")
                .arg(&key)
                .env("OUTFIT_CONFIG", dir.join("outfit-profiles.toml"))
                .output()?;
            runs.push(started.elapsed());
            ensure!(out.status.success(), "outfit status: {}", String::from_utf8_lossy(&out.stderr));
            let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            ensure!(listed["total"] == devices, "outfit status listed {} of {devices} devices", listed["total"]);
        }
        runs.sort();
        println!(
            "  `outfit --json status` over {devices} devices: median {:.0} ms, range {:.0}-{:.0} ms (3 runs)",
            ms(runs[1]),
            ms(runs[0]),
            ms(runs[2])
        );
    }
    Ok(())
}
