//! `outfit-gateway peer …`: the local administrator pairs this data centre
//! with another and reads how federation stands. Pairing is symmetric: each
//! side runs `peer add` (which issues the other a client certificate) and
//! then `peer trust` with what the other side issued it.

use crate::home::Home;
use crate::local;
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// `outfit-gateway peer …`.
#[derive(clap::Subcommand)]
pub enum PeerCmd {
    /// Share sites with peer data centre NAME: records it and writes the
    /// client certificate it will present here (with this CA) into --out.
    Add {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        /// The peer's operator listener, e.g. https://gw.dc-b.example:8445.
        #[arg(long)]
        url: String,
        /// A site to share (repeat). One homed here is created there; one the
        /// peer is home of is created here.
        #[arg(long = "site", required = true)]
        sites: Vec<String>,
        /// This data centre's name (set once, at the first peer).
        #[arg(long = "data-centre")]
        data_centre: String,
        /// Where to write cert.pem, key.pem and ca.pem for the peer's administrator.
        #[arg(long)]
        out: PathBuf,
    },
    /// Install what peer NAME issued this data centre (its `peer add --out`).
    Trust {
        #[command(flatten)]
        dir: DirArg,
        name: String,
        #[arg(long)]
        from: PathBuf,
    },
    /// This data centre's name, its peers, the log held of each origin, and
    /// each shared site's digest (equal on both sides when they agree).
    Status {
        #[command(flatten)]
        dir: DirArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct DirArg {
    /// Gateway directory (created by `init`).
    #[arg(long, env = "OUTFIT_GATEWAY_DIR")]
    dir: PathBuf,
}

impl DirArg {
    pub fn path(&self) -> PathBuf {
        self.dir.clone()
    }
}

impl PeerCmd {
    /// Runs the command; returns what to print.
    pub fn run(self) -> anyhow::Result<String> {
        match self {
            Self::Add { dir, name, url, sites, data_centre, out } => {
                add(&dir.dir, &data_centre, &name, &url, &sites, &out)
            }
            Self::Trust { dir, name, from } => trust(&dir.dir, &name, &from),
            Self::Status { dir, json } => status(&dir.dir, json),
        }
    }
}

/// `peer add`: records peer `name` (its operator listener at `url`) sharing
/// `sites`, names this data centre `me`, and writes what the peer's
/// administrator needs into `out`: the certificate and key this data centre
/// issued the peer, and this data centre's CA.
pub fn add(dir: &Path, me: &str, name: &str, url: &str, sites: &[String], out: &Path) -> anyhow::Result<String> {
    let (gateway, services, caller) = local::open(dir.to_owned())?;
    let credentials = services.add_peer(&caller, me, name, url, sites)?;
    hand_over(&gateway.home, &credentials.issued, out)?;
    let operator_url = std::fs::read_to_string(gateway.home.operator_url_file()).unwrap_or_default();
    let operator_url = if operator_url.trim().is_empty() { "https://HOST:PORT".into() } else { operator_url };
    Ok(format!(
        "peer {name} added, sharing {}; its certificate {}\n\
         give {} to {name}'s administrator (it holds a private key), who runs:\n  \
         outfit-gateway peer add {me} --url {} --data-centre {name} --site … --out DIR\n  \
         outfit-gateway peer trust {me} --from {}\n\
         and run here, with the DIR they give you: outfit-gateway peer trust {name} --from DIR\n",
        sites.join(", "),
        credentials.fingerprint,
        out.display(),
        operator_url.trim(),
        out.display()
    ))
}

/// Writes what another server needs to present here into `out`: the
/// certificate and key this gateway's CA issued it (`cert.pem`, `key.pem`),
/// and the CA (`ca.pem`).
pub(crate) fn hand_over(home: &Home, issued: &outfit_app::pki::Issued, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {}", out.display()))?;
    issued.write(&out.join("cert.pem"), &out.join("key.pem"))?;
    std::fs::copy(home.ca_cert(), out.join("ca.pem"))
        .with_context(|| format!("failed to copy the CA certificate into {}", out.display()))?;
    Ok(())
}

/// `peer trust`: installs what peer `name` issued this data centre (from
/// its `peer add --out`) for the gateway to pull with.
pub fn trust(dir: &Path, name: &str, from: &Path) -> anyhow::Result<String> {
    let home = Home::new(dir);
    let target = home.peer_dir(name);
    std::fs::create_dir_all(&target).with_context(|| format!("failed to create {}", target.display()))?;
    for file in ["cert.pem", "key.pem", "ca.pem"] {
        let source = from.join(file);
        std::fs::copy(&source, target.join(file)).with_context(|| {
            format!("failed to copy {}; give the directory `peer add --out` wrote on {name}", source.display())
        })?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(target.join("key.pem"), std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(format!(
        "credentials from {name} installed in {}; running gateways pull from it within a second\n",
        target.display()
    ))
}

/// `peer status`: this data centre's name, each peer, what is held of each
/// origin's log, and per shared site the digest both sides compare.
pub fn status(dir: &Path, json: bool) -> anyhow::Result<String> {
    let (gateway, services, caller) = local::open(dir.to_owned())?;
    let me = services.data_centre()?;
    let peers = services.peers()?;
    let known = services.known_entries()?;
    let mut sites: Vec<String> = peers.iter().flat_map(|p| p.sites.iter().cloned()).collect();
    sites.sort();
    sites.dedup();
    let mut digests = Vec::with_capacity(sites.len());
    for site in &sites {
        let (digest, state) = services.site_digest(&caller, site)?;
        let pending = state.proposals.iter().filter(|p| p.state == "pending").count();
        let refused = state.proposals.iter().filter(|p| p.state == "refused").count();
        digests.push(serde_json::json!({
            "site": site,
            "home": state.home.clone().or_else(|| me.clone()),
            "digest": digest,
            "models": state.models.len(),
            "proposals": state.proposals.len(),
            "pending": pending,
            "refused": refused,
        }));
    }
    let peers_json: Vec<_> = peers
        .iter()
        .map(|p| {
            let trusted = gateway.home.peer_dir(&p.name).join("cert.pem").exists();
            serde_json::json!({ "name": p.name, "url": p.url, "sites": p.sites, "credentials": trusted })
        })
        .collect();
    let known_json: serde_json::Map<String, serde_json::Value> =
        known.iter().map(|(origin, seq)| (origin.clone(), (*seq).into())).collect();
    let all = serde_json::json!({ "dataCentre": me, "peers": peers_json, "known": known_json, "sites": digests });
    if json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&all)?));
    }
    let mut text = format!("data centre: {}\n", me.as_deref().unwrap_or("(no name; not federated)"));
    for p in &peers_json {
        let credentials = if p["credentials"] == true { "credentials installed" } else { "no credentials yet" };
        text.push_str(&format!("peer {} at {} sharing {} ({credentials})\n", p["name"], p["url"], p["sites"]));
    }
    for (origin, seq) in &known {
        text.push_str(&format!("log of {origin}: up to #{seq}\n"));
    }
    for d in &digests {
        text.push_str(&format!(
            "site {} (home {}): digest {}, {} models, {} proposals ({} pending, {} refused)\n",
            d["site"], d["home"], d["digest"], d["models"], d["proposals"], d["pending"], d["refused"]
        ));
    }
    Ok(text.replace('"', ""))
}
