//! The fault-injection suite. Ten or more real agents, each with its own root and
//! a 50-command queue on a private MariaDB, while faults are injected at random
//! points: kill -9 of the gateway (restarted), kill -9 of an agent (restarted),
//! kill -9 of MariaDB (restarted), an agent's network cut and restored, and
//! reboot commands. Each agent runs in its own network namespace, cabled to the
//! gateway's bridge by a veth pair; a cut takes the cable down. Where namespaces
//! cannot be made (not root), a TCP proxy per agent stands in and the suite says so. Every command installs a real .deb whose postinst appends a marker
//! line inside the device root, so a command that ran twice, or out of order, is
//! visible from outside.
//!
//! Knobs (environment): `OUTFIT_FAULT_SEED` (default: from the clock; always
//! printed), `OUTFIT_FAULT_AGENTS` (10), `OUTFIT_FAULTS` (faults per round, 8; two
//! rounds), `OUTFIT_FAULT_LONG=1` (rounds until at least 1000 faults; the directory is kept). Each round
//! imports a new model version (every marker package at version = round) and
//! provisions every device to it.
//!
//! The Galera mode: three gateways, each on its own node of a three-node
//! MariaDB Galera cluster; each agent is given all three (`--gateway A,B,C`)
//! and fails over when the one it talks to is away. A gateway kill or a
//! database kill hits one of the three at random (the node rejoins by state
//! transfer). (Without namespaces each agent's proxy sends every new
//! connection to the next gateway instead.) `OUTFIT_GALERA_AGENTS`
//! (6) and `OUTFIT_GALERA_FAULTS` (4 per round) size it.

use anyhow::{Context, Result, bail, ensure};
use outfit_tests::galera::GaleraCluster;
use outfit_tests::netns::{self, Bridge, Link};
use outfit_tests::proxy::Proxy;
use outfit_tests::{Database, Gateway, PrivateMariadb, Process, build_deb, prepare_root, wait_for};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MARKERS: usize = 50;

