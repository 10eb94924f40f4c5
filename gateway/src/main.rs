//! `outfit-gateway`: parses the command line and calls the gateway library.

use anyhow::Result;
use clap::{Parser, Subcommand};
use outfit_gateway::home::{Home, Settings};
use outfit_gateway::server::Gateway;
use outfit_gateway::{file_servers, local, peers};
use std::path::PathBuf;
use std::sync::Arc;

/// Per-thread free lists: every agent exchange allocates and frees buffers,
/// XML events and rows on whichever worker or blocking thread serves it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "outfit-gateway",
    version,
    about = "Outfit gateway: serves agents and operators; everything else is the `outfit` CLI's"
)]
struct Cli {
    /// `text` (the default) or `json`: one JSON object a line, with the
    /// request's span fields (operation, device, command, operator) under `span`.
    #[arg(long, global = true, value_enum, default_value = "text", env = "OUTFIT_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct DirArg {
    /// Gateway directory (created by `init`).
    #[arg(long, env = "OUTFIT_GATEWAY_DIR")]
    dir: PathBuf,
}

fn parse_timeout(text: &str) -> Result<(String, u64), String> {
    let (kind, secs) = text.split_once('=').ok_or("expected KIND=SECONDS, e.g. install=1800")?;
    let secs = secs.parse().map_err(|_| format!("`{secs}` is not a number of seconds"))?;
    Ok((kind.to_owned(), secs))
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a gateway directory: settings, CA, server certificate, database.
    Init {
        #[command(flatten)]
        dir: DirArg,
        /// Database URL: `mysql://user@host:port/db`, or a SQLite file (relative to --dir).
        #[arg(long, default_value = "gateway.sqlite")]
        database: String,
        /// Address to listen on; port 0 picks a free one (see `gateway.url`).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// Address of the operator services' listener (apart from agents); see `operator.url`.
        #[arg(long, default_value = "127.0.0.1:8445")]
        operator_listen: String,
        /// Also serve `GET /metrics` over plain HTTP on this address, to anyone who reaches it
        /// (off by default; `/metrics` on the operator listener needs an operator certificate).
        #[arg(long)]
        metrics_listen: Option<String>,
        #[arg(long, default_value = "gateway")]
        name: String,
        /// Seconds a reboot may take before `status` flags it as overdue.
        #[arg(long, default_value_t = 900)]
        reboot_deadline_secs: u64,
        /// Extra names (DNS or IP) for the server certificate; localhost and 127.0.0.1 are always included.
        #[arg(long = "san")]
        sans: Vec<String>,
        /// How long a handed-out command of a kind may go unanswered before its queue halts, as
        /// KIND=SECONDS (repeatable; defaults install=1800, configure=300, reboot=600).
        #[arg(long = "timeout", value_parser = parse_timeout)]
        timeouts: Vec<(String, u64)>,
        /// Days a device certificate is valid; agents renew it before the end.
        #[arg(long, default_value_t = outfit_app::pki::DEVICE_CERT_DAYS, value_parser = clap::value_parser!(u64).range(1..))]
        device_cert_days: u64,
    },
    /// Create the first administrator: an operator with every right on every
    /// site (read, change, deploy, admin) and a client certificate for the
    /// `outfit` CLI, written to --out as NAME.pem and NAME.key (0600). A
    /// password is set too if OUTFIT_PASSWORD is given.
    Bootstrap {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        /// Directory to write the certificate and its key to.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u64).range(1..))]
        days: u64,
    },
    /// Serve agents over HTTPS until stopped.
    Serve {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Run the database's pending migrations and exit (`serve` runs them too).
    Migrate {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Load-test the agent protocol: N simulated agents over real TLS against a real gateway process.
    Bench {
        /// A new directory for the bench gateway.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 50)]
        agents: usize,
        /// Commands queued per agent.
        #[arg(long, default_value_t = 10)]
        commands: usize,
        /// MySQL/MariaDB URL (a database that exists and is empty); SQLite when absent.
        #[arg(long)]
        database: Option<String>,
        /// Exchanges in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Calls of each kind in the operator-API phase after the provisioning (0: skip it).
        #[arg(long, default_value_t = 200)]
        operator_calls: usize,
        /// Then models over time: the dry run for every device, a rollout from
        /// bare, a parameter change rolled out to every device, inventory reports.
        #[arg(long)]
        rollout: bool,
        /// Another gateway on this database URL (another node of the same
        /// Galera cluster as --database); repeat for more. Agents are spread
        /// over all the gateways.
        #[arg(long = "peer-database", requires = "database")]
        peer_databases: Vec<String>,
    },
    /// Pair this data centre with another, and see how federation stands.
    Peer {
        #[command(subcommand)]
        command: peers::PeerCmd,
    },
    /// Add file servers (package repositories near the devices) and list them.
    FileServer {
        #[command(subcommand)]
        command: file_servers::FileServerCmd,
    },
    /// Run the main job end to end on SQLite: 3 devices, 3 roles, real dpkg.
    Demo {
        /// A new directory for the demo gateway, packages and device roots.
        #[arg(long)]
        dir: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    outfit_gateway::memory::without_huge_pages();
    let cli = Cli::parse();
    // The demo prints its own progress; per-request logs would drown it.
    let default_filter =
        if matches!(cli.command, Cmd::Demo { .. } | Cmd::Bench { .. }) { "warn" } else { "warn,outfit_gateway=info" };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTFIT_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Init {
            dir,
            database,
            listen,
            operator_listen,
            metrics_listen,
            name,
            reboot_deadline_secs,
            sans,
            timeouts: given,
            device_cert_days,
        } => {
            let settings = Settings {
                database,
                listen,
                operator_listen,
                name,
                reboot_deadline_secs,
                timeouts: given.into_iter().collect(),
                device_cert_days,
                metrics_listen,
            };
            print!("{}", local::init(dir.dir, settings, sans)?);
        }
        Cmd::Serve { dir } => Arc::new(Gateway::open(Home::new(dir.dir))?).serve().await?,
        Cmd::Bootstrap { dir, name, out, days } => print!("{}", local::bootstrap(dir.dir, &name, &out, days)?),
        Cmd::Migrate { dir } => {
            local::open(dir.dir)?;
            println!("the database is migrated to the newest schema");
        }
        Cmd::Peer { command } => print!("{}", command.run()?),
        Cmd::FileServer { command } => print!("{}", command.run()?),
        Cmd::Demo { dir } => outfit_gateway::demo::run(&dir).await?,
        Cmd::Bench { dir, agents, commands, database, concurrency, operator_calls, rollout, peer_databases } => {
            let config = outfit_gateway::bench::BenchConfig {
                agents,
                commands,
                database,
                concurrency,
                operator_calls,
                rollout,
                peer_databases,
            };
            outfit_gateway::bench::run(&dir, config).await?
        }
    }
    Ok(())
}
