//! `outfit-gateway bench`: a load generator for the agent protocol, and then
//! the operator API (`operator.rs`). It starts a
//! real `outfit-gateway serve` process (SQLite or MariaDB), registers N devices
//! with K queued commands each, then simulates N agents speaking the real
//! protocol over real TLS — a new connection for every exchange. Three phases,
//! each timed: enrolment, the agents' start (one `Hello` each), and the
//! provisioning (`NextCommand`, then `ReportResult` until the queue is empty,
//! what a poke sets off in a running agent), for which it reports commands/s,
//! exchange latency percentiles, CPU per command of the gateway, the database
//! server and itself, and the gateway's RSS; and commands/s over start and
//! provisioning together. On MariaDB it also prints what one durable commit
//! costs alone on this machine and the server's statements, commits and
//! fsyncs per exchange, so a change that adds a statement to the hot path, or
//! a machine whose disk makes commits dear, shows in the report.
//! Simulated agents report success without running anything: this measures the
//! gateway and the protocol, not dpkg.

mod gateways;
mod operator;
mod pokes;
mod rollout;

use crate::home::{Home, Settings};
use anyhow::{Context, Result, ensure};
use outfit_app::provisioning::Targets;
use outfit_app::repository::Repository;
use outfit_app::script_file::Script;
use outfit_app::{Ca, NoPokes, ServerCounters, Services};
use outfit_domain::command::Payload;
use outfit_domain::model::{Component, ConfigFile, Model, PackageRef, Role};
use outfit_domain::queue::NewCommand;
use outfit_domain::rights::{Caller, Principal};
use outfit_wsdl::envelope::{Answer, GatewayRequest, decode_answer};
use outfit_wsdl::messages::{Enrol, Hello, NextCommand, Outcome, ReportResult};
use outfit_wsdl::transport::{self, Endpoint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub agents: usize,
    pub commands: usize,
    /// `None`: SQLite in the bench directory; else a MySQL/MariaDB URL.
    pub database: Option<String>,
    /// Exchanges in flight at once across all simulated agents.
    pub concurrency: usize,
    /// Calls of each kind in the operator phase (0: none).
    pub operator_calls: usize,
    /// Then the models-over-time phase (dry run, rollouts, inventory).
    pub rollout: bool,
    /// More gateways, one on each of these databases (other nodes of the
    /// same Galera cluster), the agents spread over all of them.
    pub peer_databases: Vec<String>,
}

/// Reads user+system CPU seconds and peak RSS (kB) of a process from /proc.
fn process_usage(pid: u32) -> Result<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat.rsplit_once(')').context("/proc stat format")?.1.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = (fields[11].parse::<f64>()? + fields[12].parse::<f64>()?) / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Ok((cpu, rss))
}

/// CPU seconds of the whole machine (all cores) from /proc/stat: busy (user,
/// nice, system, irq and softirq, so kernel networking is counted too) and
/// stolen (a virtual machine's cores running someone else's work, which makes
/// runs on the same machine differ).
fn machine_cpu() -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let cpu = stat.lines().next().context("/proc/stat is empty")?;
    let ticks: Vec<f64> = cpu.split_whitespace().skip(1).map(|t| t.parse().unwrap_or(0.0)).collect();
    ensure!(ticks.len() >= 8, "/proc/stat format");
    Ok(((ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / 100.0, ticks[7] / 100.0))
}

/// The local database server's process, when there is exactly one
/// (`mariadbd` or `mysqld`), so its CPU per command can be reported.
fn database_server() -> Option<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if matches!(comm.trim(), "mariadbd" | "mysqld") {
            found.push(pid);
        }
    }
    (found.len() == 1).then(|| found[0])
}

/// A process's resident memory now (VmRSS), in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The gateways' peak resident memory so far (VmHWM), each in MB.
fn gateways_peak(pids: &[u32]) -> String {
    let peak = |pid| process_usage(pid).map_or(0.0, |(_, kb)| kb as f64 / 1024.0);
    pids.iter().map(|&pid| format!("{:.1} MB", peak(pid))).collect::<Vec<_>>().join(", ")
}

