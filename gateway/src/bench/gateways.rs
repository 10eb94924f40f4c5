//! The gateway processes a bench runs: `outfit-gateway serve` on the bench
//! directory, and with `--peer-database` one more per URL, each on a copy of
//! that directory (same CA and certificates, the package repository shared
//! through a symbolic link) whose settings name another database server — a
//! node of the same Galera cluster. Simulated agents are spread over them.

use crate::home::Home;
use anyhow::{Context, Result, ensure};
use outfit_wsdl::transport::Endpoint;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A gateway process, killed when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) struct Gateways {
    servers: Vec<(Server, Endpoint)>,
}

impl Gateways {
    /// Starts the bench directory's gateway and one peer per URL in `peers`.
    pub(super) async fn start(dir: &Path, peers: &[String]) -> Result<Self> {
        let mut servers = vec![serve(dir).await?];
        for (i, database) in peers.iter().enumerate() {
            let peer = dir.join(format!("peer-{}", i + 1));
            copy_home(dir, &peer, database)?;
            servers.push(serve(&peer).await?);
        }
        Ok(Self { servers })
    }

    /// The agent endpoint simulated agent `i` talks to.
    pub(super) fn endpoint(&self, i: usize) -> Endpoint {
        self.servers[i % self.servers.len()].1.clone()
    }

    pub(super) fn pids(&self) -> Vec<u32> {
        self.servers.iter().map(|(server, _)| server.0.id()).collect()
    }

    pub(super) fn len(&self) -> usize {
        self.servers.len()
    }
}

/// Starts `outfit-gateway serve` on `dir` and waits for its URL.
async fn serve(dir: &Path) -> Result<(Server, Endpoint)> {
    let home = Home::new(dir);
    let server = Server(
        std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--dir"])
            .arg(dir)
            // Warnings only, unless the caller asks for more (e.g. `warn,outfit_app::rollouts=info`).
            .env("OUTFIT_LOG", std::env::var("OUTFIT_LOG").unwrap_or_else(|_| "warn".into()))
            .stderr(std::fs::File::create(dir.join("gateway.log"))?)
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(home.url_file()) {
            break url;
        }
        ensure!(Instant::now() < deadline, "the gateway did not start; see {}", dir.join("gateway.log").display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Ok((server, Endpoint::parse(&url)?.join(outfit_wsdl::GATEWAY_AGENT_PATH)))
}

/// A peer's directory: the settings (with `database` replaced), the CA and
/// the gateway's certificate copied; the repository linked.
fn copy_home(from: &Path, to: &Path, database: &str) -> Result<()> {
    let (source, home) = (Home::new(from), Home::new(to));
    std::fs::create_dir_all(to)?;
    for (a, b) in [
        (source.ca_cert(), home.ca_cert()),
        (source.ca_key(), home.ca_key()),
        (source.server_cert(), home.server_cert()),
        (source.server_key(), home.server_key()),
    ] {
        std::fs::copy(&a, &b).with_context(|| format!("copy {}", a.display()))?;
    }
    let repository: PathBuf = std::fs::canonicalize(source.repository())?;
    std::os::unix::fs::symlink(repository, home.repository())?;
    let mut settings = source.settings()?;
    settings.database = database.to_owned();
    std::fs::write(home.settings_path(), toml::to_string(&settings)?)?;
    Ok(())
}
