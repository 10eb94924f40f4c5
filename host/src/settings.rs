//! The agent's settings: its command line (and `OUTFIT_ENROL_TOKEN`).

use crate::reboot::RebootMode;
use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "outfit-agent", version, about = "Outfit agent: runs the gateway's commands on this device")]
pub struct Settings {
    /// Gateway base URL, e.g. https://gateway.example:8443. Several
    /// (comma-separated, or the option repeated) for failover: gateways that
    /// share one database, tried in turn when one does not answer.
    #[arg(long, required = true, value_delimiter = ',')]
    pub gateway: Vec<String>,
    /// The gateway's CA certificate (pinned: no other CA is trusted).
    #[arg(long)]
    pub ca: PathBuf,
    /// This device's registered name.
    #[arg(long)]
    pub device: String,
    /// Directory that stands for the device's `/` (like dpkg --root).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Agent state (package spool); defaults to ROOT/var/lib/outfit-agent
    /// (ROOT\\ProgramData\\Outfit\\agent on Windows).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The site this device belongs to (needed to enrol).
    #[arg(long)]
    pub site: Option<String>,
    /// One-time token from `outfit device token`, spent on the first
    /// start to get this device's certificate at once (its key is generated
    /// here). Without one the first start asks for an operator's approval
    /// (`outfit device approve`) and waits. Ignored once enrolled.
    #[arg(long, env = "OUTFIT_ENROL_TOKEN", hide_env_values = true)]
    pub enrol_token: Option<String>,
    /// Enrol (if not enrolled yet) and exit, without running the agent.
    #[arg(long)]
    pub enrol_only: bool,
    /// Seconds between asks while an enrolment request waits for approval.
    #[arg(long, default_value_t = 30)]
    pub approval_poll: u64,
    /// Renew the certificate when it expires within this many seconds.
    #[arg(long, default_value_t = 30 * 24 * 3600)]
    pub renew_before: u64,
    /// Address the poke listener binds; port 0 picks a free one.
    #[arg(long, default_value = "0.0.0.0:8444")]
    pub listen: String,
    /// Host name or address the gateway reaches the poke listener at (defaults to the listen address).
    #[arg(long)]
    pub advertise: Option<String>,
    /// How to carry out a reboot command. Default: `system` when managing `/`,
    /// `restart-agent` when managing another root directory.
    #[arg(long, value_enum)]
    pub reboot: Option<RebootMode>,
    /// Directory of signed plug-in bundles (one subdirectory each: plugin.wasm,
    /// manifest.toml, signature, and precompiled-TARGET.{cwasm,signature} for an
    /// agent built without the compiler); defaults to STATE/plugins.
    #[arg(long)]
    pub plugin_dir: Option<PathBuf>,
    /// File of trusted plug-in public keys (hex, one per line). A bundle whose
    /// signature does not verify under one of them is refused, never compiled.
    #[arg(long)]
    pub trusted_keys: Option<PathBuf>,
    /// Where plug-in code runs: `native` (Cranelift machine code) or `pulley`
    /// (wasmtime's interpreter, for CPUs Cranelift has no code generator for).
    #[arg(long, default_value = "native")]
    pub plugin_backend: crate::plugin::Backend,
    /// Seconds between polls when no poke arrives.
    #[arg(long, default_value_t = 300)]
    pub poll_interval: u64,
    /// Seconds between inventory reports (± 10 %); the agent also reports at
    /// its start, a second after a drain that changed the device, and when asked.
    #[arg(long, default_value_t = 6 * 3600)]
    pub inventory_interval: u64,
    /// Append the log to this file instead of writing it to stderr (a Windows
    /// service has no stderr).
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// `text` (the default) or `json`: one JSON object a line, with the
    /// span's fields (device, command) beside the event's, for log shippers.
    #[arg(long, value_enum, default_value = "text", env = "OUTFIT_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Run as a Windows service: started and stopped by the Service Control
    /// Manager (`sc create OutfitAgent binPath= "…\outfit-agent.exe
    /// --windows-service --log-file … ARGS"`, `sc start`/`sc stop OutfitAgent`).
    #[arg(long)]
    pub windows_service: bool,
}

/// How the agent writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
