//! The gateway's use cases: one function per operator or agent action, each
//! taking the [`Caller`] who acts and doing the same steps — authorise (the
//! trust hierarchy, `outfit_domain::rights`) → domain → store → audit →
//! notify (poke the agents whose queues changed). Every way in (SOAP, the
//! `outfit-gateway` subcommands, later the console) calls these, so a right
//! checked here is checked everywhere and every state change is audited once.
//!
//! Code map: [`Services`] (what every use case works with), `failure`
//! (refusals apart from internal failures), `audit`, and one module per
//! aggregate of use cases: `models`, `devices`, `enrolment`, `provisioning`,
//! `queue`, `scripts`, `plugins`, `operators`, `versions`, `rollouts`, `driver` (the rollout driver),
//! `drift`, `agent` (the agent endpoint).
//! Helpers the use cases share: `model_file`, `script_file`, `plugin_bundle`
//! (files an operator hands over), `repository` (packages by sha256), `pki`
//! (the CA).
//!
//! **Boundary:** imports the domain and the store, never SOAP types (the
//! network contract's bundle format and certificate roles, which are not
//! messages, are the exception).

pub mod agent;
pub mod audit;
pub mod devices;
pub mod drift;
pub mod driver;
pub mod enrolment;
mod failure;
pub mod federation;
pub mod file_servers;
pub mod gauges;
pub mod model_file;
pub mod models;
pub mod operators;
pub mod packages;
pub mod pki;
pub mod plugin_bundle;
pub mod plugins;
pub mod provisioning;
pub mod queue;
pub mod repository;
pub mod rollouts;
pub mod script_file;
pub mod scripts;
pub mod sessions;
pub mod versions;

pub use failure::{Failure, Refusal, RefusalKind};
use outfit_store::Storage;
pub use outfit_store::{FleetGauges, ServerCounters, TableSize};
use repository::Repository;
use std::sync::Arc;

/// How a poke went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poked {
    /// Sent in the background; a failure only delays the work to the agent's next poll.
    Sent,
    /// It did not reach the agent (why); the agent will poll.
    Failed(String),
}

/// Tells agents there is work (the poke carries no command). The edge that
/// owns the network implements it.
pub trait Notify: Send + Sync + std::fmt::Debug {
    fn poke(&self, device: &str, url: &str) -> Poked;
}

/// A notifier that pokes nobody: agents find their work at their next poll.
#[derive(Debug, Default)]
pub struct NoPokes;

impl Notify for NoPokes {
    fn poke(&self, _device: &str, _url: &str) -> Poked {
        Poked::Failed("pokes are off".into())
    }
}

/// What the gateway's CA signs device certificates with.
#[derive(Debug, Clone)]
pub struct Ca {
    /// The CA key (PEM).
    pub key_pem: Arc<str>,
    /// Days a device certificate is valid.
    pub device_cert_days: u64,
}

/// Everything the use cases work with, for one gateway process.
#[derive(Debug, Clone)]
pub struct Services {
    storage: Storage,
    repository: Repository,
    ca: Ca,
    notify: Arc<dyn Notify>,
    /// Distinguishes this gateway process in the exchange log.
    instance: String,
    /// Which device each certificate seen so far was issued to.
    certified: Arc<agent::Certified>,
    /// The devices the rollout driver's next round looks at.
    reports: Arc<driver::Reports>,
    /// Which file servers serve which sites.
    file_server_directory: Arc<file_servers::Directory>,
}

impl Services {
    /// Opens the database at `url` (running pending migrations).
    pub fn open(
        url: &str,
        repository: Repository,
        ca: Ca,
        notify: Arc<dyn Notify>,
        instance: String,
    ) -> Result<Self, Failure> {
        let storage = Storage::open(url).map_err(Failure::internal)?;
        Ok(Self {
            storage,
            repository,
            ca,
            notify,
            instance,
            certified: Default::default(),
            reports: Default::default(),
            file_server_directory: Default::default(),
        })
    }

    /// How many database connections the pool holds: how many requests may
    /// usefully run at once.
    pub fn max_connections(&self) -> usize {
        self.storage.max_connections()
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// Pokes a device's agent if it has said where (its Hello's poke URL).
    fn poke(&self, device: &str, url: Option<&str>) -> Option<Poked> {
        url.map(|url| self.notify.poke(device, url))
    }

    /// MariaDB's counters, for the bench (None on SQLite).
    pub fn server_counters(&self) -> Result<Option<ServerCounters>, Failure> {
        self.storage.server_counters().map_err(Failure::internal)
    }

    /// Every table's rows and bytes, largest first, for the bench.
    pub fn table_sizes(&self) -> Result<Vec<TableSize>, Failure> {
        self.storage.table_sizes().map_err(Failure::internal)
    }

    /// What one durable commit costs alone (`rounds` one-row transactions on
    /// `device`'s row), for the bench.
    pub fn commit_floor(&self, device: &str, rounds: u32) -> Result<std::time::Duration, Failure> {
        let found = self.storage.device(device).map_err(Failure::internal)?;
        let device = found.ok_or_else(|| Refusal::not_found("device", device))?;
        self.storage.commit_floor(device.id, rounds).map_err(Failure::internal)
    }
}
