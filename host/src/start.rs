//! Starting the agent from its settings: logging, enrolment, the plug-ins,
//! the poke listener, then the main loop.

use crate::agent::Agent;
use crate::client::GatewayClient;
use crate::execute::Executor;
use crate::plugin::CallContext;
use crate::plugin::set::{Loader, PluginSet};
use crate::plugin::signature::{self, TrustedKeys};
use crate::reboot::{Reboot, RebootMode};
use crate::settings::{LogFormat, Settings};
use anyhow::{Context, Result};
use outfit_wsdl::transport;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::prelude::*;

/// `target=level` directives from `OUTFIT_LOG` only (no span or regex
/// filters): the agent does without the regex engine a full `EnvFilter` brings.
pub fn start_logging(file: Option<&std::path::Path>, format: LogFormat) -> Result<()> {
    let default_filter = "warn,outfit_agent=info";
    let given = std::env::var("OUTFIT_LOG").ok();
    let filter: Targets = given.as_deref().unwrap_or(default_filter).parse().unwrap_or_else(|e| {
        eprintln!("warning: OUTFIT_LOG is not a list of TARGET=LEVEL directives ({e}); using `{default_filter}`");
        default_filter.parse().expect("the default filter parses")
    });
    let writer = match file {
        None => BoxMakeWriter::new(std::io::stderr),
        Some(path) => {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("open the log file {}", path.display()))?;
            BoxMakeWriter::new(std::sync::Mutex::new(log))
        }
    };
    let registry = tracing_subscriber::registry().with(filter);
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Text if file.is_some() => registry.with(layer.with_ansi(false)).init(),
        LogFormat::Text => registry.with(layer).init(),
        // The current span's fields (device, command) under `span`.
        LogFormat::Json => registry.with(layer.json().with_current_span(true).with_span_list(false)).init(),
    }
    Ok(())
}

