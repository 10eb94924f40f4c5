//! `outfit-agent`: parses the command line, loads the plug-in and runs the agent.

use anyhow::{Context, Result};
use clap::Parser;
use outfit_agent::agent::Agent;
use outfit_agent::client::GatewayClient;
use outfit_agent::execute::Executor;
use outfit_agent::plugin::CallContext;
use outfit_agent::plugin::set::{Loader, PluginSet};
use outfit_agent::plugin::signature::{self, TrustedKeys};
use outfit_agent::reboot::{Reboot, RebootMode};
use outfit_wsdl::transport::{self, Endpoint};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

#[derive(Parser)]
#[command(name = "outfit-agent", version, about = "Outfit agent: runs the gateway's commands on this device")]
struct Args {
    /// Gateway base URL, e.g. https://gateway.example:8443
    #[arg(long)]
    gateway: String,
    /// The gateway's CA certificate (pinned: no other CA is trusted).
    #[arg(long)]
    ca: PathBuf,
    /// This device's registered name.
    #[arg(long)]
    device: String,
    /// Directory that stands for the device's `/` (like dpkg --root).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Agent state (package spool); defaults to ROOT/var/lib/outfit-agent
    /// (ROOT\\ProgramData\\Outfit\\agent on Windows).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The site this device belongs to (needed to enrol).
    #[arg(long)]
    site: Option<String>,
    /// One-time token from `outfit device token`, spent on the first
    /// start to get this device's certificate at once (its key is generated
    /// here). Without one the first start asks for an operator's approval
    /// (`outfit device approve`) and waits. Ignored once enrolled.
    #[arg(long, env = "OUTFIT_ENROL_TOKEN", hide_env_values = true)]
    enrol_token: Option<String>,
    /// Enrol (if not enrolled yet) and exit, without running the agent.
    #[arg(long)]
    enrol_only: bool,
    /// Seconds between asks while an enrolment request waits for approval.
    #[arg(long, default_value_t = 30)]
    approval_poll: u64,
    /// Renew the certificate when it expires within this many seconds.
    #[arg(long, default_value_t = 30 * 24 * 3600)]
    renew_before: u64,
    /// Address the poke listener binds; port 0 picks a free one.
    #[arg(long, default_value = "0.0.0.0:8444")]
    listen: String,
    /// Host name or address the gateway reaches the poke listener at (defaults to the listen address).
    #[arg(long)]
    advertise: Option<String>,
    /// How to carry out a reboot command. Default: `system` when managing `/`,
    /// `restart-agent` when managing another root directory.
    #[arg(long, value_enum)]
    reboot: Option<RebootMode>,
    /// Directory of signed plug-in bundles (one subdirectory each: plugin.wasm,
    /// manifest.toml, signature, and precompiled-TARGET.{cwasm,signature} for an
    /// agent built without the compiler); defaults to STATE/plugins.
    #[arg(long)]
    plugin_dir: Option<PathBuf>,
    /// File of trusted plug-in public keys (hex, one per line). A bundle whose
    /// signature does not verify under one of them is refused, never compiled.
    #[arg(long)]
    trusted_keys: Option<PathBuf>,
    /// Where plug-in code runs: `native` (Cranelift machine code) or `pulley`
    /// (wasmtime's interpreter, for CPUs Cranelift has no code generator for).
    #[arg(long, default_value = "native")]
    plugin_backend: outfit_agent::plugin::Backend,
    /// Seconds between polls when no poke arrives.
    #[arg(long, default_value_t = 300)]
    poll_interval: u64,
    /// Append the log to this file instead of writing it to stderr (a Windows
    /// service has no stderr).
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// Run as a Windows service: started and stopped by the Service Control
    /// Manager (`sc create OutfitAgent binPath= "…\outfit-agent.exe
    /// --windows-service --log-file … ARGS"`, `sc start`/`sc stop OutfitAgent`).
    #[arg(long)]
    windows_service: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if let Err(e) = start_logging(args.log_file.as_deref()) {
        eprintln!("error: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    if args.windows_service {
        return outfit_agent::platform::run_as_service(move |stop| serve(args, Some(stop)));
    }
    serve(args, None)
}

/// `target=level` directives from `OUTFIT_LOG` only (no span or regex
/// filters): the agent does without the regex engine a full `EnvFilter` brings.
fn start_logging(file: Option<&std::path::Path>) -> Result<()> {
    let default_filter = "warn,outfit_agent=info";
    let given = std::env::var("OUTFIT_LOG").ok();
    let filter: Targets = given.as_deref().unwrap_or(default_filter).parse().unwrap_or_else(|e| {
        eprintln!("warning: OUTFIT_LOG is not a list of TARGET=LEVEL directives ({e}); using `{default_filter}`");
        default_filter.parse().expect("the default filter parses")
    });
    let registry = tracing_subscriber::registry().with(filter);
    match file {
        None => registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).init(),
        Some(path) => {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("open the log file {}", path.display()))?;
            let layer = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(log));
            registry.with(layer).init();
        }
    }
    Ok(())
}

