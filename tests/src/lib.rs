//! The end-to-end harness: real gateway and agent processes, a real database
//! (a fresh MariaDB database or SQLite file per test, dropped afterwards), real
//! dpkg. Assertions read the outcome from outside the product: `dpkg-query`,
//! the files in each device root, and the database through its own client.

pub mod galera;
pub mod netns;
pub mod proxy;

use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A built binary of the workspace (`cargo build --bins` puts them beside `deps/`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` before the tests (the README's test command does)",
        path.display()
    );
    path
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A `cargo` for building another variant of a workspace binary from a test
/// (cross-built, other features), in the workspace, with the outer build's
/// settings removed; pass it a `--target-dir` of its own, since the outer
/// cargo holds the workspace's.
pub fn nested_cargo() -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace());
    for (key, _) in std::env::vars() {
        if (key.starts_with("CARGO_") && key != "CARGO_HOME") || key == "RUSTFLAGS" || key == "RUSTC_WRAPPER" {
            cargo.env_remove(key);
        }
    }
    cargo
}

/// The runtime-only agent's target: this machine's CPU, Linux, static musl.
pub fn lean_target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

/// The target directory of the agent built without Cranelift.
pub fn lean_target_dir() -> PathBuf {
    workspace().join("target/runtime-only")
}

/// Builds the agent as packaged, without Cranelift (`--no-default-features
/// --features built-in-plugins`), as a static musl binary for
/// [`lean_target`], in a target directory of its own (the outer cargo holds
/// the workspace's); returns the binary.
pub fn runtime_only_agent() -> Result<PathBuf> {
    let target_dir = lean_target_dir();
    let mut build = nested_cargo();
    build.args(["build", "-j2", "-p", "outfit-agent", "--no-default-features", "--features", "built-in-plugins"]);
    build.args(["--bin", "outfit-agent", "--target", &lean_target()]).arg("--target-dir").arg(&target_dir);
    ensure!(
        build.status().context("run cargo")?.success(),
        "building the runtime-only agent failed (musl target: `bash .ci/setup` installs musl-tools and it)"
    );
    Ok(target_dir.join(lean_target()).join("debug/outfit-agent"))
}

/// Runs a command, failing with its output if it does not succeed.
pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("start {cmd:?}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// Where a test's gateway keeps its data.
#[derive(Debug)]
pub enum Database {
    /// A database on a MariaDB server, created for this test and dropped after it.
    Mariadb { name: String, host: String, port: u16 },
    /// A SQLite file inside the gateway directory.
    Sqlite { path: PathBuf },
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

fn default_host() -> String {
    std::env::var("OUTFIT_TEST_MYSQL_HOST").unwrap_or_else(|_| "127.0.0.1".into())
}

fn default_port() -> u16 {
    std::env::var("OUTFIT_TEST_MYSQL_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3306)
}

pub(crate) fn mariadb_cli(host: &str, port: u16) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.args(["--protocol=TCP", "-h", host, "-P"]).arg(port.to_string()).args([
        "-uroot",
        "--batch",
        "--skip-column-names",
    ]);
    cmd
}

impl Database {
    /// A fresh database on the shared MariaDB server (127.0.0.1:3306 by default).
    pub fn mariadb() -> Result<Self> {
        Self::mariadb_on(&default_host(), default_port())
    }

    pub fn mariadb_on(host: &str, port: u16) -> Result<Self> {
        let name = format!("outfit_t{}_{}_{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::SeqCst), nanos());
        run(mariadb_cli(host, port).arg("-e").arg(format!("CREATE DATABASE {name}")))
            .with_context(|| format!("create a test database (is MariaDB running on {host}:{port}? see README)"))?;
        Ok(Self::Mariadb { name, host: host.to_owned(), port })
    }

    pub fn sqlite(dir: &Path) -> Self {
        Self::Sqlite { path: dir.join("gateway.sqlite") }
    }

    pub fn url(&self) -> String {
        match self {
            Self::Mariadb { name, host, port } => format!("mysql://root@{host}:{port}/{name}"),
            Self::Sqlite { path } => path.display().to_string(),
        }
    }

    /// The URL of the same MariaDB database through the server on `port` (a
    /// node of the same Galera cluster).
    pub fn url_via(&self, port: u16) -> String {
        match self {
            Self::Mariadb { name, host, .. } => format!("mysql://root@{host}:{port}/{name}"),
            Self::Sqlite { .. } => self.url(),
        }
    }

    /// Runs SQL through the database's own command-line client; rows are
    /// tab-separated lines.
    pub fn query(&self, sql: &str) -> Result<String> {
        match self {
            Self::Mariadb { name, host, port } => run(mariadb_cli(host, *port).arg(name).arg("-e").arg(sql)),
            Self::Sqlite { path } => {
                run(Command::new("sqlite3").args(["-batch", "-separator", "\t"]).arg(path).arg(sql))
            }
        }
    }

    pub fn scalar(&self, sql: &str) -> Result<String> {
        Ok(self.query(sql)?.trim().to_owned())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Self::Mariadb { name, host, port } = self {
            let _ = run(mariadb_cli(host, *port).arg("-e").arg(format!("DROP DATABASE IF EXISTS {name}")));
        }
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
}

/// A MariaDB server of the test's own (private datadir, free port), so that a
/// test may kill and restart it without touching the shared server.
#[derive(Debug)]
pub struct PrivateMariadb {
    pub dir: PathBuf,
    pub port: u16,
    process: Option<Process>,
}

impl PrivateMariadb {
    pub fn start(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        run(Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--auth-root-authentication-method=normal"])
            .args(["--skip-test-db", "--skip-name-resolve"])
            .arg(format!("--datadir={}", dir.join("data").display())))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self { dir: dir.to_owned(), port, process: None };
        server.restart()?;
        Ok(server)
    }

    /// kill -9 the server (InnoDB recovers on the next start).
    pub fn kill(&mut self) {
        self.process = None;
    }

    pub fn restart(&mut self) -> Result<()> {
        self.process = None;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("mariadbd.log"))?;
        let child = Command::new("mariadbd")
            .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1", "--skip-name-resolve"])
            .args(["--innodb-buffer-pool-size=32M", "--skip-log-bin", "--max-connections=300"])
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--socket={}", self.dir.join("mysql.sock").display()))
            .arg(format!("--port={}", self.port))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.process = Some(Process { child, name: "mariadbd".into() });
        let port = self.port;
        wait_for(Duration::from_secs(60), "the private MariaDB to answer", || {
            Ok(mariadb_cli("127.0.0.1", port).arg("-e").arg("SELECT 1").output()?.status.success().then_some(()))
        })
    }
}

/// A child process killed when dropped.
#[derive(Debug)]
pub struct Process {
    pub child: Child,
    pub name: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway directory with a serving `outfit-gateway serve` process.
#[derive(Debug)]
pub struct Gateway {
    pub dir: PathBuf,
    pub url: String,
    pub process: Process,
    /// The network namespace it serves in (and the CLI runs in), if not this one.
    pub netns: Option<String>,
}

impl Gateway {
    /// `outfit-gateway init` + `serve` on a free port.
    pub fn start(dir: &Path, database: &Database) -> Result<Self> {
        Self::start_with(dir, database, &[])
    }

    /// Like `start`, with more `init` arguments (e.g. `--timeout install=2`;
    /// a `--listen` given here replaces the default `127.0.0.1:0`).
    pub fn start_with(dir: &Path, database: &Database, init_args: &[&str]) -> Result<Self> {
        Self::start_in(dir, database, init_args, None)
    }

    /// Like `start_with`, serving inside network namespace `netns` (a data
    /// centre of its own in the federation test); `cli` runs there too.
    pub fn start_in(dir: &Path, database: &Database, init_args: &[&str], netns: Option<&str>) -> Result<Self> {
        let mut init = Command::new(bin("outfit-gateway"));
        init.arg("init");
        if !init_args.contains(&"--listen") {
            init.args(["--listen", "127.0.0.1:0"]);
        }
        if !init_args.contains(&"--operator-listen") {
            init.args(["--operator-listen", "127.0.0.1:0"]);
        }
        run(init.arg("--database").arg(database.url()).arg("--dir").arg(dir).args(init_args))?;
        // The first administrator, whose certificate `cli` uses.
        run(Command::new(bin("outfit-gateway"))
            .args(["bootstrap", "admin", "--out"])
            .arg(dir.join("admin"))
            .arg("--dir")
            .arg(dir)
            .env_remove("OUTFIT_PASSWORD"))?;
        let netns = netns.map(str::to_owned);
        let (process, url) = Self::spawn_serve(dir, &[], &[], netns.as_deref())?;
        Ok(Self { dir: dir.to_owned(), url, process, netns })
    }

    /// `program`, run in this gateway's network namespace.
    fn command(&self, program: &Path) -> Command {
        in_netns(program, self.netns.as_deref())
    }

    /// `outfit-gateway ARGS --dir DIR` (a local administrator's command), in
    /// this gateway's namespace; returns its output.
    pub fn local(&self, args: &[&str]) -> Result<String> {
        run(self.command(&bin("outfit-gateway")).args(args).arg("--dir").arg(&self.dir))
    }

    /// `outfit-gateway ARGS serve` (`args`: global options such as
    /// `--log-format json`), with `env` added to its environment.
    fn spawn_serve(dir: &Path, args: &[&str], env: &[(&str, &str)], netns: Option<&str>) -> Result<(Process, String)> {
        let _ = std::fs::remove_file(dir.join("gateway.url"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("gateway.log"))?;
        let child = in_netns(&bin("outfit-gateway"), netns)
            .args(args)
            .envs(env.iter().copied())
            .args(["serve", "--dir"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let mut process = Process { child, name: "gateway".into() };
        let url_file = dir.join("gateway.url");
        let url = wait_for(Duration::from_secs(30), "the gateway to listen", || {
            if let Some(status) = process.child.try_wait()? {
                bail!("gateway exited ({status}): {}", std::fs::read_to_string(dir.join("gateway.log"))?);
            }
            Ok(std::fs::read_to_string(&url_file).ok().filter(|u| !u.is_empty()))
        })?;
        Ok((process, url))
    }

    /// A second gateway process on the same database: a copy of this gateway's
    /// directory (same CA and certificates, the package repository shared) serving on its own port.
    pub fn start_peer(&self, dir: &Path) -> Result<Self> {
        self.start_peer_with(dir, &[])
    }

    /// Like [`Gateway::start_peer`], with settings of the peer's
    /// `gateway.toml` replaced (`database`: the same data through another
    /// server, a node of a Galera cluster, [`Database::url_via`]; `listen`),
    /// and sharing this gateway's package repository (as gateways on a shared
    /// file system would), so packages imported later through either are
    /// served by both.
    pub fn start_peer_with(&self, dir: &Path, settings: &[(&str, &str)]) -> Result<Self> {
        run(Command::new("cp").arg("-r").arg(&self.dir).arg(dir))?;
        std::fs::remove_dir_all(dir.join("repository"))?;
        std::os::unix::fs::symlink(self.dir.join("repository"), dir.join("repository"))?;
        let _ = std::fs::remove_file(dir.join("gateway.log"));
        let file = dir.join("gateway.toml");
        let mut toml: toml::Table = std::fs::read_to_string(&file)?.parse()?;
        for (key, value) in settings {
            toml.insert((*key).into(), (*value).into());
        }
        std::fs::write(&file, toml.to_string())?;
        let (process, url) = Self::spawn_serve(dir, &[], &[], self.netns.as_deref())?;
        Ok(Self { dir: dir.to_owned(), url, process, netns: self.netns.clone() })
    }

    /// kill -9 the gateway process and start a new one on the same directory.
    pub fn crash_and_restart(&mut self) -> Result<()> {
        self.restart_with(&[], &[])
    }

    /// kill -9 the gateway process and serve the same directory again as
    /// `outfit-gateway ARGS serve`, with `env` added to its environment.
    pub fn restart_with(&mut self, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
        self.process.child.kill()?;
        self.process.child.wait()?;
        let (process, url) = Self::spawn_serve(&self.dir, args, env, self.netns.as_deref())?;
        self.process = process;
        self.url = url;
        Ok(())
    }

    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("https://").parse().expect("gateway URL is https://IP:PORT")
    }

    /// A gateway in `dir/gateway` on a SQLite file of its own.
    pub fn start_on_sqlite(dir: &Path) -> Result<(Database, Self)> {
        let home = dir.join("gateway");
        std::fs::create_dir_all(&home)?;
        let database = Database::sqlite(&home);
        let gateway = Self::start(&home, &database)?;
        Ok((database, gateway))
    }

    /// Runs `outfit ARGS` against this gateway's operator API as its first
    /// administrator (certificate in `DIR/admin/`); returns its output.
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        run(&mut self.outfit(args))
    }

    /// The `outfit` command for `args`, as the administrator, not run yet.
    pub fn outfit(&self, args: &[&str]) -> Command {
        let url = std::fs::read_to_string(self.dir.join("operator.url")).unwrap_or_default();
        let mut command = self.command(&bin("outfit"));
        command
            .args(args)
            .args(["--gateway", url.trim()])
            .arg("--ca")
            .arg(self.dir.join("ca.pem"))
            .arg("--cert")
            .arg(self.dir.join("admin/admin.pem"))
            .arg("--key")
            .arg(self.dir.join("admin/admin.key"))
            .env("OUTFIT_CONFIG", self.dir.join("outfit-profiles.toml"))
            .env_remove("OUTFIT_PASSWORD")
            .env_remove("OUTFIT_USER")
            .stdin(Stdio::null());
        command
    }

    /// The `outfit` command for `args` as operator `user` with `password`
    /// (a UsernameToken, no certificate), not run yet.
    pub fn outfit_as(&self, user: &str, password: &str, args: &[&str]) -> Command {
        let url = std::fs::read_to_string(self.dir.join("operator.url")).unwrap_or_default();
        let mut command = Command::new(bin("outfit"));
        command
            .args(args)
            .args(["--gateway", url.trim(), "--user", user])
            .arg("--ca")
            .arg(self.dir.join("ca.pem"))
            .env("OUTFIT_CONFIG", self.dir.join("outfit-profiles.toml"))
            .env("OUTFIT_PASSWORD", password)
            .env_remove("OUTFIT_USER")
            .env_remove("OUTFIT_CERT")
            .env_remove("OUTFIT_KEY")
            .stdin(Stdio::null());
        command
    }

    /// An operator with a password and a client certificate (`NAME.pem`,
    /// `NAME.key` in `certs`).
    pub fn operator_with_cert(&self, name: &str, certs: &Path) -> Result<()> {
        self.add_operator(name, "a long enough passphrase")?;
        self.cli(&["operator", "cert", name, "--out", certs.to_str().unwrap()])?;
        Ok(())
    }

    /// Builds the demo model's packages under `dir` and imports it (site
    /// `demo`, model `webserver`).
    pub fn import_demo_model(&self, dir: &Path) -> Result<()> {
        let model = build_demo_model(dir)?;
        self.cli(&["model", "import", model.to_str().unwrap()])?;
        Ok(())
    }

    /// Waits until the device's agent has said Hello with its plug-in report;
    /// returns `device show` then.
    pub fn reported(&self, device: &str) -> Result<String> {
        wait_for(Duration::from_secs(60), &format!("{device}'s agent to report its plug-ins"), || {
            let shown = self.cli(&["device", "show", device])?;
            Ok(shown.contains("\nplatform: ").then_some(shown))
        })
    }

    /// Registers a device and starts its agent with its own root.
    pub fn add_agent(&self, name: &str, model: &str, site: &str, root: &Path) -> Result<Process> {
        self.add_agent_via(name, model, site, root, &self.url)
    }

    /// Like `add_agent`, but the agent reaches the gateway at `url` (e.g. through a proxy).
    pub fn add_agent_via(&self, name: &str, model: &str, site: &str, root: &Path, url: &str) -> Result<Process> {
        self.register(name, model, site, "127.0.0.1")?;
        self.start_agent(name, root, url)
    }

    /// `device add` + `device token`: registers a device whose agent's poke
    /// listener is at `address`, and keeps its one-time enrolment token (and
    /// site) where `start_agent` finds them; the agent enrols on its first start.
    pub fn register(&self, name: &str, model: &str, site: &str, address: &str) -> Result<()> {
        self.cli(&["device", "add", name, "--site", site, "--model", model])?;
        let token = self.token(name, site, address)?;
        let dir = self.agent_dir(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("token"), token)?;
        std::fs::write(dir.join("site"), site)?;
        Ok(())
    }

    /// `outfit operator add NAME` with the password in `OUTFIT_NEW_PASSWORD`; returns its output.
    pub fn add_operator(&self, name: &str, password: &str) -> Result<String> {
        run(self.outfit(&["operator", "add", name]).env("OUTFIT_NEW_PASSWORD", password))
    }

    /// `device token`: a fresh one-time enrolment token.
    pub fn token(&self, name: &str, site: &str, address: &str) -> Result<String> {
        Ok(self.cli(&["device", "token", name, "--site", site, "--address", address])?.trim().to_owned())
    }

    /// Where a test keeps an agent's log, token and (by default) its state.
    pub fn agent_dir(&self, name: &str) -> PathBuf {
        self.dir.join("agents").join(name)
    }

    /// Enrols `name` with `token` into `state` and exits (`--enrol-only`);
    /// returns the agent's exit status and stderr.
    pub fn enrol(&self, name: &str, site: &str, token: &str, state: &Path) -> Result<(bool, String)> {
        let out = Command::new(bin("outfit-agent"))
            .args(["--gateway", &self.url, "--device", name, "--site", site, "--enrol-token", token, "--enrol-only"])
            .arg("--ca")
            .arg(self.dir.join("ca.pem"))
            .arg("--root")
            .arg(state)
            .arg("--state-dir")
            .arg(state)
            .output()?;
        Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
    }

    /// Starts `outfit-agent --enrol-only` for `name` of `site` without a token:
    /// its enrolment request waits for approval (it asks again every second),
    /// and it exits once it has a certificate or was rejected. Its log is
    /// `STATE/agent.log`.
    pub fn ask_for_approval(&self, name: &str, site: &str, state: &Path) -> Result<Process> {
        std::fs::create_dir_all(state)?;
        let log = std::fs::File::create(state.join("agent.log"))?;
        let child = Command::new(bin("outfit-agent"))
            .args(["--gateway", &self.url, "--device", name, "--site", site, "--enrol-only", "--approval-poll", "1"])
            .arg("--ca")
            .arg(self.dir.join("ca.pem"))
            .arg("--root")
            .arg(state)
            .arg("--state-dir")
            .arg(state)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        Ok(Process { child, name: name.to_owned() })
    }

    /// Starts (or restarts) the agent of a registered device.
    pub fn start_agent(&self, name: &str, root: &Path, url: &str) -> Result<Process> {
        self.start_agent_in(name, root, url, None)
    }

    /// Starts (or restarts) an agent; with a `link`, inside that network
    /// namespace, its poke listener on the namespace's address.
    pub fn start_agent_in(&self, name: &str, root: &Path, url: &str, link: Option<&netns::Link>) -> Result<Process> {
        self.spawn_agent(&bin("outfit-agent"), name, root, url, link, &[])
    }

    /// Starts (or restarts) an agent with more arguments (e.g. `--trusted-keys F`).
    pub fn start_agent_with(&self, name: &str, root: &Path, extra: &[&str]) -> Result<Process> {
        self.spawn_agent(&bin("outfit-agent"), name, root, &self.url, None, extra)
    }

    /// [`Gateway::start_agent_with`] for another build of the agent (`program`).
    pub fn start_agent_program(&self, program: &Path, name: &str, root: &Path, extra: &[&str]) -> Result<Process> {
        self.spawn_agent(program, name, root, &self.url, None, extra)
    }

    fn spawn_agent(
        &self,
        program: &Path,
        name: &str,
        root: &Path,
        url: &str,
        link: Option<&netns::Link>,
        extra: &[&str],
    ) -> Result<Process> {
        let dir = self.agent_dir(name);
        std::fs::create_dir_all(root)?;
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("agent.log"))?;
        let mut command = in_netns(program, link.map(|l| l.netns.as_str()));
        let listen = link.map_or("127.0.0.1:0".to_owned(), |l| format!("{}:0", l.address));
        command.args(["--gateway", url, "--device", name, "--listen", &listen, "--poll-interval", "2"]);
        // The token is spent on the first start; later starts reuse the identity.
        if let (Ok(token), Ok(site)) =
            (std::fs::read_to_string(dir.join("token")), std::fs::read_to_string(dir.join("site")))
        {
            command.args(["--site", site.trim(), "--enrol-token", token.trim()]);
        }
        let child = command
            .arg("--ca")
            .arg(self.dir.join("ca.pem"))
            .arg("--root")
            .arg(root)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        Ok(Process { child, name: name.to_owned() })
    }

    pub fn agent_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.agent_dir(name).join("agent.log")).unwrap_or_default()
    }
}

/// A gateway whose demo model is built on real agents, each with a root of
/// its own: what the console, drift and similar suites start from.
#[derive(Debug)]
pub struct Fleet {
    pub gateway: Gateway,
    /// `roots/NAME` is each device's `/`.
    pub roots: PathBuf,
    pub agents: Vec<Process>,
}

impl Fleet {
    /// A gateway in `dir/gateway` on `database`; the demo model (site `demo`,
    /// model `webserver`) imported, then rolled out to `devices` until every
    /// one converged.
    pub fn demo(dir: &Path, database: &Database, devices: &[&str]) -> Result<Self> {
        let gateway = Gateway::start(&dir.join("gateway"), database)?;
        let model = build_demo_model(&dir.join("model"))?;
        gateway.cli(&["model", "import", model.to_str().unwrap(), "--rollout", "none"])?;
        let roots = dir.join("roots");
        let mut agents = Vec::new();
        for name in devices {
            agents.push(gateway.add_agent(name, "webserver", "demo", &roots.join(name))?);
        }
        for name in devices {
            gateway.reported(name)?;
        }
        let built = gateway.cli(&["--json", "rollout", "start", "webserver", "--site", "demo", "--wait"])?;
        let built: serde_json::Value = serde_json::from_str(&built).with_context(|| built.clone())?;
        let rollout = &built["rollout"];
        ensure!(
            rollout["state"] == "completed" && rollout["converged"] == devices.len(),
            "the demo model did not converge on {devices:?}: {built}"
        );
        Ok(Self { gateway, roots, agents })
    }
}

/// `program` as a command, run inside network namespace `netns` when given
/// (`ip netns exec` execs it in place: the child is the program).
fn in_netns(program: &Path, netns: Option<&str>) -> Command {
    match netns {
        Some(netns) => {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", netns]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Polls `f` until it yields a value or `limit` passes.
pub fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = f()? {
            return Ok(value);
        }
        ensure!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One HTTPS request with curl, presenting `who`'s certificate (or none);
/// returns the HTTP status and the body.
pub fn curl(
    gateway: &Gateway,
    certs: &Path,
    who: Option<&str>,
    url: &str,
    json: Option<&str>,
) -> Result<(u16, String)> {
    let mut command = Command::new("curl");
    command.args(["--silent", "--show-error", "--write-out", "\n%{http_code}", "--cacert"]);
    command.arg(gateway.dir.join("ca.pem"));
    if let Some(who) = who {
        command.arg("--cert").arg(certs.join(format!("{who}.pem"))).arg("--key").arg(certs.join(format!("{who}.key")));
    }
    if let Some(json) = json {
        command.args(["--header", "Content-Type: application/json", "--data-binary", json]);
    }
    let out = run(command.arg(url))?;
    let (body, status) = out.trim_end().rsplit_once('\n').context("curl printed no status")?;
    Ok((status.parse()?, body.to_owned()))
}

/// Copies the demo model sources into `dir` and builds its packages with
/// `dpkg-deb --build`, as an operator would; returns the model file.
pub fn build_demo_model(dir: &Path) -> Result<PathBuf> {
    let source = workspace().join("gateway/demo");
    run(Command::new("cp").arg("-r").arg(format!("{}/.", source.display())).arg(dir))?;
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    for entry in std::fs::read_dir(dir.join("packages"))? {
        let package = entry?.path();
        run(Command::new("chmod").args(["-R", "u=rwX,go=rX"]).arg(&package))?;
        run(Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&package).arg(&build))?;
    }
    Ok(dir.join("model.toml"))
}

/// Builds `NAME_VERSION_all.deb` into `build` with `dpkg-deb`, from a source
/// tree under `build/src`; `postinst` (a shell script body) runs in the device
/// root when dpkg configures it. Returns the package file.
pub fn build_deb(build: &Path, name: &str, version: &str, postinst: &str) -> Result<PathBuf> {
    let src = build.join("src").join(format!("{name}_{version}"));
    std::fs::create_dir_all(src.join("DEBIAN"))?;
    std::fs::write(
        src.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@t.invalid>\nDescription: test\n"
        ),
    )?;
    let script = src.join("DEBIAN/postinst");
    std::fs::write(&script, format!("#!/bin/sh\n{postinst}\n"))?;
    run(Command::new("chmod").arg("755").arg(&script))?;
    run(Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&src).arg(build))?;
    Ok(build.join(format!("{name}_{version}_all.deb")))
}

/// Builds `NAME-VERSION-1.noarch.rpm` with `rpmbuild` into `build` (one file,
/// `/usr/share/NAME/version`, holding VERSION). Returns the package file.
pub fn build_rpm(build: &Path, name: &str, version: &str) -> Result<PathBuf> {
    let top = build.join("rpmbuild").join(format!("{name}-{version}"));
    for sub in ["BUILD", "RPMS", "SOURCES", "SPECS", "SRPMS"] {
        std::fs::create_dir_all(top.join(sub))?;
    }
    let spec = top.join("SPECS/package.spec");
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n\
             %description\ntest\n%install\nmkdir -p %{{buildroot}}/usr/share/{name}\n\
             echo {version} > %{{buildroot}}/usr/share/{name}/version\n%files\n/usr/share/{name}/version\n"
        ),
    )?;
    run(Command::new("rpmbuild").arg("--define").arg(format!("_topdir {}", top.display())).arg("-bb").arg(&spec))
        .context("rpmbuild (package rpm, installed by .ci/setup)")?;
    let file = build.join(format!("{name}-{version}-1.noarch.rpm"));
    std::fs::copy(top.join(format!("RPMS/noarch/{name}-{version}-1.noarch.rpm")), &file)?;
    Ok(file)
}

/// `name VERSION-RELEASE` of every package real `rpm` finds in a device root.
pub fn installed_rpms(root: &Path) -> Result<Vec<String>> {
    let out = run(Command::new("rpm")
        .arg(format!("--root={}", root.display()))
        .args(["-qa", "--queryformat=%{NAME} %{VERSION}-%{RELEASE}\\n"]))?;
    let mut packages: Vec<String> = out.lines().map(str::to_owned).collect();
    packages.sort();
    Ok(packages)
}

/// A device root in which dpkg can run maintainer scripts: busybox as
/// `/bin/sh`, and as `/bin/sleep` (its applets are not built into its shell).
pub fn prepare_root(root: &Path) -> Result<()> {
    std::fs::create_dir_all(root.join("bin"))?;
    std::fs::create_dir_all(root.join("var/log"))?;
    for applet in ["sh", "sleep"] {
        std::fs::copy("/bin/busybox", root.join("bin").join(applet))
            .context("copy /bin/busybox (package busybox-static, installed by .ci/setup)")?;
    }
    Ok(())
}

/// `name version` of every fully installed package in a device root.
pub fn installed_packages(root: &Path) -> Result<Vec<String>> {
    if !root.join("var/lib/dpkg/status").exists() {
        return Ok(Vec::new()); // dpkg never ran in this root
    }
    let out = run(Command::new("dpkg-query")
        .arg(format!("--admindir={}", root.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"]))?;
    let mut packages: Vec<String> = out
        .lines()
        .filter(|l| l.trim_end().ends_with("ii"))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    packages.sort();
    Ok(packages)
}
