//! Runs one command from the gateway: library components first (fetch and
//! verify a package), then the OS plug-in. Always ends in an outcome and a
//! message for the operator; nothing here can take the agent down.

use crate::client::GatewayClient;
use crate::library;
use crate::plugin::set::{Loaded, PluginSet};
use crate::plugin::{CallContext, ConfigFile, PackageFile, Parameter, Repository, v1};
use outfit_wsdl::messages::{Command, CommandKind, Outcome, PluginReport};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument;

/// What the agent needs to execute commands for its device.
#[derive(Debug, Clone)]
pub struct Executor {
    /// Each change goes to the plug-in that declares its kind ([`Executor::handler`]).
    /// Plug-ins refused at start are named in the result of a command that
    /// would have needed one, so the gateway learns the reason.
    pub plugins: Arc<PluginSet>,
    pub root: PathBuf,
    pub spool: PathBuf,
    /// What configure commands of the queue wrote, for the inventory.
    pub managed: crate::inventory::Managed,
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
    /// What `Hello` tells the gateway of the plug-ins serving now.
    pub fn plugin_report(&self) -> Vec<PluginReport> {
        self.plugins
            .current()
            .iter()
            .map(|l| PluginReport {
                name: l.plugin.name().to_owned(),
                version: l.version.clone(),
                world: l.plugin.manifest().world.clone(),
                formats: l.formats.clone(),
                changes: l.changes.clone(),
            })
            .collect()
    }

    /// The plug-in a command names (the model's choice), if it has one: it
    /// must be here and serve the command; no other plug-in stands in for it.
    fn pinned(&self, command: &Command, serves: impl Fn(&Loaded) -> bool) -> Option<Result<Loaded, String>> {
        let name = command.plugin.as_deref().filter(|n| !n.is_empty())?;
        let plugins = self.plugins.current();
        Some(match plugins.iter().find(|l| l.plugin.name() == name) {
            Some(loaded) if serves(loaded) => Ok(loaded.clone()),
            Some(loaded) => {
                Err(format!("the command names plug-in {name}, and {name} {} does not serve it", loaded.version))
            }
            None => Err(format!(
                "the command names plug-in {name}, which this agent does not have; deliver it with \
                 `outfit plugin install`"
            )),
        })
    }

    /// The plug-in that installs packages of `format`.
    fn installer(&self, format: &str) -> Result<Loaded, String> {
        let plugins = self.plugins.current();
        plugins.iter().find(|l| l.formats.iter().any(|f| f == format)).cloned().ok_or_else(|| {
            let known: Vec<&str> = plugins.iter().flat_map(|l| l.formats.iter().map(String::as_str)).collect();
            let mut message = format!(
                "no plug-in installs `{format}` packages (this agent's plug-ins install: {})",
                known.join(", ")
            );
            let refused = self.plugins.refused();
            if !refused.is_empty() {
                message.push_str(&format!("; refused plug-ins: {}", refused.join("; ")));
            }
            message
        })
    }

    /// The plug-in that handles changes of `kind` ("configure", "network",
    /// "service"): of those that can, the one built against the newest world
    /// (a delivered `files` plug-in on 1.1 serves configuration files before
    /// the built-in 0.1.0 OS plug-in), the first loaded among equals.
    fn handler(&self, kind: &str) -> Result<Loaded, String> {
        let plugins = self.plugins.current();
        let capable = plugins.iter().filter(|l| l.changes.iter().any(|c| c == kind));
        let newest = capable.rev().max_by_key(|l| crate::plugin::world_rank(&l.plugin.manifest().world));
        newest.cloned().ok_or_else(|| {
            let names: Vec<&str> = plugins.iter().map(|l| l.plugin.name()).collect();
            format!(
                "no plug-in of this agent handles `{kind}` changes (it has: {}); deliver one with `outfit plugin install`",
                names.join(", ")
            )
        })
    }

    /// Downloads and verifies a command's package into the spool.
    async fn fetch(&self, gateway: &GatewayClient, package: &outfit_wsdl::messages::Package) -> Result<PathBuf, Stop> {
        library::fetch(&gateway.tls(), gateway.endpoint(), package, &self.spool)
            .await
            .map_err(|e| if e.is_transient() { Stop::Unavailable(e.to_string()) } else { Stop::Failed(e.to_string()) })
    }

