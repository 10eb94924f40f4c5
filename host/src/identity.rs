//! The device's identity: its own private key and the certificate the
//! gateway signed for it at enrolment. The key is generated here and never
//! leaves the device; the one-time token is spent on the first start, later
//! starts reuse what is on disk.

use crate::client::{self, ClientError};
use outfit_wsdl::transport::Endpoint;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "this agent is not enrolled yet: issue a token with `outfit-gateway device token {device} --site SITE` \
         and start the agent with --site SITE --enrol-token TOKEN"
    )]
    NotEnrolled { device: String },
    #[error("--site is needed with --enrol-token (the site the token was issued for)")]
    NoSite,
    #[error("enrolment refused: {0}")]
    Refused(#[from] ClientError),
    #[error("generate the device key or its signing request: {0}")]
    Key(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Where the identity lives: `STATE/identity/{key,cert}.pem`.
#[derive(Debug, Clone)]
pub struct Files {
    dir: PathBuf,
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

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
        move |source| IdentityError::Io { path: path.display().to_string(), source }
    }

    /// Uses the identity on disk, or enrols with `token` to make one.
    pub async fn ensure(
        &self,
        ca: &Path,
        gateway: &Endpoint,
        device: &str,
        site: Option<&str>,
        token: Option<&str>,
    ) -> Result<(), IdentityError> {
        if self.cert().exists() && self.key().exists() {
            return Ok(());
        }
        let Some(token) = token else { return Err(IdentityError::NotEnrolled { device: device.to_owned() }) };
        let site = site.ok_or(IdentityError::NoSite)?;
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::CommonName, device);
        let csr = params.serialize_request(&key)?.pem()?;
        let certificate = client::enrol(ca, gateway, device, site, token, csr).await?;
        std::fs::create_dir_all(&self.dir).map_err(Self::io(&self.dir))?;
        write_private(&self.key(), key.serialize_pem()).map_err(Self::io(&self.key()))?;
        // Written last: its presence means the identity is complete.
        std::fs::write(self.cert(), certificate).map_err(Self::io(&self.cert()))?;
        tracing::info!(device, site, "enrolled: certificate received");
        Ok(())
    }
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