/// The gateways' resident memory now, each in MB.
fn gateways_rss(pids: &[u32]) -> String {
    pids.iter().map(|&pid| format!("{:.1} MB", rss_mb(pid))).collect::<Vec<_>>().join(", ")
}

/// What the database holds for `agents` agents: rows and bytes in all, per
/// agent, and the largest tables.
fn footprint(services: &Services, agents: usize) -> Result<()> {
    let sizes = services.table_sizes()?;
    let rows: i64 = sizes.iter().map(|t| t.rows).sum();
    let bytes: Option<i64> = sizes.iter().map(|t| t.bytes).sum();
    let per_agent = |n: i64| n as f64 / agents.max(1) as f64;
    match bytes {
        Some(bytes) => println!(
            "database: {rows} rows, {:.1} MB (tables and indexes): {:.1} rows and {:.0} bytes per agent",
            bytes as f64 / 1e6,
            per_agent(rows),
            per_agent(bytes)
        ),
        None => println!("database: {rows} rows, {:.1} rows per agent (this SQLite has no dbstat)", per_agent(rows)),
    }
    let largest: Vec<String> = sizes
        .iter()
        .take(6)
        .map(|t| match t.bytes {
            Some(b) => format!("{} {} rows {:.1} MB", t.table, t.rows, b as f64 / 1e6),
            None => format!("{} {} rows", t.table, t.rows),
        })
        .collect();
    println!("  largest: {}", largest.join("; "));
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Threads registering the bench's devices at once.
const PREPARERS: usize = 8;

/// Sets up the gateway directory, its database, devices and queues through
/// the use cases, as the local administrator; returns the services and each
/// device's enrolment token.
fn prepare(dir: &Path, config: &BenchConfig) -> Result<(Home, Services, Vec<String>)> {
    let home = Home::new(dir);
    let settings = Settings::local("bench", config.database.as_deref().unwrap_or("gateway.sqlite"));
    home.init(&settings, &["127.0.0.1".into(), "localhost".into()])?;
    let ca = Ca { key_pem: home.ca_key_pem()?.into(), device_cert_days: settings.device_cert_days };
    let repository = Repository::new(home.repository());
    let url = home.database_url(&settings);
    let services = Services::open(&url, repository, ca, Arc::new(NoPokes), "bench-setup".into())?;
    let admin = Caller { principal: Principal::LocalAdministrator { user: "bench".into() }, from: "cli".into() };
    let component = Component {
        name: "bench".into(),
        package: PackageRef {
            name: "bench".into(),
            version: "1".into(),
            format: "deb".into(),
            sha256: "0".repeat(64),
            size: 0,
            storage_key: "0".repeat(64),
        },
        config: Some(ConfigFile {
            path: "/etc/bench.conf".into(),
            template: "n = {{ n }}\n".into(),
            attributes: Default::default(),
        }),
        plugin: None,
        parameters: vec![("n".into(), "1".into())],
    };
    let roles = vec![Role { category: "OS".into(), name: "bench".into(), components: vec![component] }];
    services.import_model_content(&admin, &Model { site: "bench".into(), name: "bench".into(), roles })?;
    let payload = Payload::Configure {
        component: "bench".into(),
        path: "/etc/bench.conf".into(),
        template: "n = {{ n }}\n".into(),
        parameters: vec![("n".into(), "1".into())],
        attributes: Default::default(),
        plugin: None,
    };
    // Devices and tokens through the use cases, from several threads at
    // once (100,000 of them one after the other would take a quarter hour).
    let mut tokens = vec![String::new(); config.agents];
    let chunk = config.agents.div_ceil(PREPARERS).max(1);
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = tokens
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, slots)| {
                let (services, admin) = (&services, &admin);
                scope.spawn(move || -> Result<()> {
                    for (j, slot) in slots.iter_mut().enumerate() {
                        let name = format!("bench-{}", c * chunk + j);
                        let device = services.add_device(admin, "bench", &name, "bench")?;
                        *slot = services.issue_token(admin, "bench", &device.name, "127.0.0.1", 3600)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a preparing thread panicked"))??;
        }
        Ok(())
    })?;
    // No commands: the provisioning phase is one idle poll per agent.
    if config.commands > 0 {
        let steps = NewCommand::all(&vec![payload; config.commands], None);
        let script = Script { site: "bench".into(), name: "bench".into(), description: String::new(), steps };
        services.save_script(&admin, &script)?;
        services.run_script(&admin, "bench", "bench", &Targets::Model("bench".into()), None)?;
    }
    // An administrator for the operator phase.
    crate::local::bootstrap(dir.to_owned(), "bench-admin", &operator::admin_dir(dir), 1)?;
    Ok((home, services, tokens))
}

/// Enrols one simulated agent as a real one does: its own key, a signing
/// request, the token; returns a TLS client presenting the new certificate.
async fn enrol(
    ca: PathBuf,
    endpoint: Endpoint,
    device: String,
    token: String,
    gate: Arc<tokio::sync::Semaphore>,
) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, pem::PemObject};
    let _permit = gate.acquire().await?;
    let key = rcgen::KeyPair::generate()?;
    let csr = rcgen::CertificateParams::default().serialize_request(&key)?.pem()?;
    let request = GatewayRequest::Enrol(Enrol { device, site: "bench".into(), token: Some(token), csr });
    let anonymous = transport::client_config(&ca, None)?;
    let reply = transport::soap_call(&anonymous, &endpoint, "Enrol", request.encode()).await?;
    let certificate = match decode_answer(&reply, |b| b.enrol_response)? {
        Answer::Ok(response) => response.certificate.context("Enrol with a token answered without a certificate")?,
        Answer::Fault(f) => anyhow::bail!("Enrol: {f}"),
    };
    let chain = vec![CertificateDer::from_pem_slice(certificate.as_bytes())?];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok(transport::client_config_with(&ca, Some((chain, key)))?)
}

