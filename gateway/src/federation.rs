//! Federation's moving part: once a second this gateway pulls, from every
//! peer data centre it holds credentials for, the log entries it lacks,
//! fetches the packages they name that its repository does not hold (the
//! one transfer of each package to this data centre), and applies them.
//!
//! The credentials a peer issued this data centre (`outfit-gateway peer
//! trust`) live in `peers/NAME/` of the gateway directory: `cert.pem`,
//! `key.pem` and the peer's `ca.pem`.

use crate::home::Home;
use crate::soap::peer::entry;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use outfit_app::Services;
use outfit_app::repository::RepositoryError;
use outfit_domain::federation::{Body, Entry};
use outfit_wsdl::envelope::Answer;
use outfit_wsdl::peer::{Known, PeerRequest, PeerResponse, PullLog, decode_peer_response};
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How often each peer is asked for what it has new.
const PULL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A pull's answer may carry whole templates: more than an agent's cap.
const MAX_PULL_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("no credentials from peer {0} yet (`outfit-gateway peer trust {0} DIR`)")]
    NoCredentials(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("the peer answered with a fault: {0}")]
    Fault(String),
    #[error("the peer's answer is unusable: {0}")]
    Garbled(String),
    #[error("package {sha256} from the peer: HTTP {status}")]
    Package { sha256: String, status: u16 },
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    #[error("applying the entries: {0}")]
    Apply(String),
}

/// Pulls from every peer, forever.
#[derive(Debug)]
pub struct Federation {
    home: Home,
    services: Services,
    /// Each peer's TLS client, built from its credentials once.
    clients: Mutex<HashMap<String, Arc<rustls::ClientConfig>>>,
}

impl Federation {
    pub fn new(home: Home, services: Services) -> Self {
        Self { home, services, clients: Mutex::default() }
    }

