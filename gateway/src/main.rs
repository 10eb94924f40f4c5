//! `outfit-gateway`: parses the command line and calls the gateway library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use outfit_app::provisioning::Targets;
use outfit_domain::enrolment::short_key;
use outfit_domain::rights::{Action, Holder, Right};
use outfit_gateway::home::{Home, Settings};
use outfit_gateway::local;
use outfit_gateway::server::Gateway;
use std::path::PathBuf;
use std::sync::Arc;

/// Per-thread free lists: every agent exchange allocates and frees buffers,
/// XML events and rows on whichever worker or blocking thread serves it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "outfit-gateway", version, about = "Outfit gateway: models, command queues and the agent endpoint")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct DirArg {
    /// Gateway directory (created by `init`).
    #[arg(long, env = "OUTFIT_GATEWAY_DIR")]
    dir: PathBuf,
}

#[derive(clap::Args)]
struct ExpiryArg {
    /// Seconds the new commands may wait for an offline device; not handed out by then, they
    /// close as `expired` instead of running late. Default: they wait as long as it takes.
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u64>,
}

impl ExpiryArg {
    /// The deadline as Unix ms.
    fn deadline(&self) -> Option<i64> {
        self.expires_in.map(|secs| outfit_domain::now_ms() + secs as i64 * 1000)
    }
}

/// The devices of one site a command sequence is queued for.
#[derive(clap::Args)]
struct TargetArgs {
    /// The site of the devices (and of the script, for `script run`).
    #[arg(long)]
    site: String,
    /// Every device of this model (in that site).
    #[arg(long, conflicts_with = "devices")]
    model: Option<String>,
    /// Device names (or --model).
    devices: Vec<String>,
    #[command(flatten)]
    expiry: ExpiryArg,
}