/// One simulated agent: its TLS identity with its own session cache, as a
/// real agent process keeps one, so it resumes with tickets the gateway
/// issued to it; and where the gateway pokes it.
struct SimulatedAgent {
    tls: Arc<rustls::ClientConfig>,
    endpoint: Endpoint,
    device: String,
    gate: Arc<tokio::sync::Semaphore>,
    poke_url: String,
    /// Rung by the bench's poke listener when the gateway pokes this device.
    doorbell: Arc<tokio::sync::Notify>,
}

impl SimulatedAgent {
    fn new(
        tls: Arc<rustls::ClientConfig>,
        endpoint: Endpoint,
        device: String,
        gate: Arc<tokio::sync::Semaphore>,
        (poke_url, doorbell): (String, Arc<tokio::sync::Notify>),
    ) -> Self {
        let mut own = (*tls).clone();
        own.resumption = rustls::client::Resumption::in_memory_sessions(4);
        Self { tls: Arc::new(own), endpoint, device, gate, poke_url, doorbell }
    }

    /// One exchange over a new connection; its latency goes to `latencies`.
    async fn call(
        &self,
        request: GatewayRequest,
        latencies: &mut Vec<Duration>,
    ) -> Result<outfit_wsdl::envelope::Body> {
        let _permit = self.gate.acquire().await?;
        let started = Instant::now();
        let operation = request.operation();
        let reply = transport::soap_call(&self.tls, &self.endpoint, operation, request.encode()).await?;
        latencies.push(started.elapsed());
        match decode_answer(&reply, Some)? {
            Answer::Ok(body) => Ok(body),
            Answer::Fault(f) => anyhow::bail!("{operation}: {f}"),
        }
    }

    /// What an agent sends once per start.
    async fn hello(self: Arc<Self>) -> Result<(Arc<Self>, Vec<Duration>)> {
        let mut latencies = Vec::new();
        let hello = Hello {
            device: self.device.clone(),
            boot_id: "bench".into(),
            agent_version: "bench".into(),
            poke_url: Some(self.poke_url.clone()),
            ..Hello::default()
        };
        self.call(GatewayRequest::Hello(hello), &mut latencies).await.with_context(|| self.device.clone())?;
        Ok((self, latencies))
    }

