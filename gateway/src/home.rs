//! The gateway directory: where a gateway keeps its configuration, CA,
//! certificates and package repository, and how it is created (`init`).
//!
//! Layout: `gateway.toml`, `ca.pem`, `ca.key`, `server.pem`, `server.key`,
//! `repository/`, `gateway.sqlite` (embedded default) and, while serving,
//! `gateway.url` (the URL the listener is bound to).

use outfit_app::pki;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// `mysql://user@host:port/db` or a SQLite file path (relative to the directory).
    pub database: String,
    /// Address the HTTPS listener binds (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Address the operator services' HTTPS listener binds, apart from the
    /// agent endpoint (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_operator_listen")]
    pub operator_listen: String,
    /// Name the gateway gives itself in pokes and logs.
    pub name: String,
    /// Seconds a reboot may take before `status` flags it as overdue.
    #[serde(default = "default_reboot_deadline")]
    pub reboot_deadline_secs: u64,
    /// Seconds a handed-out command of each kind may go unanswered before it
    /// is marked `timedout` and its queue halts (a late result still counts).
    #[serde(default = "default_timeouts")]
    pub timeouts: BTreeMap<String, u64>,
    /// Days a device certificate is valid (agents renew before the end).
    #[serde(default = "default_device_cert_days")]
    pub device_cert_days: u64,
    /// Address of a plain-HTTP listener serving only `GET /metrics`, to
    /// whoever reaches it (off when absent): for a Prometheus that cannot
    /// present an operator certificate. Bind it to loopback or a monitoring
    /// network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<String>,
}

impl Settings {
    /// A gateway named `name` on `database`, listening on free local ports,
    /// with every other setting at its default (the demo and the bench).
    pub fn local(name: &str, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            listen: "127.0.0.1:0".into(),
            operator_listen: default_operator_listen(),
            name: name.to_owned(),
            reboot_deadline_secs: default_reboot_deadline(),
            timeouts: default_timeouts(),
            device_cert_days: default_device_cert_days(),
            metrics_listen: None,
        }
    }
}

fn default_device_cert_days() -> u64 {
    pki::DEVICE_CERT_DAYS
}

fn default_operator_listen() -> String {
    "127.0.0.1:0".into()
}

fn default_reboot_deadline() -> u64 {
    900
}

pub fn default_timeouts() -> BTreeMap<String, u64> {
    [("install", 1800), ("configure", 300), ("reboot", 600)].into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not valid gateway settings: {message}")]
    Settings { path: String, message: String },
    #[error("{0} already holds a gateway; pick another directory or remove it")]
    Exists(String),
    #[error("{0} holds no gateway; create one with `outfit-gateway init --dir {0}`")]
    Missing(String),
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
}

/// A gateway directory on disk.
#[derive(Debug, Clone)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn settings_path(&self) -> PathBuf {
        self.root.join("gateway.toml")
    }
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca.pem")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.root.join("ca.key")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.root.join("server.pem")
    }
    pub fn server_key(&self) -> PathBuf {
        self.root.join("server.key")
    }
    /// What peer data centre `name` issued this one: `cert.pem`, `key.pem`, `ca.pem`.
    pub fn peer_dir(&self, name: &str) -> PathBuf {
        self.root.join("peers").join(name)
    }

    pub fn repository(&self) -> PathBuf {
        self.root.join("repository")
    }
    pub fn url_file(&self) -> PathBuf {
        self.root.join("gateway.url")
    }
    /// Where `serve` writes the operator listener's base URL.
    pub fn operator_url_file(&self) -> PathBuf {
        self.root.join("operator.url")
    }

    /// Where `serve` writes the plain metrics address (with `metrics_listen`).
    pub fn metrics_url_file(&self) -> PathBuf {
        self.root.join("metrics.url")
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HomeError + '_ {
        move |source| HomeError::Io { path: path.display().to_string(), source }
    }

    /// Creates the directory, the CA and the server certificate for `names`.
    pub fn init(&self, settings: &Settings, names: &[String]) -> Result<(), HomeError> {
        if self.settings_path().exists() {
            return Err(HomeError::Exists(self.root.display().to_string()));
        }
        std::fs::create_dir_all(self.repository()).map_err(Self::io(&self.root))?;
        let ca = pki::create_ca()?;
        ca.write(&self.ca_cert(), &self.ca_key())?;
        pki::issue_gateway(&ca.key_pem, &settings.name, names)?.write(&self.server_cert(), &self.server_key())?;
        let text = toml::to_string(settings).expect("settings serialize");
        std::fs::write(self.settings_path(), text).map_err(Self::io(&self.settings_path()))
    }

    pub fn settings(&self) -> Result<Settings, HomeError> {
        let path = self.settings_path();
        if !path.exists() {
            return Err(HomeError::Missing(self.root.display().to_string()));
        }
        let text = std::fs::read_to_string(&path).map_err(Self::io(&path))?;
        toml::from_str(&text)
            .map_err(|e| HomeError::Settings { path: path.display().to_string(), message: e.to_string() })
    }

    /// The database URL with a relative SQLite path resolved against the directory.
    pub fn database_url(&self, settings: &Settings) -> String {
        if settings.database.contains("://") || Path::new(&settings.database).is_absolute() {
            settings.database.clone()
        } else {
            self.root.join(&settings.database).display().to_string()
        }
    }

    pub fn ca_key_pem(&self) -> Result<String, HomeError> {
        std::fs::read_to_string(self.ca_key()).map_err(Self::io(&self.ca_key()))
    }
}