    pub async fn execute(&self, gateway: &GatewayClient, command: &Command) -> Execution {
        // Instrumented, not entered: an entered span held across an await
        // would label whatever else the thread runs meanwhile.
        let span = tracing::info_span!("command", device = %gateway.device, command = %command.id);
        async {
            // `result`, not `message`: that key is the event's own text in JSON logs.
            match self.run(gateway, command).await {
                Ok(result) => {
                    tracing::info!(%result, "command succeeded");
                    Execution::Done(Outcome::Succeeded, result)
                }
                Err(Stop::Failed(result)) => {
                    tracing::warn!(%result, "command failed");
                    Execution::Done(Outcome::Failed, result)
                }
                Err(Stop::Unavailable(result)) => {
                    tracing::warn!(%result, "command could not run now; it will be retried");
                    Execution::Unavailable(result)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// A plug-in's `fetch` (WIT 1.2): asks the gateway where the package is
    /// (it answers only for the device's model), then downloads and verifies
    /// it like a command's own package. Runs on the plug-in call's blocking
    /// thread, so it drives the client with the runtime's handle. A failure
    /// to reach the gateway is noted in `unreachable`.
    fn repository(&self, gateway: &GatewayClient, unreachable: Arc<AtomicBool>) -> Repository {
        let (gateway, spool, runtime) = (gateway.clone(), self.spool.clone(), tokio::runtime::Handle::current());
        Repository::new(move |name, version| {
            runtime.block_on(async {
                let package = gateway.locate_package(name, version).await.map_err(|e| {
                    if e.is_transient() {
                        unreachable.store(true, Ordering::SeqCst);
                    }
                    e.to_string()
                })?;
                let path = library::fetch(&gateway.tls(), gateway.endpoint(), &package, &spool).await.map_err(|e| {
                    if e.is_transient() {
                        unreachable.store(true, Ordering::SeqCst);
                    }
                    e.to_string()
                })?;
                Ok(PackageFile {
                    name: package.name,
                    version: package.version,
                    format: package.format,
                    path: path.display().to_string(),
                })
            })
        })
    }

    /// Runs a command; a failure after a plug-in could not reach the
    /// repository mid-change is transient like an unreachable download.
    async fn run(&self, gateway: &GatewayClient, command: &Command) -> Result<String, Stop> {
        let unreachable = Arc::new(AtomicBool::new(false));
        let repository = self.repository(gateway, unreachable.clone());
        match self.run_with(gateway, command, repository).await {
            Err(Stop::Failed(message)) if unreachable.load(Ordering::SeqCst) => Err(Stop::Unavailable(message)),
            done => done,
        }
    }

    async fn run_with(
        &self,
        gateway: &GatewayClient,
        command: &Command,
        repository: Repository,
    ) -> Result<String, Stop> {
        command.validate().map_err(|field| format!("command {} lacks `{field}`", command.id))?;
        let ctx = CallContext {
            device: gateway.device.clone(),
            command: command.id.clone(),
            root: self.root.clone(),
            spool: self.spool.clone(),
            repository: Some(repository),
        };
        match command.kind.expect("validated") {
            // An upgrade is an install of the new version: dpkg, rpm and
            // msiexec replace what is there.
            CommandKind::Install | CommandKind::Upgrade => {
                let package = command.install.as_ref().expect("validated");
                // Chosen before anything is downloaded: a format no plug-in
                // installs fails at once.
                let loaded = match self.pinned(command, |l| l.formats.contains(&package.format)) {
                    Some(pinned) => pinned?,
                    None => self.installer(&package.format)?,
                };
                let path = self.fetch(gateway, package).await?;
                let file = PackageFile {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    format: package.format.clone(),
                    path: path.display().to_string(),
                };
                let plugin = loaded.plugin.clone();
                let outcome = tokio::task::spawn_blocking(move || plugin.install(&ctx, &file)).await;
                Ok(flatten(&loaded, "install", outcome)?)
            }
            CommandKind::Remove => {
                let package = command.remove.as_ref().expect("validated");
                let serves =
                    |l: &Loaded| l.formats.contains(&package.format) && l.changes.iter().any(|c| c == "remove");
                let loaded = match self.pinned(command, serves) {
                    Some(pinned) => pinned?,
                    None => self.installer(&package.format)?,
                };
                let (plugin, name) = (loaded.plugin.clone(), package.name.clone());
                let outcome = tokio::task::spawn_blocking(move || plugin.remove(&ctx, &name)).await;
                Ok(flatten(&loaded, "remove", outcome)?)
            }
            CommandKind::Configure => {
                let config = command.configure.as_ref().expect("validated");
                let loaded = match self.pinned(command, |l| l.changes.iter().any(|c| c == "configure")) {
                    Some(pinned) => pinned?,
                    None => self.handler("configure")?,
                };
                let plugin = loaded.plugin.clone();
                let attributes = crate::plugin::FileAttributes {
                    mode: config.mode_bits().map_err(|e| format!("configure {}: {e}", config.path))?,
                    owner: config.owner.clone().filter(|o| !o.is_empty()),
                    group: config.group.clone().filter(|g| !g.is_empty()),
                };
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
                let outcome =
                    tokio::task::spawn_blocking(move || plugin.configure_with(&ctx, &file, &attributes)).await;
                let done = flatten(&loaded, "configure", outcome)?;
                // What the model wrote; a person's trial through the access
                // endpoint is not the model, and shows as drift.
                if !command.id.starts_with(crate::access::LOCAL_PREFIX) {
                    self.managed.record(&self.root, &config.component, &config.path);
                }
                Ok(done)
            }
            CommandKind::InstallPlugin => {
                let package = command.install.as_ref().expect("validated");
                let path = self.fetch(gateway, package).await?;
                let (plugins, name, version) = (self.plugins.clone(), package.name.clone(), package.version.clone());
                let switched = tokio::task::spawn_blocking(move || plugins.install(&path, &name, &version)).await;
                Ok(switched.map_err(|e| format!("install-plugin crashed the worker: {e}"))??)
            }
            CommandKind::Network => {
                let network = command.network.as_ref().expect("validated");
                let loaded = self.handler("network")?;
                let interface = v1::InterfaceConfig {
                    name: network.interface.clone(),
                    addressing: match &network.address {
                        None => v1::Addressing::Dhcp,
                        Some(address) => v1::Addressing::Fixed(v1::StaticAddress {
                            address: address.clone(),
                            gateway: network.gateway.clone(),
                            dns: network.dns.clone(),
                        }),
                    },
                };
                let plugin = loaded.plugin.clone();
                let outcome = tokio::task::spawn_blocking(move || plugin.network(&ctx, &interface)).await;
                Ok(flatten(&loaded, "network", outcome)?)
            }
            CommandKind::Service => {
                let service = command.service.as_ref().expect("validated");
                let action = match service.action.as_str() {
                    "start" => v1::ServiceAction::Start,
                    "stop" => v1::ServiceAction::Stop,
                    "restart" => v1::ServiceAction::Restart,
                    "enable" => v1::ServiceAction::Enable,
                    "disable" => v1::ServiceAction::Disable,
                    other => return Err(Stop::Failed(format!("`{other}` is not a service action"))),
                };
                let change = v1::ServiceChange { name: service.name.clone(), action };
                let loaded = self.handler("service")?;
                let plugin = loaded.plugin.clone();
                let outcome = tokio::task::spawn_blocking(move || plugin.service(&ctx, &change)).await;
                Ok(flatten(&loaded, "service", outcome)?)
            }
            CommandKind::RollbackPlugin => {
                let (plugins, name) = (self.plugins.clone(), command.plugin.clone().expect("validated"));
                let switched = tokio::task::spawn_blocking(move || plugins.rollback(&name)).await;
                Ok(switched.map_err(|e| format!("rollback-plugin crashed the worker: {e}"))??)
            }
            CommandKind::Reboot | CommandKind::Inventory => {
                Err(Stop::Failed("carried out by the agent, not a plug-in".into()))
            }
        }
    }
}

/// Folds a join error, a trap and the plug-in's own error into one message;
/// a success names the plug-in version that did the work.
fn flatten(
    loaded: &Loaded,
    operation: &str,
    outcome: Result<Result<Result<String, String>, crate::plugin::PluginError>, tokio::task::JoinError>,
) -> Result<String, String> {
    let plugin = loaded.plugin.name();
    match outcome {
        Ok(Ok(Ok(message))) => Ok(format!("{plugin} {}: {message}", loaded.version)),
        Ok(Ok(Err(message))) => Err(format!("plugin {plugin}: {operation} failed: {message}")),
        Ok(Err(trap)) => Err(trap.to_string()),
        Err(join) => Err(format!("plugin {plugin}: {operation} crashed the worker: {join}")),
    }
}