    /// What a poke (or a poll) sets off: NextCommand, then ReportResult of
    /// each command until the gateway answers NoCommand. Returns the commands
    /// run and the exchanges' latencies.
    async fn drain(&self) -> Result<(usize, Vec<Duration>)> {
        let mut latencies = Vec::new();
        let mut done = 0;
        let device = self.device.clone();
        let mut next = self
            .call(GatewayRequest::NextCommand(NextCommand { device: device.clone() }), &mut latencies)
            .await?
            .next_command_response
            .context("no NextCommandResponse")?
            .command;
        while let Some(command) = next {
            done += 1;
            let report = ReportResult {
                device: device.clone(),
                command_id: command.id,
                outcome: Some(Outcome::Succeeded),
                message: "bench".into(),
            };
            next = self
                .call(GatewayRequest::ReportResult(report), &mut latencies)
                .await?
                .report_result_response
                .context("no ReportResultResponse")?
                .command;
        }
        Ok((done, latencies))
    }

    /// An inventory holding what the bench model asks for: its package, and
    /// its file as the agent wrote it.
    async fn report_inventory(&self, occasion: &str) -> Result<()> {
        use outfit_wsdl::inventory::{InstalledPackage, ManagedFileReport, ReportInventory};
        let written = "b".repeat(64);
        let report = ReportInventory {
            device: self.device.clone(),
            taken_at_ms: outfit_domain::now_ms(),
            occasion: occasion.to_owned(),
            package: vec![InstalledPackage { name: "bench".into(), version: "1".into(), format: "deb".into() }],
            file: vec![ManagedFileReport {
                path: "/etc/bench.conf".into(),
                component: "bench".into(),
                written_sha256: written.clone(),
                sha256: Some(written),
                written: None,
                now: None,
            }],
            ..ReportInventory::default()
        };
        self.call(GatewayRequest::ReportInventory(report), &mut Vec::new())
            .await
            .with_context(|| self.device.clone())?;
        Ok(())
    }

    /// What a poke sets off in a running agent: the queue drained, then the
    /// inventory (which the real agent sends a second later; the load is the same).
    async fn converge(&self) -> Result<()> {
        self.drain().await?;
        self.report_inventory("drained").await
    }

    /// A running agent: converges each time it is poked, until dropped.
    async fn serve_pokes(self: Arc<Self>) -> Result<()> {
        loop {
            self.doorbell.notified().await;
            self.converge().await.with_context(|| self.device.clone())?;
        }
    }
}

/// The gateway process under test, killed however `run` ends (an agent that
/// fails its enrolment or Hello must not leave it running).
/// CPU counters around one measured phase.
struct Usage {
    /// CPU seconds of every gateway process together.
    gateway: f64,
    /// The largest gateway peak RSS so far, in kB.
    gateway_peak_kb: u64,
    own: f64,
    database: Option<f64>,
    machine: f64,
    stolen: f64,
}

impl Usage {
    fn now(gateways: &[u32], database: Option<u32>) -> Result<Self> {
        let (machine, stolen) = machine_cpu()?;
        let (mut gateway, mut gateway_peak_kb) = (0.0, 0);
        for &pid in gateways {
            let (cpu, peak) = process_usage(pid)?;
            gateway += cpu;
            gateway_peak_kb = gateway_peak_kb.max(peak);
        }
        Ok(Self {
            gateway,
            gateway_peak_kb,
            own: process_usage(std::process::id())?.0,
            database: database.map(process_usage).transpose()?.map(|(cpu, _)| cpu),
            machine,
            stolen,
        })
    }
}

/// The database server's counters, if it has them; a failure to read them
/// costs the report its database line, not the run.
fn server_counters(services: &Services) -> Option<ServerCounters> {
    services.server_counters().unwrap_or_else(|e| {
        eprintln!("no database work per exchange: {e}");
        None
    })
}