/// Runs the agent until it fails or, as a service, until it is asked to stop.
pub fn serve(settings: Settings, stop: Option<crate::platform::Stop>) -> std::process::ExitCode {
    let logs_to_file = settings.log_file.is_some();
    // One thread: an agent serves one device, its blocking work (plug-ins,
    // inventory) goes to tokio's blocking pool, and a runtime with a worker
    // per core only adds threads to wake (and memory to keep).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("start the async runtime");
    let outcome = runtime.block_on(async move {
        let Some(stop) = stop else { return run(settings).await };
        tokio::select! {
            outcome = run(settings) => outcome,
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

async fn run(settings: Settings) -> Result<()> {
    let root = settings
        .root
        .canonicalize()
        .with_context(|| format!("device root {} does not exist", settings.root.display()))?;
    let state_dir = settings.state_dir.unwrap_or_else(|| crate::platform::default_state_dir(&root));
    let spool = state_dir.join("spool");
    std::fs::create_dir_all(&spool).with_context(|| format!("create {}", spool.display()))?;
    let gateways = Arc::new(crate::client::Gateways::parse(&settings.gateway)?);
    let identity = crate::identity::Files::new(&state_dir);
    let enrolment = crate::identity::Enrolment {
        ca: &settings.ca,
        gateways: &gateways,
        device: &settings.device,
        site: settings.site.as_deref(),
        token: settings.enrol_token.as_deref(),
        poll: Duration::from_secs(settings.approval_poll),
    };
    identity.ensure(&enrolment).await?;
    if settings.enrol_only {
        println!("{}: enrolled; identity in {}", settings.device, identity.cert().display());
        return Ok(());
    }
    let (cert, key) = (identity.cert(), identity.key());
    let me = transport::Identity { cert: &cert, key: &key };
    let tls = transport::client_config(&settings.ca, Some(me))?;
    // Machine code compiled at an earlier start is reused: a restart (after a
    // crash, a simulated reboot) skips Cranelift and most of its memory.
    let cache = crate::plugin::cache::CompileCache::new(state_dir.join("plugin-cache"));
    // Compiling leaves Cranelift's memory (tens of MB) held by the process
    // that compiled: a child does it, and exits.
    #[cfg(feature = "built-in-plugins")]
    let cache = match compiling_program() {
        Some(program) => cache.compiling_in(program),
        None => cache,
    };
    let probe = CallContext {
        device: settings.device.clone(),
        command: "describe".into(),
        root: root.clone(),
        spool: spool.clone(),
        repository: None,
    };
    let trusted = match &settings.trusted_keys {
        Some(path) => TrustedKeys::load(path)?,
        None => TrustedKeys::default(),
    };
    let bundle_dir = settings.plugin_dir.clone().unwrap_or_else(|| state_dir.join("plugins"));
    let loader = Loader { backend: settings.plugin_backend, cache, trusted, probe };
    let versions = state_dir.join("plugin-versions");
    let plugins = tokio::task::spawn_blocking(move || -> Result<PluginSet> {
        let mut own = Vec::new();
        #[cfg(feature = "built-in-plugins")]
        if loader.cache.compiles() {
            for &(wasm, manifest) in crate::plugin::BUILT_IN {
                own.push(loader.load(wasm, manifest, "built-in").map_err(anyhow::Error::msg)?);
            }
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
    let server = transport::server_config_live(listener_identity.clone(), transport::Clients::Required(&settings.ca))?;
    let client = GatewayClient::new(tls, gateways, settings.device);
    let managed = crate::inventory::Managed::new(state_dir.join("managed"));
    let executor = Executor { plugins: Arc::new(plugins), root: root.clone(), spool, managed };
    let changes = state_dir.join("local-changes.jsonl");
    let access = Arc::new(crate::access::Access {
        client: client.clone(),
        executor: executor.clone(),
        changes: changes.clone(),
    });
    let bound = crate::poke::listen(&settings.listen, server, wake.clone(), access)
        .await
        .with_context(|| format!("listen for pokes on {}", settings.listen))?;
    let host = settings.advertise.clone().unwrap_or_else(|| bound.ip().to_string());
    let poke_url = Some(format!("https://{host}:{}{}", bound.port(), outfit_wsdl::AGENT_POKE_PATH));
    let agent = Agent {
        client,
        executor,
        journal: crate::journal::Journal::open(state_dir.join("journal"))?,
        reboot: Reboot::new(
            settings.reboot.unwrap_or(if root == std::path::Path::new("/") {
                RebootMode::System
            } else {
                RebootMode::RestartAgent
            }),
            &state_dir,
        ),
        poke_url,
        poll_interval: Duration::from_secs(settings.poll_interval),
        wake,
        renewal: crate::identity::Renewal {
            files: identity.clone(),
            ca: settings.ca.clone(),
            listener: listener_identity,
            before: Duration::from_secs(settings.renew_before),
        },
        plugins_changed: Default::default(),
        changes,
        inventory_interval: Duration::from_secs(settings.inventory_interval),
    };
    agent.run().await;
    Ok(())
}

/// The program that compiles plug-ins in a child process: the agent's own
/// binary if it has Cranelift, else `outfit-agent-compiler` beside it. With
/// neither the agent serves only signed precompiled bundles.
#[cfg(feature = "built-in-plugins")]
fn compiling_program() -> Option<std::path::PathBuf> {
    let own = match std::env::current_exe() {
        Ok(own) => own,
        Err(e) => {
            tracing::warn!(error = %e, "cannot name the agent's own binary to compile plug-ins in a child");
            return None;
        }
    };
    if cfg!(feature = "compiler") {
        return Some(own);
    }
    let helper =
        own.with_file_name(format!("{}{}", crate::plugin::cache::COMPILER_PROGRAM, std::env::consts::EXE_SUFFIX));
    if helper.is_file() {
        return Some(helper);
    }
    tracing::warn!(
        looked_for = %helper.display(),
        "no compiling program beside the agent: the built-in plug-ins are not served, only signed precompiled bundles"
    );
    None
}