    pub async fn pull_forever(self: Arc<Self>) {
        // What went wrong with each peer last, logged when it changes only.
        let mut last_error: HashMap<String, String> = HashMap::new();
        loop {
            tokio::time::sleep(PULL_EVERY).await;
            let services = self.services.clone();
            let peers = match tokio::task::spawn_blocking(move || services.peers()).await {
                Ok(Ok(peers)) => peers,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not read the peers");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading the peers panicked");
                    continue;
                }
            };
            for peer in peers {
                match self.pull(&peer).await {
                    Ok(changed) => {
                        if last_error.remove(&peer.name).is_some() {
                            tracing::info!(peer = %peer.name, "pulling from the peer works again");
                        }
                        if changed > 0 {
                            tracing::info!(peer = %peer.name, changed, "applied the peer's log entries");
                        }
                    }
                    Err(e) => {
                        let text = e.to_string();
                        if last_error.get(&peer.name) != Some(&text) {
                            tracing::warn!(peer = %peer.name, error = %text, "could not pull from the peer");
                            last_error.insert(peer.name.clone(), text);
                        }
                    }
                }
            }
        }
    }

    /// One pull from `peer`, page after page, until it has nothing more.
    async fn pull(&self, peer: &outfit_app::federation::PeerRow) -> Result<usize, PullError> {
        let tls = self.client(&peer.name)?;
        let base = Endpoint::parse(&peer.url)?;
        let endpoint = base.join(outfit_wsdl::PEER_PATH);
        let mut changed = 0;
        loop {
            let services = self.services.clone();
            let known = blocking(move || services.known_entries().map_err(|e| e.to_string())).await?;
            let known = known.into_iter().map(|(origin, seq)| Known { origin, seq }).collect();
            let envelope = PeerRequest::PullLog(PullLog { known }).encode();
            let reply = transport::soap_call_limited(&tls, &endpoint, "PullLog", envelope, MAX_PULL_BYTES).await?;
            let response = match decode_peer_response(&reply, "PullLog") {
                Ok(Answer::Ok(PeerResponse::PullLog(response))) => response,
                Ok(Answer::Fault(fault)) => return Err(PullError::Fault(fault.message)),
                Ok(Answer::Ok(_)) => return Err(PullError::Garbled("not a PullLogResponse".into())),
                Err(fault) => return Err(PullError::Garbled(fault.message)),
            };
            let mut entries =
                response.entry.into_iter().map(entry).collect::<Result<Vec<_>, _>>().map_err(PullError::Garbled)?;
            for e in &mut entries {
                self.packages_of(&tls, &base, e).await?;
            }
            let (services, name) = (self.services.clone(), peer.name.clone());
            let applied = blocking(move || services.apply_pulled(&name, &entries).map_err(|e| e.to_string())).await?;
            changed += applied;
            // A page of nothing this side takes (entries it refused) would
            // come back the same: ask again at the next round instead.
            if !response.more || applied == 0 {
                return Ok(changed);
            }
        }
    }

    /// Makes sure the repository holds every package `entry`'s content names
    /// (fetching what it lacks from the peer), and fills in their sizes.
    async fn packages_of(
        &self,
        tls: &Arc<rustls::ClientConfig>,
        peer: &Endpoint,
        entry: &mut Entry,
    ) -> Result<(), PullError> {
        let roles = match &mut entry.body {
            Body::Version { roles, .. } | Body::Proposal { roles, .. } => roles,
            Body::Decision { .. } => return Ok(()),
        };
        for component in roles.iter_mut().flat_map(|r| r.components.iter_mut()) {
            let package = &mut component.package;
            let stored = match self.services.repository().stored(&package.sha256)? {
                Some(stored) => stored,
                None => self.fetch(tls, peer, &package.sha256).await?,
            };
            (package.size, package.storage_key) = (stored.size, stored.sha256);
        }
        Ok(())
    }

    /// Streams package `sha256` from the peer into the repository, which
    /// checks the digest before keeping it.
    async fn fetch(
        &self,
        tls: &Arc<rustls::ClientConfig>,
        peer: &Endpoint,
        sha256: &str,
    ) -> Result<outfit_app::repository::Stored, PullError> {
        let endpoint = peer.join(&format!("{}{sha256}", outfit_wsdl::PEER_PACKAGES));
        let request = hyper::Request::get(endpoint.path.as_str())
            .header(hyper::header::HOST, endpoint.addr())
            .header(hyper::header::CONNECTION, "close")
            .body(Full::new(Bytes::new()))
            .expect("a request built from valid parts");
        let response = transport::send(tls, &endpoint, request).await?;
        if !response.status().is_success() {
            return Err(PullError::Package { sha256: sha256.to_owned(), status: response.status().as_u16() });
        }
        let mut upload = self.services.repository().begin()?;
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|source| TransportError::Http { addr: endpoint.addr(), source })?;
            if let Some(data) = frame.data_ref() {
                upload.write(data)?;
            }
        }
        let size = upload.size();
        let stored = upload.finish(Some(sha256), &format!("package {sha256} from {}", endpoint.addr()))?;
        tracing::info!(sha256, size, peer = %endpoint.addr(), "package fetched from the peer");
        Ok(stored)
    }

    /// The TLS client for `peer`: the certificate it issued this data centre,
    /// trusting only its CA.
    fn client(&self, peer: &str) -> Result<Arc<rustls::ClientConfig>, PullError> {
        if let Some(tls) = self.clients.lock().expect("never poisoned").get(peer) {
            return Ok(tls.clone());
        }
        let dir = self.home.peer_dir(peer);
        if !dir.join("cert.pem").exists() {
            return Err(PullError::NoCredentials(peer.to_owned()));
        }
        let me = transport::Identity { cert: &dir.join("cert.pem"), key: &dir.join("key.pem") };
        let tls = transport::client_config(&dir.join("ca.pem"), Some(me))?;
        self.clients.lock().expect("never poisoned").insert(peer.to_owned(), tls.clone());
        Ok(tls)
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, PullError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| PullError::Apply(e.to_string()))?.map_err(PullError::Apply)
}
