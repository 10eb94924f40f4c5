//! Runs one command from the gateway: library components first (fetch and
//! verify a package), then the OS plug-in. Always ends in an outcome and a
//! message for the operator; nothing here can take the agent down.

use crate::client::GatewayClient;
use crate::library;
use crate::plugin::{CallContext, ConfigFile, PackageFile, Parameter, Plugin};
use outfit_wsdl::messages::{Command, CommandKind, Outcome};
use std::path::PathBuf;
use std::sync::Arc;

/// A loaded plug-in and the package formats it said it installs.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plugin: Arc<Plugin>,
    pub formats: Vec<String>,
}

/// What the agent needs to execute commands for its device.
#[derive(Debug, Clone)]
pub struct Executor {
    /// The first plug-in also writes configuration files (the OS plug-in).
    pub plugins: Vec<Loaded>,
    /// Plug-in bundles refused at start, with why: a command that would have
    /// needed one says so in its result, so the gateway learns the reason.
    pub refused: Vec<String>,
    pub root: PathBuf,
    pub spool: PathBuf,
}

/// How running a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// The command ran to an outcome the gateway must hear about.
    Done(Outcome, String),
    /// Something outside the device was unreachable (the repository, mid
    /// download); nothing was changed, and the command should run again later
    /// rather than fail and halt the queue.
    Unavailable(String),
}

/// A failure of the command itself, or a transient one.
enum Stop {
    Failed(String),
    Unavailable(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

impl Executor {
    /// The plug-in that installs packages of `format`.
    fn installer(&self, format: &str) -> Result<Arc<Plugin>, String> {
        self.plugins.iter().find(|l| l.formats.iter().any(|f| f == format)).map(|l| l.plugin.clone()).ok_or_else(|| {
            let known: Vec<&str> = self.plugins.iter().flat_map(|l| l.formats.iter().map(String::as_str)).collect();
            let mut message = format!(
                "no plug-in installs `{format}` packages (this agent's plug-ins install: {})",
                known.join(", ")
            );
            if !self.refused.is_empty() {
                message.push_str(&format!("; refused plug-ins: {}", self.refused.join("; ")));
            }
            message
        })
    }

    pub async fn execute(&self, gateway: &GatewayClient, command: &Command) -> Execution {
        let span = tracing::info_span!("command", device = %gateway.device, command = %command.id);
        let _entered = span.enter();
        match self.run(gateway, command).await {
            Ok(message) => {
                tracing::info!(%message, "command succeeded");
                Execution::Done(Outcome::Succeeded, message)
            }
            Err(Stop::Failed(message)) => {
                tracing::warn!(%message, "command failed");
                Execution::Done(Outcome::Failed, message)
            }
            Err(Stop::Unavailable(message)) => {
                tracing::warn!(%message, "command could not run now; it will be retried");
                Execution::Unavailable(message)
            }
        }
    }

    async fn run(&self, gateway: &GatewayClient, command: &Command) -> Result<String, Stop> {
        command.validate().map_err(|field| format!("command {} lacks `{field}`", command.id))?;
        let ctx = CallContext {
            device: gateway.device.clone(),
            command: command.id.clone(),
            root: self.root.clone(),
            spool: self.spool.clone(),
        };
        match command.kind.expect("validated") {
            CommandKind::Install => {
                let package = command.install.as_ref().expect("validated");
                // Chosen before anything is downloaded: a format no plug-in
                // installs fails at once.
                let plugin = self.installer(&package.format)?;
                let name = plugin.name().to_owned();
                let path =
                    library::fetch(&gateway.tls(), &gateway.endpoint, package, &self.spool).await.map_err(|e| {
                        if e.is_transient() { Stop::Unavailable(e.to_string()) } else { Stop::Failed(e.to_string()) }
                    })?;
                let file = PackageFile {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    format: package.format.clone(),
                    path: path.display().to_string(),
                };
                let outcome = tokio::task::spawn_blocking(move || plugin.install(&ctx, &file)).await;
                Ok(flatten(&name, "install", outcome)?)
            }
            CommandKind::Configure => {
                let config = command.configure.as_ref().expect("validated");
                let plugin = self.plugins.first().ok_or_else(|| "no plug-in is loaded".to_owned())?.plugin.clone();
                let name = plugin.name().to_owned();
                let template = config.template_text().map_err(|e| format!("configure {}: {e}", config.path))?;
                let file = ConfigFile {
                    path: config.path.clone(),
                    template,
                    parameters: config
                        .parameters
                        .iter()
                        .map(|p| Parameter { name: p.name.clone(), value: p.value.clone() })
                        .collect(),
                };
                let outcome = tokio::task::spawn_blocking(move || plugin.configure(&ctx, &file)).await;
                Ok(flatten(&name, "configure", outcome)?)
            }
            CommandKind::Reboot => Err(Stop::Failed("a reboot is carried out by the agent, not a plug-in".into())),
        }
    }
}

/// Folds a join error, a trap and the plug-in's own error into one message.
fn flatten(
    plugin: &str,
    operation: &str,
    outcome: Result<Result<Result<String, String>, crate::plugin::PluginError>, tokio::task::JoinError>,
) -> Result<String, String> {
    match outcome {
        Ok(Ok(Ok(message))) => Ok(message),
        Ok(Ok(Err(message))) => Err(format!("plugin {plugin}: {operation} failed: {message}")),
        Ok(Err(trap)) => Err(trap.to_string()),
        Err(join) => Err(format!("plugin {plugin}: {operation} crashed the worker: {join}")),
    }
}