/// Runs the agent until it fails or, as a service, until it is asked to stop.
fn serve(args: Args, stop: Option<outfit_agent::platform::Stop>) -> std::process::ExitCode {
    let logs_to_file = args.log_file.is_some();
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    let outcome = runtime.block_on(async move {
        let Some(stop) = stop else { return run(args).await };
        tokio::select! {
            outcome = run(args) => outcome,
            // Stopping mid-command is safe: the journal makes the next start
            // report or re-run it exactly as after a crash.
            _ = stop => {
                tracing::info!("the service manager asked the agent to stop");
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if logs_to_file {
                tracing::error!("{e:#}");
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let root =
        args.root.canonicalize().with_context(|| format!("device root {} does not exist", args.root.display()))?;
    let state_dir = args.state_dir.unwrap_or_else(|| outfit_agent::platform::default_state_dir(&root));
    let spool = state_dir.join("spool");
    std::fs::create_dir_all(&spool).with_context(|| format!("create {}", spool.display()))?;
    let endpoint = Endpoint::parse(&args.gateway)?;
    let identity = outfit_agent::identity::Files::new(&state_dir);
    let enrolment = outfit_agent::identity::Enrolment {
        ca: &args.ca,
        gateway: &endpoint,
        device: &args.device,
        site: args.site.as_deref(),
        token: args.enrol_token.as_deref(),
        poll: Duration::from_secs(args.approval_poll),
    };
    identity.ensure(&enrolment).await?;
    if args.enrol_only {
        println!("{}: enrolled; identity in {}", args.device, identity.cert().display());
        return Ok(());
    }
    let (cert, key) = (identity.cert(), identity.key());
    let me = transport::Identity { cert: &cert, key: &key };
    let tls = transport::client_config(&args.ca, Some(me))?;
    // Machine code compiled at an earlier start is reused: a restart (after a
    // crash, a simulated reboot) skips Cranelift and most of its memory.
    let cache = outfit_agent::plugin::cache::CompileCache::new(state_dir.join("plugin-cache"));
    let probe = CallContext {
        device: args.device.clone(),
        command: "describe".into(),
        root: root.clone(),
        spool: spool.clone(),
        repository: None,
    };
    let trusted = match &args.trusted_keys {
        Some(path) => TrustedKeys::load(path)?,
        None => TrustedKeys::default(),
    };
    let bundle_dir = args.plugin_dir.clone().unwrap_or_else(|| state_dir.join("plugins"));
    let loader = Loader { backend: args.plugin_backend, cache, trusted, probe };
    let versions = state_dir.join("plugin-versions");
    let plugins = tokio::task::spawn_blocking(move || -> Result<PluginSet> {
        let mut own = Vec::new();
        #[cfg(feature = "compiler")]
        for &(wasm, manifest) in outfit_agent::plugin::BUILT_IN {
            own.push(loader.load(wasm, manifest, "built-in").map_err(anyhow::Error::msg)?);
        }
        // Signed bundles: a refused one is reported, and the agent serves on without it.
        let mut refused = Vec::new();
        for bundle in signature::bundles(&bundle_dir)? {
            let verified = bundle.verify(&loader.trusted).map_err(|e| e.to_string());
            let origin = bundle.dir.display().to_string();
            match verified.and_then(|v| loader.load_verified(&v, &origin)) {
                Ok(loaded) => own.push(loaded),
                Err(e) => {
                    tracing::error!(bundle = %origin, error = %e, "plug-in refused");
                    refused.push(format!("{origin}: {e}"));
                }
            }
        }
        Ok(PluginSet::start(loader, own, refused, versions))
    })
    .await??;

    let wake = Arc::new(tokio::sync::Notify::new());
    // Pokes are accepted only from holders of a certificate of the pinned CA
    // (and `poke.rs` lets only the gateway's through).
    let listener_identity = transport::LiveIdentity::load(me)?;
    let server = transport::server_config_live(listener_identity.clone(), transport::Clients::Required(&args.ca))?;
    let client = GatewayClient::new(tls, endpoint, args.device);
    let executor = Executor { plugins: Arc::new(plugins), root: root.clone(), spool };
    let access = Arc::new(outfit_agent::access::Access {
        client: client.clone(),
        executor: executor.clone(),
        changes: state_dir.join("local-changes.jsonl"),
    });
    let bound = outfit_agent::poke::listen(&args.listen, server, wake.clone(), access)
        .await
        .with_context(|| format!("listen for pokes on {}", args.listen))?;
    let host = args.advertise.clone().unwrap_or_else(|| bound.ip().to_string());
    let poke_url = Some(format!("https://{host}:{}{}", bound.port(), outfit_wsdl::AGENT_POKE_PATH));
    let agent = Agent {
        client,
        executor,
        journal: outfit_agent::journal::Journal::open(state_dir.join("journal"))?,
        reboot: Reboot::new(
            args.reboot.unwrap_or(if root == std::path::Path::new("/") {
                RebootMode::System
            } else {
                RebootMode::RestartAgent
            }),
            &state_dir,
        ),
        poke_url,
        poll_interval: Duration::from_secs(args.poll_interval),
        wake,
        renewal: outfit_agent::identity::Renewal {
            files: identity.clone(),
            ca: args.ca.clone(),
            listener: listener_identity,
            before: Duration::from_secs(args.renew_before),
        },
        plugins_changed: Default::default(),
    };
    agent.run().await;
    Ok(())
}
