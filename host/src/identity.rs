//! The device's identity: its own private key and the certificate the
//! gateway signed for it. The key is generated here and never leaves the
//! device. Enrolment asks for an operator's approval by default (the agent
//! asks again with the same key until it is decided), or spends a one-time
//! token for a certificate at once; later starts reuse what is on disk. Before
//! the certificate expires the agent renews it for a new key.

use crate::client::{self, ClientError, GatewayClient};
use outfit_wsdl::identity::Facts;
use outfit_wsdl::transport::{self, Identity, LiveIdentity};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "this agent is not enrolled yet: start it with --site SITE (the site the device is registered in) to ask \
         for approval (`outfit device approve {device}`), or also with --enrol-token TOKEN from \
         `outfit device token {device} --site SITE` to enrol at once"
    )]
    NoSite { device: String },
    #[error("enrolment refused: {0}")]
    Refused(#[source] ClientError),
    #[error("renewal refused: {0}")]
    Renewal(#[source] ClientError),
    #[error("the gateway answered Enrol with neither a certificate nor a reason to wait")]
    EmptyAnswer,
    #[error("generate the device key or its signing request: {0}")]
    Key(#[from] rcgen::Error),
    #[error("{0}")]
    Certificate(String),
    #[error(transparent)]
    Transport(#[from] transport::TransportError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Where the identity lives: `STATE/identity/{key,cert}.pem`, plus the key
/// of a request waiting for approval and, during a renewal, `*.next`.
#[derive(Debug, Clone)]
pub struct Files {
    dir: PathBuf,
}

/// How enrolment goes when the device has no identity yet.
#[derive(Debug, Clone)]
pub struct Enrolment<'a> {
    pub ca: &'a Path,
    pub gateways: &'a crate::client::Gateways,
    pub device: &'a str,
    pub site: Option<&'a str>,
    /// The fast path; without it the request waits for approval.
    pub token: Option<&'a str>,
    /// How often to ask again while the request waits.
    pub poll: Duration,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io { path: path.display().to_string(), source }
}

/// sha256 of a key's SubjectPublicKeyInfo, hex: the line an operator
/// compares with `outfit device requests` before approving.
pub fn key_fingerprint(key: &rcgen::KeyPair) -> String {
    use rcgen::PublicKeyData;
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.subject_public_key_info()))
}

fn signing_request(device: &str, key: &rcgen::KeyPair) -> Result<String, IdentityError> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, device);
    Ok(params.serialize_request(key)?.pem()?)
}

impl Files {
    pub fn new(state_dir: &Path) -> Self {
        Self { dir: state_dir.join("identity") }
    }

    pub fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// The key of an enrolment request that waits for approval: kept so the
    /// agent asks again for the same key after a restart.
    fn pending_key(&self) -> PathBuf {
        self.dir.join("pending-key.pem")
    }

    fn next(path: &Path) -> PathBuf {
        path.with_extension("pem.next")
    }

    pub fn identity(&self) -> (PathBuf, PathBuf) {
        (self.cert(), self.key())
    }

    /// Uses the identity on disk (finishing a renewal a crash interrupted),
    /// or enrols to make one.
    pub async fn ensure(&self, how: &Enrolment<'_>) -> Result<(), IdentityError> {
        self.finish_switch()?;
        if self.cert().exists() && self.key().exists() {
            return Ok(());
        }
        let site = how.site.ok_or_else(|| IdentityError::NoSite { device: how.device.to_owned() })?;
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let (key, key_file) = match how.token {
            Some(_) => (rcgen::KeyPair::generate()?, None),
            None => (self.load_or_create(&self.pending_key())?, Some(self.pending_key())),
        };
        let csr = signing_request(how.device, &key)?;
        let mut told = false;
        let certificate = loop {
            let answer = match client::enrol(how.ca, how.gateways, how.device, site, how.token, csr.clone()).await {
                Ok(answer) => answer,
                // A request waiting for approval outlives a gateway outage.
                Err(ClientError::Transport(e)) if how.token.is_none() => {
                    tracing::warn!(error = %e, "could not reach the gateway to enrol; asking again in {:?}", how.poll);
                    tokio::time::sleep(how.poll).await;
                    continue;
                }
                Err(e) => return Err(IdentityError::Refused(e)),
            };
            match (answer.certificate, answer.waiting) {
                (Some(certificate), _) => break certificate,
                (None, Some(waiting)) => {
                    if !told {
                        let key = key_fingerprint(&key);
                        tracing::warn!(%key, "{waiting}; asking again every {:?}", how.poll);
                        eprintln!("{}: {waiting}; this agent's key is {key}", how.device);
                        told = true;
                    }
                    tokio::time::sleep(how.poll).await;
                }
                (None, None) => return Err(IdentityError::EmptyAnswer),
            }
        };
        write_private(&self.key(), key.serialize_pem()).map_err(io(&self.key()))?;
        // Written last: its presence means the identity is complete.
        std::fs::write(self.cert(), certificate).map_err(io(&self.cert()))?;
        if let Some(pending) = key_file {
            let _ = std::fs::remove_file(pending);
        }
        tracing::info!(device = how.device, site, "enrolled: certificate received");
        Ok(())
    }

