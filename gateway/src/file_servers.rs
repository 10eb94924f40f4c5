//! `outfit-gateway file-server …`: the local administrator adds a file
//! server (a package repository near the devices of some sites) and lists
//! them. `add` issues the file server's certificate and writes everything
//! `outfit-fileserver` needs into one directory.

use crate::local;
use crate::peers::DirArg;
use std::path::PathBuf;

/// `outfit-gateway file-server …`.
#[derive(clap::Subcommand)]
pub enum FileServerCmd {
    /// Add file server NAME, which devices reach at --url, serving the
    /// devices of each --site; write its certificate, key, this CA and this
    /// gateway's operator URL into --out (give that to the file server).
    Add {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        /// Its base URL as devices reach it, e.g. https://fs1.dc-a.example:8446
        /// (the certificate is issued for this host).
        #[arg(long)]
        url: String,
        /// A site whose devices download from it (repeat).
        #[arg(long = "site", required = true)]
        sites: Vec<String>,
        /// Where to write cert.pem, key.pem, ca.pem and gateway.url.
        #[arg(long)]
        out: PathBuf,
    },
    /// Remove file server NAME: its certificate stops working at once, and its
    /// devices download from the gateways again (within seconds).
    Remove {
        #[command(flatten)]
        dir: DirArg,
        name: String,
    },
    /// The file servers and the sites each serves.
    List {
        #[command(flatten)]
        dir: DirArg,
        #[arg(long)]
        json: bool,
    },
}

impl FileServerCmd {
    /// Runs the command; returns what to print.
    pub fn run(self) -> anyhow::Result<String> {
        match self {
            Self::Add { dir, name, url, sites, out } => {
                let (gateway, services, caller) = local::open(dir.path())?;
                // The file server calls the operator listener: its URL first.
                let operator_url = std::fs::read_to_string(gateway.home.operator_url_file()).unwrap_or_default();
                let operator_url = operator_url.trim();
                if operator_url.is_empty() {
                    anyhow::bail!(
                        "this gateway has not served yet, so its operator URL is unknown: run `outfit-gateway serve` once, then add the file server"
                    );
                }
                let credentials = services.add_file_server(&caller, &name, &url, &sites)?;
                crate::peers::hand_over(&gateway.home, &credentials.issued, &out)?;
                std::fs::write(out.join("gateway.url"), format!("{operator_url}\n"))?;
                Ok(format!(
                    "file server {name} added at {url}, serving {}; its certificate {}\n\
                     give {} to its host (it holds a private key) and run there:\n  \
                     outfit-fileserver --dir {} --listen ADDRESS:PORT\n\
                     devices of those sites download from it from their next command on\n",
                    sites.join(", "),
                    credentials.fingerprint,
                    out.display(),
                    out.display()
                ))
            }
            Self::Remove { dir, name } => {
                let (_, services, caller) = local::open(dir.path())?;
                services.remove_file_server(&caller, &name)?;
                Ok(format!("file server {name} removed; its devices download from the gateways again\n"))
            }
            Self::List { dir, json } => {
                let (_, services, _) = local::open(dir.path())?;
                let servers = services.file_servers()?;
                if json {
                    return Ok(format!("{}\n", serde_json::to_string_pretty(&servers)?));
                }
                if servers.is_empty() {
                    return Ok("no file servers: devices download from the gateways\n".into());
                }
                Ok(servers
                    .iter()
                    .map(|f| format!("{} at {} serving {}\n", f.name, f.url, f.sites.join(", ")))
                    .collect())
            }
        }
    }
}