/// A line for the CI log: straight to the process's stderr, which the test
/// harness does not capture (it captures `println!`/`eprintln!` and shows them
/// only for a failing test), so a passing run's seed is on record too.
fn report(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Builds the 50 marker packages at version `round` and a model that installs them.
fn marker_model(dir: &Path, round: u32) -> Result<PathBuf> {
    let dir = dir.join(format!("round-{round}"));
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    let mut model =
        String::from("site = \"faults\"\nname = \"markers\"\n\n[[roles]]\ncategory = \"APP\"\nname = \"markers\"\n");
    for n in 1..=MARKERS {
        let name = format!("outfit-marker-{n:02}");
        build_deb(&build, &name, &round.to_string(), &format!("echo \"{n:02} {round}\" >> /var/log/outfit-markers"))?;
        write!(
            model,
            "\n[[roles.components]]\nname = \"m{n:02}\"\npackage = \"build/{name}_{round}_all.deb\"\npackage_name = \"{name}\"\nversion = \"{round}\"\nformat = \"deb\"\n"
        )?;
    }
    let file = dir.join("model.toml");
    std::fs::write(&file, model)?;
    Ok(file)
}

/// How an agent's network reaches the gateway, and how the suite cuts it.
enum Cable {
    /// Its own network namespace and veth pair (the real thing).
    Netns(Link),
    /// A TCP proxy the test controls (the fallback without namespaces).
    Proxy(Proxy),
}

/// The database servers: one, or a Galera cluster with a gateway per node.
enum Servers {
    Single(PrivateMariadb),
    Galera(GaleraCluster),
}

/// Fields drop in order: agents first, then the gateways (so no connection of
/// theirs can hold a lock the database drop waits for), the database, then
/// the namespaces they ran in.
struct Fleet {
    agents: Vec<Process>,
    gateways: Vec<Gateway>,
    database: Database,
    servers: Servers,
    /// Present when agents live in namespaces; dropping it removes them.
    bridge: Option<Bridge>,
    names: Vec<String>,
    roots: Vec<PathBuf>,
    cables: Vec<Cable>,
}

impl Fleet {
    fn via(&self, i: usize) -> String {
        match &self.cables[i] {
            // The gateways keep their addresses and ports across restarts; an
            // agent given several fails over between them.
            Cable::Netns(_) => self.gateways.iter().map(|g| g.url.as_str()).collect::<Vec<_>>().join(","),
            Cable::Proxy(proxy) => format!("https://127.0.0.1:{}", proxy.addr.port()),
        }
    }

    fn start_agent(&self, i: usize) -> Result<Process> {
        let link = match &self.cables[i] {
            Cable::Netns(link) => Some(link),
            Cable::Proxy(_) => None,
        };
        self.gateway().start_agent_in(&self.names[i], &self.roots[i], &self.via(i), link)
    }

    /// The gateway operator commands go to (any would do: they share the data).
    fn gateway(&self) -> &Gateway {
        &self.gateways[0]
    }

    /// An operator's step between rounds, taken as an operator with several
    /// gateways takes it: a gateway whose database node is still rejoining
    /// (or that was just killed) may fail it, so the next one is tried, for up
    /// to two minutes. A step is repeated only if `unapplied` says the failed
    /// attempt changed nothing (a lost answer may follow a commit).
    fn operator_step(&self, args: &[&str], unapplied: impl Fn() -> Result<bool>) -> Result<()> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let gateway = &self.gateways[attempt % self.gateways.len()];
            attempt += 1;
            let Err(e) = gateway.cli(args) else { return Ok(()) };
            if started.elapsed() > Duration::from_secs(120) || !unapplied()? {
                return Err(e.context(format!("operator step {args:?} (attempt {attempt})")));
            }
            report(&format!("operator step {:?} failed on attempt {attempt}; trying the next gateway", args[0]));
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    fn gateway_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.gateways.iter().map(Gateway::socket_addr).collect()
    }

    fn device_sql(&self, i: usize) -> String {
        format!("(SELECT id FROM devices WHERE name = '{}')", self.names[i])
    }

    /// Waits until every queue is closed; a failed command is a violation.
    /// A queue that does not finish is reported with each queue's head and
    /// the end of every log.
    fn wait_all_done(&self, limit: Duration) -> Result<()> {
        wait_for(limit, "every queue to finish", || {
            let failed =
                self.database.query("SELECT device_id, sequence, result FROM commands WHERE state = 'failed'")?;
            ensure!(failed.trim().is_empty(), "violation: a command failed: {failed}");
            let open = self.database.scalar("SELECT COUNT(*) FROM commands WHERE state <> 'succeeded'")?;
            Ok((open == "0").then_some(()))
        })
        .map_err(|e| e.context(self.stalled()))
    }

    /// What a stalled run looks like: the first open command of each queue,
    /// and the last lines of each gateway's and agent's log.
    fn stalled(&self) -> String {
        let heads = self
            .database
            .query(
                "SELECT d.name, c.sequence, c.kind, c.state, c.attempts, c.result FROM commands c \
                 JOIN devices d ON d.id = c.device_id WHERE c.state <> 'succeeded' AND c.sequence = \
                 (SELECT MIN(o.sequence) FROM commands o WHERE o.device_id = c.device_id AND o.state <> 'succeeded')",
            )
            .unwrap_or_else(|e| format!("(cannot read the queues: {e:#})"));
        let tail = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(8)..].join("\n")
        };
        let mut report = format!("open queue heads (device, sequence, kind, state, attempts, result):\n{heads}");
        for gateway in &self.gateways {
            write!(report, "\n--- {}/gateway.log\n{}", gateway.dir.display(), tail(&gateway.dir.join("gateway.log")))
                .ok();
        }
        for name in &self.names {
            let log = self.gateway().agent_dir(name).join("agent.log");
            write!(report, "\n--- {name}\n{}", tail(&log)).ok();
        }
        report
    }

    /// The invariants, checked after every round.
    fn check(&self, rounds: u32) -> Result<()> {
        for i in 0..self.names.len() {
            let device = self.device_sql(i);
            // Every command has exactly one final state and its result.
            let rows = self.database.query(&format!(
                "SELECT COUNT(*), SUM(state = 'succeeded'), SUM(result IS NULL OR result = '') FROM commands WHERE device_id = {device}"
            ))?;
            let f: Vec<&str> = rows.trim().split('\t').collect();
            ensure!(
                f[0] == f[1] && f[2] == "0",
                "violation on {}: rows/succeeded/without result = {rows}",
                self.names[i]
            );
            // In order: no command finished before one queued ahead of it.
            let disorder = self.database.scalar(&format!(
                "SELECT COUNT(*) FROM commands a JOIN commands b ON a.device_id = b.device_id \
                 WHERE a.device_id = {device} AND a.sequence < b.sequence AND a.finished_at > b.finished_at"
            ))?;
            ensure!(disorder == "0", "violation on {}: {disorder} commands finished out of order", self.names[i]);
            // Each install ran exactly once, in queue order: the markers say so.
            let mut expected = String::new();
            for round in 1..=rounds {
                for n in 1..=MARKERS {
                    writeln!(expected, "{n:02} {round}")?;
                }
            }
            let markers = std::fs::read_to_string(self.roots[i].join("var/log/outfit-markers")).unwrap_or_default();
            if markers != expected {
                let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
                for line in markers.lines() {
                    *seen.entry(line).or_default() += 1;
                }
                let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).map(|(l, _)| *l).collect();
                let missing: Vec<_> = expected.lines().filter(|l| !seen.contains_key(l)).collect();
                bail!(
                    "violation on {}: markers are not one run each, in order (ran twice: {twice:?}; never ran: {missing:?})",
                    self.names[i]
                );
            }
            // A reboot is not safe to repeat: the agent rebooted exactly once per reboot command.
            let reboots = self
                .database
                .scalar(&format!("SELECT COUNT(*) FROM commands WHERE device_id = {device} AND kind = 'reboot'"))?;
            let generation = std::fs::read_to_string(self.roots[i].join("var/lib/outfit-agent/boot-generation"))
                .unwrap_or_else(|_| "0".into());
            ensure!(
                reboots == generation.trim(),
                "violation on {}: {reboots} reboot commands, {generation} reboots",
                self.names[i]
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    GatewayKill,
    AgentKill,
    DatabaseKill,
    NetworkCut,
    Reboot,
}

impl Fleet {
    fn inject(&mut self, fault: Fault, rng: &mut fastrand::Rng) -> Result<()> {
        let i = rng.usize(..self.names.len());
        let pause = Duration::from_millis(rng.u64(100..800));
        match fault {
            Fault::GatewayKill => {
                let g = rng.usize(..self.gateways.len());
                self.gateways[g].crash_and_restart()?;
                let addrs = self.gateway_addrs();
                for cable in &self.cables {
                    if let Cable::Proxy(proxy) = cable {
                        proxy.retarget_all(addrs.clone());
                    }
                }
            }
            Fault::AgentKill => {
                // kill -9, then a new process, as a service manager restarts it:
                // never two agents on one state directory at once.
                let old = &mut self.agents[i].child;
                let _ = old.kill();
                let _ = old.wait();
                self.agents[i] = self.start_agent(i)?;
            }
            Fault::DatabaseKill => match &mut self.servers {
                Servers::Single(mariadb) => {
                    mariadb.kill();
                    std::thread::sleep(pause);
                    mariadb.restart()?;
                }
                Servers::Galera(cluster) => {
                    let node = rng.usize(..cluster.size());
                    cluster.kill(node);
                    std::thread::sleep(pause);
                    cluster.restart(node)?;
                }
            },
            Fault::NetworkCut => match &self.cables[i] {
                Cable::Netns(link) => {
                    // Long enough, at times, for TCP to give up retransmitting
                    // into the dead link and for pokes and polls to fail.
                    link.cut()?;
                    std::thread::sleep(pause * 3);
                    link.restore()?;
                }
                Cable::Proxy(proxy) => {
                    proxy.hold();
                    std::thread::sleep(pause);
                    proxy.drop_held();
                    proxy.pass();
                }
            },
            Fault::Reboot => {
                self.gateway().cli(&["queue", "reboot", &self.names[i]])?;
            }
        }
        Ok(())
    }
}

#[test]
fn queues_survive_random_faults_exactly_once_and_in_order() -> Result<()> {
    suite(Mode::Single)
}

#[test]
fn queues_survive_random_faults_on_three_gateways_and_a_galera_cluster() -> Result<()> {
    suite(Mode::Galera)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One gateway on one MariaDB server; agents in network namespaces.
    Single,
    /// Three gateways on a three-node Galera cluster; agents behind proxies.
    Galera,
}

/// The `init` arguments of a gateway on the bridge: a fixed port, so agents
/// keep its URL across restarts.
fn on_bridge(bridge: &Bridge) -> Result<[String; 4]> {
    let port = std::net::TcpListener::bind((bridge.gateway_ip.as_str(), 0))?.local_addr()?.port();
    let listen = format!("{}:{port}", bridge.gateway_ip);
    Ok(["--listen".into(), listen, "--san".into(), bridge.gateway_ip.clone()])
}

/// The databases and gateways of a mode.
fn serve(mode: Mode, dir: &Path, bridge: &Option<Bridge>) -> Result<(Servers, Database, Vec<Gateway>)> {
    let init = bridge.as_ref().map(on_bridge).transpose()?;
    let init: Vec<&str> = init.iter().flatten().map(String::as_str).collect();
    if mode == Mode::Galera {
        let cluster = GaleraCluster::start(&dir.join("galera"), 3)?;
        let database = Database::mariadb_on("127.0.0.1", cluster.port(0))?;
        let mut gateways = vec![Gateway::start_with(&dir.join("gateway-0"), &database, &init)?];
        for node in 1..cluster.size() {
            let url = database.url_via(cluster.port(node));
            let listen = bridge.as_ref().map(on_bridge).transpose()?.map(|[_, listen, ..]| listen);
            let mut settings = vec![("database", url.as_str())];
            settings.extend(listen.as_deref().map(|listen| ("listen", listen)));
            gateways.push(gateways[0].start_peer_with(&dir.join(format!("gateway-{node}")), &settings)?);
        }
        return Ok((Servers::Galera(cluster), database, gateways));
    }
    let mariadb = PrivateMariadb::start(&dir.join("mariadb"))?;
    let database = Database::mariadb_on("127.0.0.1", mariadb.port)?;
    let gateway = Gateway::start_with(&dir.join("gateway"), &database, &init)?;
    Ok((Servers::Single(mariadb), database, vec![gateway]))
}

fn suite(mode: Mode) -> Result<()> {
    let seed: u64 = env_or(
        "OUTFIT_FAULT_SEED",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64,
    );
    let (agents, per_round): (usize, usize) = match mode {
        Mode::Single => (env_or("OUTFIT_FAULT_AGENTS", 10), env_or("OUTFIT_FAULTS", 8)),
        Mode::Galera => (env_or("OUTFIT_GALERA_AGENTS", 6), env_or("OUTFIT_GALERA_FAULTS", 4)),
    };
    // Two rounds by default, so the second one also upgrades every package
    // (a model change flowing to every device) under faults.
    let long = std::env::var("OUTFIT_FAULT_LONG").is_ok_and(|v| v == "1");
    let minimum = if long { 1000 } else { 2 * per_round };
    let label = match mode {
        Mode::Single => "fault suite",
        Mode::Galera => "fault suite (Galera)",
    };
    report(&format!("{label}: seed {seed}, {agents} agents, {per_round} faults per round, at least {minimum} faults"));
    let mut rng = fastrand::Rng::with_seed(seed);

    let mut dir = tempfile::tempdir()?;
    if long {
        // An hour's run is worth its logs afterwards, whatever its end.
        dir.disable_cleanup(true);
        report(&format!("{label}: keeping {}", dir.path().display()));
    }
    let bridge = if netns::available() { Some(Bridge::create()?) } else { None };
    let (servers, database, gateways) = serve(mode, dir.path(), &bridge)?;
    println!(
        "{label}: network cuts {}",
        if bridge.is_some() {
            "take down each agent's veth link (one network namespace per agent)"
        } else {
            "hold a TCP proxy per agent"
        }
    );
    let mut fleet = Fleet {
        database,
        servers,
        gateways,
        bridge,
        names: Vec::new(),
        roots: Vec::new(),
        cables: Vec::new(),
        agents: Vec::new(),
    };
    let first = marker_model(dir.path(), 1)?;
    fleet.gateway().cli(&["model", "import", first.to_str().unwrap()])?;
    for i in 0..agents {
        let name = format!("fault-{i:02}");
        let root = dir.path().join("roots").join(&name);
        prepare_root(&root)?;
        let (cable, address) = match &mut fleet.bridge {
            Some(bridge) => {
                let link = bridge.add(i)?;
                let address = link.address.clone();
                (Cable::Netns(link), address)
            }
            None => (Cable::Proxy(Proxy::round_robin(fleet.gateway_addrs())), "127.0.0.1".to_owned()),
        };
        fleet.gateway().register(&name, "markers", "faults", &address)?;
        fleet.names.push(name);
        fleet.roots.push(root);
        fleet.cables.push(cable);
        let agent = fleet.start_agent(i)?;
        fleet.agents.push(agent);
    }
    wait_for(Duration::from_secs(120), "every agent's Hello", || {
        Ok((fleet.database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == agents.to_string())
            .then_some(()))
    })?;

    let kinds = [Fault::GatewayKill, Fault::AgentKill, Fault::DatabaseKill, Fault::NetworkCut, Fault::Reboot];
    let mut injected: BTreeMap<Fault, usize> = BTreeMap::new();
    let mut total = 0;
    let started = Instant::now();
    let mut round = 0;
    while round == 0 || total < minimum {
        round += 1;
        if round > 1 {
            let model = marker_model(dir.path(), round)?;
            // Importing the same model again changes nothing.
            fleet.operator_step(&["model", "import", model.to_str().unwrap()], || Ok(true))?;
        }
        let mut provision = vec!["provision"];
        provision.extend(fleet.names.iter().map(String::as_str));
        // Read causally: on Galera, a node that has not applied a provisioning
        // committed elsewhere would say nothing was queued.
        let queued = || fleet.database.scalar("SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM commands");
        let before = queued()?;
        fleet.operator_step(&provision, || Ok(queued()? == before))?;
        for _ in 0..per_round {
            std::thread::sleep(Duration::from_millis(rng.u64(50..600)));
            let fault = kinds[rng.usize(..kinds.len())];
            fleet.inject(fault, &mut rng).with_context(|| format!("inject {fault:?} (seed {seed})"))?;
            *injected.entry(fault).or_default() += 1;
            total += 1;
        }
        if let Err(e) = fleet.wait_all_done(Duration::from_secs(300)).and_then(|()| fleet.check(round)) {
            bail!("{e:#}\nseed {seed}, round {round}, faults so far {total}: {injected:?}");
        }
        println!("round {round}: queues finished, invariants hold; faults so far {total} {injected:?}");
    }
    let commands = fleet.database.scalar("SELECT COUNT(*) FROM commands")?;
    report(&format!(
        "{label} passed: seed {seed}, {total} faults injected {injected:?}, {commands} commands, 0 violations, {:.0}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