    fn load_or_create(&self, path: &Path) -> Result<rcgen::KeyPair, IdentityError> {
        if let Ok(pem) = std::fs::read_to_string(path) {
            return Ok(rcgen::KeyPair::from_pem(&pem)?);
        }
        let key = rcgen::KeyPair::generate()?;
        write_private(path, key.serialize_pem()).map_err(io(path))?;
        Ok(key)
    }

    /// Seconds until the certificate expires (negative once it has).
    pub fn remaining(&self) -> Result<i64, IdentityError> {
        let facts = Facts::read_pem_file(&self.cert()).map_err(IdentityError::Certificate)?;
        Ok(facts.not_after - now_secs())
    }

    /// Renews the certificate if it expires within `before`: a new key, a
    /// signing request sent with the current certificate, and a switch to
    /// the new pair that survives a crash at any point. Returns whether it
    /// renewed.
    pub async fn renew_if_due(&self, client: &GatewayClient, before: Duration) -> Result<bool, IdentityError> {
        let remaining = self.remaining()?;
        if remaining > before.as_secs() as i64 {
            return Ok(false);
        }
        tracing::info!(remaining_secs = remaining, "certificate expires soon; renewing");
        let key = rcgen::KeyPair::generate()?;
        let certificate = client.renew(signing_request(&client.device, &key)?).await.map_err(IdentityError::Renewal)?;
        let (key_next, cert_next) = (Self::next(&self.key()), Self::next(&self.cert()));
        write_private(&key_next, key.serialize_pem()).map_err(io(&key_next))?;
        // cert.pem.next appearing whole is the commit point (see finish_switch).
        let partial = cert_next.with_extension("partial");
        std::fs::write(&partial, certificate).map_err(io(&partial))?;
        std::fs::rename(&partial, &cert_next).map_err(io(&cert_next))?;
        self.finish_switch()?;
        tracing::info!(key = %key_fingerprint(&key), "certificate renewed");
        Ok(true)
    }

    /// Completes a switch to a renewed pair: once `cert.pem.next` exists the
    /// new key is in `key.pem.next` or already in place, so both move
    /// forward; a `key.pem.next` alone is a renewal that never got its
    /// certificate, and is dropped.
    fn finish_switch(&self) -> Result<(), IdentityError> {
        let (key_next, cert_next) = (Self::next(&self.key()), Self::next(&self.cert()));
        if cert_next.exists() {
            if key_next.exists() {
                std::fs::rename(&key_next, self.key()).map_err(io(&key_next))?;
            }
            std::fs::rename(&cert_next, self.cert()).map_err(io(&cert_next))?;
        } else if key_next.exists() {
            std::fs::remove_file(&key_next).map_err(io(&key_next))?;
        }
        Ok(())
    }
}

/// Keeps the device's certificate fresh while the agent runs, and hands the
/// renewed one to the gateway client and the poke listener.
#[derive(Debug)]
pub struct Renewal {
    pub files: Files,
    pub ca: PathBuf,
    pub listener: Arc<LiveIdentity>,
    /// Renew when the certificate expires within this long.
    pub before: Duration,
}

impl Renewal {
    /// Renews if due; a failure is logged and tried again at the next check
    /// (the current certificate is still valid).
    pub async fn check(&self, client: &GatewayClient) {
        match self.files.renew_if_due(client, self.before).await {
            Ok(false) => {}
            Ok(true) => {
                if let Err(e) = self.switch(client) {
                    tracing::error!(error = %e, "could not load the renewed certificate");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not renew the certificate; trying again later"),
        }
    }

    fn switch(&self, client: &GatewayClient) -> Result<(), IdentityError> {
        let (cert, key) = self.files.identity();
        let me = Identity { cert: &cert, key: &key };
        client.set_tls(transport::client_config(&self.ca, Some(me))?);
        self.listener.replace(me)?;
        Ok(())
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Writes a file only root can read (a private key).
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_ref())
}