/// Prints what one durable commit costs on this machine with nothing else
/// running: the floor under each exchange, whose transaction commits once.
fn commit_floor(services: &Services, database: Option<u32>) -> Result<()> {
    const ROUNDS: u32 = 1000;
    let cpu = || database.map(process_usage).transpose().map(|usage| usage.map(|(cpu, _)| cpu));
    let before = cpu()?;
    let each = services.commit_floor("bench-0", ROUNDS)?;
    let server = before.zip(cpu()?).map(|(before, after)| (after - before) * 1e3 / ROUNDS as f64);
    println!(
        "one durable commit alone: {:.2} ms wall{} ({ROUNDS} one-row transactions in a row)",
        each.as_secs_f64() * 1e3,
        server.map_or(String::new(), |ms| format!(", {ms:.2} ms database server CPU"))
    );
    Ok(())
}

pub async fn run(dir: &Path, config: BenchConfig) -> Result<()> {
    let setup = Instant::now();
    let (home, services, tokens) = prepare(dir, &config)?;
    println!(
        "prepared {} devices × {} commands on {} in {:.1}s",
        config.agents,
        config.commands,
        config.database.as_deref().map_or("SQLite", |_| "MariaDB/MySQL"),
        setup.elapsed().as_secs_f64()
    );
    let gateways = gateways::Gateways::start(dir, &config.peer_databases).await?;
    if gateways.len() > 1 {
        println!("{} gateways, agents spread over them in turn", gateways.len());
    }
    let pids = gateways.pids();
    let endpoint = gateways.endpoint(0);
    let gate = Arc::new(tokio::sync::Semaphore::new(config.concurrency));

    // Enrolment first (measured on its own): every agent gets its certificate.
    let enrolling = Instant::now();
    let mut enrolments = tokio::task::JoinSet::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let task = enrol(home.ca_cert(), endpoint.clone(), format!("bench-{i}"), token, gate.clone());
        enrolments.spawn(async move { (i, task.await) });
    }
    let mut identities = vec![None; config.agents];
    while let Some(joined) = enrolments.join_next().await {
        let (i, tls) = joined?;
        identities[i] = Some(tls.with_context(|| format!("enrol bench-{i}"))?);
    }
    let took = enrolling.elapsed();
    println!(
        "enrolled {} agents in {:.2}s: {:.0} enrolments/s (key generation, CSR, token, signed certificate); gateway RSS {}",
        config.agents,
        took.as_secs_f64(),
        config.agents as f64 / took.as_secs_f64(),
        gateways_rss(&pids)
    );

    let database = config.database.as_ref().and_then(|_| database_server());
    let doorbells: pokes::Doorbells =
        Arc::new((0..config.agents).map(|i| (format!("bench-{i}"), Arc::new(tokio::sync::Notify::new()))).collect());
    let poke_url = pokes::listen(&home, doorbells.clone()).await?;
    let agents: Vec<Arc<SimulatedAgent>> = identities
        .into_iter()
        .enumerate()
        .map(|(i, tls)| {
            let device = format!("bench-{i}");
            let poked = (poke_url(&device), doorbells[&device].clone());
            Arc::new(SimulatedAgent::new(
                tls.expect("every agent enrolled"),
                gateways.endpoint(i),
                device,
                gate.clone(),
                poked,
            ))
        })
        .collect();

    // Every agent starts (Hello), as after a fleet-wide restart; measured
    // apart, since a running agent says Hello once and then serves every
    // provisioning the gateway pokes it for.
    let starting = Instant::now();
    let mut hellos = tokio::task::JoinSet::new();
    for agent in agents {
        hellos.spawn(agent.hello());
    }
    let (mut started_agents, mut hello_latencies) = (Vec::with_capacity(config.agents), Vec::new());
    while let Some(joined) = hellos.join_next().await {
        let (agent, mut l) = joined??;
        started_agents.push(agent);
        hello_latencies.append(&mut l);
    }
    let start_took = starting.elapsed();
    hello_latencies.sort();
    println!(
        "started {} agents in {:.2}s: {:.0} Hellos/s, p50 {:.1} ms (a full TLS handshake each); gateway RSS {}",
        config.agents,
        start_took.as_secs_f64(),
        config.agents as f64 / start_took.as_secs_f64(),
        percentile(&hello_latencies, 0.50).as_secs_f64() * 1e3,
        gateways_rss(&pids)
    );

    if config.database.is_some() {
        commit_floor(&services, database)?;
    }

    // The provisioning: every agent drains its queue.
    let counters_before = server_counters(&services);
    let before = Usage::now(&pids, database)?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for agent in &started_agents {
        let (agent, device) = (agent.clone(), agent.device.clone());
        tasks.spawn(async move { agent.drain().await.with_context(|| device) });
    }
    let (mut commands, mut latencies, mut errors) = (0usize, Vec::new(), 0usize);
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok((done, mut l)) => {
                commands += done;
                latencies.append(&mut l);
            }
            Err(e) => {
                errors += 1;
                if errors <= 3 {
                    eprintln!("agent failed: {e:#}");
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let after = Usage::now(&pids, database)?;
    let counters = server_counters(&services).zip(counters_before).map(|(after, before)| after.since(&before));
    if config.commands == 0 {
        println!(
            "idle polls (NextCommand answered NoCommand): {} in {:.2}s, {:.0}/s; gateway RSS {}",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            gateways_rss(&pids)
        );
    }
    footprint(&services, config.agents)?;
    let operator_phase = match config.operator_calls {
        0 => Ok(()),
        calls => operator::run(dir, &home.ca_cert(), config.agents, calls).await,
    };
    let rollout_phase = match config.rollout {
        false => Ok(()),
        true => rollout::run(dir, &home.ca_cert(), &started_agents).await,
    };
    if config.rollout {
        println!("after the rollouts: gateway RSS {}, peak {}", gateways_rss(&pids), gateways_peak(&pids));
        footprint(&services, config.agents)?;
    }
    drop(gateways);
    latencies.sort();
    // With no commands (idle polls) the costs are per exchange instead.
    let per_command = |seconds: f64| seconds * 1e3 / commands.max(latencies.len()).max(1) as f64;
    println!("agents {}  commands {}  exchanges {}  errors {}", config.agents, commands, latencies.len(), errors);
    println!("wall {:.2}s  commands/s {:.0}", elapsed.as_secs_f64(), commands as f64 / elapsed.as_secs_f64());
    println!(
        "with the agents' start: {:.2}s, {:.0} commands/s",
        (start_took + elapsed).as_secs_f64(),
        commands as f64 / (start_took + elapsed).as_secs_f64()
    );
    println!(
        "exchange latency p50 {:.1} ms  p99 {:.1} ms  (concurrency {})",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        config.concurrency
    );
    println!(
        "gateway CPU {:.2}s total, {:.2} ms per command; gateway peak RSS {:.1} MB",
        after.gateway - before.gateway,
        per_command(after.gateway - before.gateway),
        after.gateway_peak_kb as f64 / 1024.0
    );
    // On one machine the simulated agents compete with the gateway (and the
    // database) for the same cores; this says how much they took.
    println!(
        "load generator CPU {:.2}s total, {:.2} ms per command",
        after.own - before.own,
        per_command(after.own - before.own)
    );
    if let (Some(before), Some(after)) = (before.database, after.database) {
        println!("database server CPU {:.2}s total, {:.2} ms per command", after - before, per_command(after - before));
    }
    if let Some(work) = counters {
        let per_exchange = |n: u64| n as f64 / latencies.len().max(1) as f64;
        println!(
            "database work per exchange: {:.2} statements, {:.2} commits, {:.2} fsyncs",
            per_exchange(work.statements),
            per_exchange(work.commits),
            per_exchange(work.fsyncs)
        );
    }
    println!(
        "machine busy {:.2}s of {:.2}s available ({} cores), {:.2} ms per command; stolen by the hypervisor {:.2}s",
        after.machine - before.machine,
        elapsed.as_secs_f64() * cores() as f64,
        cores(),
        per_command(after.machine - before.machine),
        after.stolen - before.stolen
    );
    ensure!(errors == 0, "{errors} simulated agents failed");
    operator_phase.context("the operator phase")?;
    rollout_phase.context("the models-over-time phase")
}