impl TargetArgs {
    fn targets(&self) -> Targets {
        match &self.model {
            Some(model) => Targets::Model(model.clone()),
            None => Targets::Devices(self.devices.clone()),
        }
    }
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
    /// Model operations.
    Model {
        #[command(subcommand)]
        command: ModelCmd,
    },
    /// Device operations.
    Device {
        #[command(subcommand)]
        command: DeviceCmd,
    },
    /// Operators: the people and systems that call the operator services.
    Operator {
        #[command(subcommand)]
        command: OperatorCmd,
    },
    /// Groups of operators, whose rights hold for every member.
    Group {
        #[command(subcommand)]
        command: GroupCmd,
    },
    /// Show the latest lines of the audit log (operator calls, allowed and refused).
    Audit {
        #[command(flatten)]
        dir: DirArg,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Queue the commands that build each device to its model, and poke its agent.
    Provision {
        #[command(flatten)]
        dir: DirArg,
        #[arg(required = true)]
        devices: Vec<String>,
        #[command(flatten)]
        expiry: ExpiryArg,
    },
    /// Predefined scripts: named command sequences stored in the database.
    Script {
        #[command(subcommand)]
        command: ScriptCmd,
    },
    /// Plug-ins delivered through the queue: signed bundles (from `outfit-plugin sign`).
    Plugin {
        #[command(subcommand)]
        command: PluginCmd,
    },
    /// Inspect or act on one device's queue.
    Queue {
        #[command(subcommand)]
        command: QueueCmd,
    },
    /// Show every device's queue.
    Status {
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
    },
    /// Run the main job end to end on SQLite: 3 devices, 3 roles, real dpkg.
    Demo {
        /// A new directory for the demo gateway, packages and device roots.
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Import a model file (TOML); unchanged content adds no new version.
    Import {
        #[command(flatten)]
        dir: DirArg,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ScriptCmd {
    /// Import a script file (TOML); a script of the same site and name gets the new steps.
    Import {
        #[command(flatten)]
        dir: DirArg,
        file: PathBuf,
    },
    /// List the stored scripts.
    List {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Append a script's steps to the queues of the named devices (or of every device of --model)
    /// and poke their agents. All queues change or none does.
    Run {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[command(flatten)]
        targets: TargetArgs,
    },
}

#[derive(Subcommand)]
enum PluginCmd {
    /// Store a signed bundle in the repository and queue `install-plugin` for the named devices
    /// (or every device of --model); their agents verify it, switch to it and keep the old version.
    Install {
        #[command(flatten)]
        dir: DirArg,
        /// The bundle directory: plugin.wasm, manifest.toml, signature.
        bundle: PathBuf,
        #[command(flatten)]
        targets: TargetArgs,
    },
    /// Queue `rollback-plugin NAME`: the agents switch the plug-in back to the version before.
    Rollback {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[command(flatten)]
        targets: TargetArgs,
    },
}

#[derive(Subcommand)]
enum QueueCmd {
    /// List the device's commands in order with their state and result.
    Show {
        #[command(flatten)]
        dir: DirArg,
        device: String,
    },
    /// Run the failed (or timed-out) command of a halted queue again (same id), then go on.
    Retry {
        #[command(flatten)]
        dir: DirArg,
        device: String,
    },
    /// Close the failed (or timed-out) command of a halted queue as skipped and go on.
    Skip {
        #[command(flatten)]
        dir: DirArg,
        device: String,
    },
    /// Append a reboot; the queue waits until the agent is back with a new boot id.
    Reboot {
        #[command(flatten)]
        dir: DirArg,
        device: String,
        #[command(flatten)]
        expiry: ExpiryArg,
    },
    /// Cancel every command not yet handed out (and a failed one).
    Abort {
        #[command(flatten)]
        dir: DirArg,
        device: String,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Register a device of a site, built to a model. Its agent enrols by
    /// asking for approval (`device requests`, `device approve`) or with a token.
    Add {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        model: String,
    },
    /// Issue a one-time enrolment token for a registered device; prints it.
    /// The agent presents it once (`outfit-agent --enrol-token`) with a key it
    /// generated itself, and receives its certificate.
    Token {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[arg(long)]
        site: String,
        /// Address the gateway pokes the agent at (goes in its certificate).
        #[arg(long, default_value = "127.0.0.1")]
        address: String,
        /// Seconds the token stays valid.
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
    },
    /// Show a device: its model versions and what its agent reported in
    /// its latest Hello (platform, plug-ins), which queued commands are
    /// checked against.
    Show {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// Revoke every certificate of a device: its next request is refused.
    Revoke {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// List the enrolment requests that wait for approval, with the
    /// fingerprint of each requested key (the agent prints its own).
    Requests {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Approve a device's waiting enrolment request: its agent gets its
    /// certificate the next time it asks.
    Approve {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        /// The start of the key fingerprint, when several requests wait.
        #[arg(long)]
        key: Option<String>,
        /// Address the gateway pokes the agent at (goes in its certificate);
        /// default: the address the request came from.
        #[arg(long)]
        address: Option<String>,
    },
    /// Reject a device's waiting enrolment request.
    Reject {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum OperatorCmd {
    /// Add an operator, or set a new password for one. The password is read
    /// from the environment variable OUTFIT_PASSWORD, else from the first line
    /// of standard input; only its argon2 hash is stored.
    Add {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// Issue a client certificate for an operator: it authenticates on the
    /// operator listener without a password, and at agents' access endpoints
    /// (a browser or curl presents it). Writes NAME.pem and NAME.key (0600).
    Cert {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        /// Directory to write the certificate and its key to.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u64).range(1..))]
        days: u64,
    },
    /// Revoke every client certificate of an operator: refused from the next request on.
    Revoke {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// Grant an operator one action on role categories of sites.
    Grant {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[command(flatten)]
        right: RightArgs,
    },
}

/// One right: an action on a site's role categories. Without --site it
/// covers every site; without --category every category.
#[derive(clap::Args)]
struct RightArgs {
    /// read, change, deploy or admin (operators and rights; needs no --site and no --category).
    #[arg(long, value_parser = ["read", "change", "deploy", "admin"])]
    action: String,
    #[arg(long)]
    site: Option<String>,
    /// OS, APP, CONTENT (or another category the database defines).
    #[arg(long)]
    category: Option<String>,
}

#[derive(Subcommand)]
enum GroupCmd {
    /// Add a group of operators (a site's IT staff, say).
    Add {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// Make an operator a member of a group: the group's rights hold for them.
    Join {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        operator: String,
    },
    /// Grant a group one action on role categories of sites.
    Grant {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[command(flatten)]
        right: RightArgs,
    },
}

/// Grants `right` to `holder` and says so.
fn grant(dir: DirArg, holder: Holder<'_>, right: RightArgs) -> Result<()> {
    let (_, services, caller) = local::open(dir.dir)?;
    let action = Action::parse(&right.action).context("unknown action")?;
    let right = Right { action, site: right.site, category: right.category };
    services.grant(&caller, holder, &right).with_context(|| format!("failed to grant {holder} a right"))?;
    println!("{holder} may now {}", right.describe());
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demo prints its own progress; per-request logs would drown it.
    let default_filter =
        if matches!(cli.command, Cmd::Demo { .. } | Cmd::Bench { .. }) { "warn" } else { "warn,outfit_gateway=info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTFIT_LOG").unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            name,
            reboot_deadline_secs,
            mut sans,
            timeouts: given,
            device_cert_days,
        } => {
            for always in ["localhost", "127.0.0.1"] {
                if !sans.iter().any(|s| s == always) {
                    sans.push(always.into());
                }
            }
            let home = Home::new(&dir.dir);
            let mut timeouts = outfit_gateway::home::default_timeouts();
            timeouts.extend(given);
            let settings = Settings {
                database: database.clone(),
                listen,
                operator_listen,
                name,
                reboot_deadline_secs,
                timeouts,
                device_cert_days,
            };
            home.init(&settings, &sans)?;
            if let Err(e) = Gateway::open(home.clone()) {
                // Without this the directory would "already hold a gateway" that cannot start.
                let _ = std::fs::remove_file(home.settings_path());
                return Err(anyhow::Error::new(e).context(format!(
                    "failed to open the database `{database}`; fix --database and run init again (same --dir)"
                )));
            }
            println!("initialised gateway in {}", dir.dir.display());
        }
        Cmd::Serve { dir } => Arc::new(Gateway::open(Home::new(dir.dir))?).serve().await?,
        Cmd::Bootstrap { dir, name, out, days } => {
            let (gateway, services, caller) = local::open(dir.dir)?;
            let password = match std::env::var("OUTFIT_PASSWORD") {
                Ok(password) => password,
                // Nobody knows it: the certificate is the way in.
                Err(_) => local::unguessable_password()?,
            };
            services.save_operator(&caller, &name, &password).context("failed to add the administrator")?;
            for action in Action::ALL {
                services.grant(&caller, Holder::Operator(&name), &Right { action, site: None, category: None })?;
            }
            let issued = services.issue_operator_certificate(&caller, &name, days)?;
            std::fs::create_dir_all(&out).with_context(|| format!("failed to create {}", out.display()))?;
            let (cert, key) = (out.join(format!("{name}.pem")), out.join(format!("{name}.key")));
            issued.write(&cert, &key)?;
            let url = std::fs::read_to_string(gateway.home.operator_url_file()).unwrap_or_default();
            println!(
                "administrator {name}: every right on every site; certificate {} and key {}",
                cert.display(),
                key.display()
            );
            println!(
                "connect with: outfit profile set default --gateway {} --ca {} --cert {} --key {}",
                if url.is_empty() { "https://HOST:PORT".to_owned() } else { url.trim().to_owned() },
                gateway.home.ca_cert().display(),
                cert.display(),
                key.display()
            );
        }
        Cmd::Model { command: ModelCmd::Import { dir, file } } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let imported = services
                .import_model(&caller, &file)
                .with_context(|| format!("failed to import {}", file.display()))?;
            let what = if imported.created { "new version" } else { "unchanged; current version" };
            println!("model {}: {what} {}", file.display(), imported.version);
        }
        Cmd::Device { command } => device_command(command)?,
        Cmd::Operator { command } => operator_command(command)?,
        Cmd::Group { command: GroupCmd::Add { dir, name } } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let new = services.add_group(&caller, &name)?;
            println!("group {name}: {}", if new { "added" } else { "exists already" });
        }
        Cmd::Group { command: GroupCmd::Join { dir, name, operator } } => {
            let (_, services, caller) = local::open(dir.dir)?;
            services
                .join_group(&caller, &name, &operator)
                .with_context(|| format!("failed to add `{operator}` to `{name}`"))?;
            println!("operator {operator} is a member of group {name}");
        }
        Cmd::Group { command: GroupCmd::Grant { dir, name, right } } => grant(dir, Holder::Group(&name), right)?,
        Cmd::Audit { dir, limit } => {
            let (_, services, caller) = local::open(dir.dir)?;
            for e in services.audit_log(&caller, limit)? {
                println!(
                    "{} {} {} {} {} {} from {}: {}",
                    e.created_at,
                    e.principal,
                    e.outcome.as_str(),
                    e.action,
                    e.site.as_deref().unwrap_or("-"),
                    e.object,
                    e.peer,
                    e.detail
                );
            }
        }
        Cmd::Provision { dir, devices, expiry } => {
            let (_, services, caller) = local::open(dir.dir)?;
            for name in devices {
                let queued = services
                    .provision(&caller, None, &name, expiry.deadline())
                    .with_context(|| format!("failed to provision `{name}`"))?;
                println!("{name}: queued {} commands", queued.commands);
                local::report_poke(&name, &queued.poked);
            }
        }
        Cmd::Queue { command } => queue_command(command)?,
        Cmd::Script { command } => script_command(command)?,
        Cmd::Plugin { command } => plugin_command(command)?,
        Cmd::Status { dir } => {
            let (gateway, services, caller) = local::open(dir.dir)?;
            println!(
                "{:<16} {:<9} {:>7} {:>5} {:>9} {:>6} {:>8} {:>9} {:>6}  applied/desired",
                "device", "queue", "pending", "sent", "succeeded", "failed", "timedout", "rebooting", "closed"
            );
            let version = |v: Option<outfit_domain::ids::ModelVersionId>| v.map_or("-".to_owned(), |v| v.to_string());
            for s in services.status(&caller)? {
                let c = &s.counts;
                println!(
                    "{:<16} {:<9} {:>7} {:>5} {:>9} {:>6} {:>8} {:>9} {:>6}  {}/{}",
                    s.device.name,
                    c.state(),
                    c.pending,
                    c.sent,
                    c.succeeded,
                    c.failed,
                    c.timed_out,
                    c.rebooting,
                    c.closed,
                    version(s.device.applied),
                    version(s.device.desired)
                );
            }
            let deadline = gateway.settings.reboot_deadline_secs as i64 * 1000;
            for r in services.overdue_reboots(&caller, deadline)? {
                let minutes = (outfit_domain::now_ms() - r.since) / 60_000;
                println!("REBOOT OVERDUE: {} has not come back from command {} for {minutes} min", r.device, r.command);
            }
        }
        Cmd::Demo { dir } => outfit_gateway::demo::run(&dir).await?,
        Cmd::Bench { dir, agents, commands, database, concurrency } => {
            let config = outfit_gateway::bench::BenchConfig { agents, commands, database, concurrency };
            outfit_gateway::bench::run(&dir, config).await?
        }
    }
    Ok(())
}

fn device_command(command: DeviceCmd) -> Result<()> {
    match command {
        DeviceCmd::Add { dir, name, site, model } => {
            let (_, services, caller) = local::open(dir.dir)?;
            services
                .add_device(&caller, &site, &name, &model)
                .with_context(|| format!("failed to register `{name}`"))?;
            println!(
                "registered {name}; issue its enrolment token with `outfit-gateway device token {name} --site {site}`"
            );
        }
        DeviceCmd::Token { dir, name, site, address, expires_in } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let token = services
                .issue_token(&caller, &site, &name, &address, expires_in)
                .with_context(|| format!("failed to issue a token for `{name}` of site `{site}`"))?;
            println!("{token}");
        }
        DeviceCmd::Show { dir, name } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let (device, _, agent) =
                services.show_device(&caller, &name).with_context(|| format!("no device named `{name}`"))?;
            print!("{}", local::show_device(&device, &agent));
        }
        DeviceCmd::Revoke { dir, name } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let n = services.revoke_device(&caller, &name).with_context(|| format!("failed to revoke `{name}`"))?;
            println!("{name}: {n} certificates revoked; the agent must enrol again");
        }
        DeviceCmd::Requests { dir } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let waiting = services.enrolment_requests(&caller)?;
            if waiting.is_empty() {
                println!("no enrolment request waits");
            }
            for (r, certified) in waiting {
                let warning = if certified { " (the device holds a valid certificate already)" } else { "" };
                println!(
                    "{} site {} key {} from {} at {}{warning}",
                    r.device, r.site, r.key_sha256, r.peer, r.created_at
                );
            }
        }
        DeviceCmd::Approve { dir, name, key, address } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let (request, address) = services
                .approve_enrolment(&caller, &name, key.as_deref(), address.as_deref())
                .with_context(|| format!("failed to approve the enrolment of `{name}`"))?;
            let key = short_key(&request.key_sha256);
            println!(
                "{name}: enrolment approved (key {key}, certificate for {address}); the agent gets it when it next asks"
            );
        }
        DeviceCmd::Reject { dir, name, key } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let request = services
                .reject_enrolment(&caller, &name, key.as_deref())
                .with_context(|| format!("failed to reject the enrolment of `{name}`"))?;
            println!("{name}: enrolment request (key {}) rejected", short_key(&request.key_sha256));
        }
    }
    Ok(())
}

fn operator_command(command: OperatorCmd) -> Result<()> {
    match command {
        OperatorCmd::Add { dir, name } => {
            let password = match std::env::var("OUTFIT_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).context("failed to read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let (_, services, caller) = local::open(dir.dir)?;
            let new = services
                .save_operator(&caller, &name, &password)
                .context("failed to set the password; set OUTFIT_PASSWORD or pipe it on standard input")?;
            let done = if new { "added" } else { "password changed" };
            println!("operator {name}: {done}; grant rights with `outfit-gateway operator grant {name} --action …`");
        }
        OperatorCmd::Cert { dir, name, out, days } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let issued = services.issue_operator_certificate(&caller, &name, days)?;
            std::fs::create_dir_all(&out).with_context(|| format!("failed to create {}", out.display()))?;
            let (cert, key) = (out.join(format!("{name}.pem")), out.join(format!("{name}.key")));
            issued.write(&cert, &key)?;
            println!("operator {name}: certificate {} and key {} (valid {days} days)", cert.display(), key.display());
        }
        OperatorCmd::Revoke { dir, name } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let n = services
                .revoke_operator_certificates(&caller, &name)
                .with_context(|| format!("failed to revoke the certificates of `{name}`"))?;
            println!("operator {name}: {n} certificates revoked");
        }
        OperatorCmd::Grant { dir, name, right } => grant(dir, Holder::Operator(&name), right)?,
    }
    Ok(())
}

fn script_command(command: ScriptCmd) -> Result<()> {
    match command {
        ScriptCmd::Import { dir, file } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let imported = services
                .import_script(&caller, &file)
                .with_context(|| format!("failed to import {}", file.display()))?;
            let what = if imported.created { "new" } else { "replaced" };
            println!("script {}/{}: {what}, {} steps", imported.site, imported.name, imported.steps);
        }
        ScriptCmd::List { dir } => {
            let (_, services, caller) = local::open(dir.dir)?;
            println!("{:<16} {:<24} {:>5}  description", "site", "script", "steps");
            for s in services.scripts(&caller)? {
                println!("{:<16} {:<24} {:>5}  {}", s.site, s.name, s.steps, s.description);
            }
        }
        ScriptCmd::Run { dir, name, targets } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let queued = services
                .run_script(&caller, &targets.site, &name, &targets.targets(), targets.expiry.deadline())
                .with_context(|| format!("failed to run script `{name}`"))?;
            for q in queued {
                println!("{}: queued {} commands from script {name}", q.device, q.commands);
                local::report_poke(&q.device, &q.poked);
            }
        }
    }
    Ok(())
}

fn plugin_command(command: PluginCmd) -> Result<()> {
    match command {
        PluginCmd::Install { dir, bundle, targets } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let (packed, queued) = services
                .install_plugin(&caller, &targets.site, &bundle, &targets.targets(), targets.expiry.deadline())
                .with_context(|| format!("failed to queue the plug-in bundle {}", bundle.display()))?;
            println!("plug-in {} {} stored as {}", packed.name, packed.version, packed.sha256);
            local::report_queued(&queued, &format!("install-plugin {} {}", packed.name, packed.version));
        }
        PluginCmd::Rollback { dir, name, targets } => {
            let (_, services, caller) = local::open(dir.dir)?;
            let queued = services
                .rollback_plugin(&caller, &targets.site, &name, &targets.targets(), targets.expiry.deadline())
                .with_context(|| format!("failed to queue the rollback of plug-in `{name}`"))?;
            local::report_queued(&queued, &format!("rollback-plugin {name}"));
        }
    }
    Ok(())
}

fn queue_command(command: QueueCmd) -> Result<()> {
    let (dir, name) = match &command {
        QueueCmd::Show { dir, device }
        | QueueCmd::Retry { dir, device }
        | QueueCmd::Skip { dir, device }
        | QueueCmd::Reboot { dir, device, .. }
        | QueueCmd::Abort { dir, device } => (dir.dir.clone(), device.clone()),
    };
    let (_, services, caller) = local::open(dir)?;
    let failed = |action: &str| format!("failed to {action} the queue of `{name}`");
    match command {
        QueueCmd::Show { .. } => {
            let commands = services.queue(&caller, &name).with_context(|| failed("show"))?;
            println!("{:>4} {:>6} {:<10} {:<10} {:>8}  result", "seq", "id", "kind", "state", "attempts");
            for c in commands {
                let result = c.result.unwrap_or_default();
                let result = result.lines().next().unwrap_or("");
                println!(
                    "{:>4} {:>6} {:<10} {:<10} {:>8}  {result}",
                    c.sequence,
                    c.id.to_string(),
                    c.kind,
                    c.state.as_str(),
                    c.attempts
                );
            }
        }
        QueueCmd::Retry { .. } => {
            let resolved = services.retry(&caller, &name).with_context(|| failed("retry"))?;
            println!("{name}: command {} will run again", resolved.command);
            local::report_poke(&name, &resolved.poked);
        }
        QueueCmd::Skip { .. } => {
            let resolved = services.skip(&caller, &name).with_context(|| failed("skip in"))?;
            println!("{name}: command {} skipped; the device will not count as matching its model", resolved.command);
            local::report_poke(&name, &resolved.poked);
        }
        QueueCmd::Reboot { expiry, .. } => {
            let queued =
                services.reboot(&caller, &name, expiry.deadline()).with_context(|| failed("add a reboot to"))?;
            println!("{name}: reboot queued");
            local::report_poke(&name, &queued.poked);
        }
        QueueCmd::Abort { .. } => {
            let n = services.abort(&caller, &name).with_context(|| failed("abort"))?;
            println!("{name}: {n} commands aborted");
        }
    }
    Ok(())
}
