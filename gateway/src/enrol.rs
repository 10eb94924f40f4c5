//! Device registration: the database row plus the files an agent needs to
//! start — the gateway CA to pin, and a certificate for its poke listener.
//! (One-time-token enrolment with agent-generated keys replaces the key
//! hand-over with the trust work.)

use crate::home::{Home, HomeError};
use crate::pki::{self, PkiError};
use crate::storage::{DeviceRow, Storage, StorageError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Where an agent's credentials are written.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub dir: PathBuf,
}

impl Credentials {
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn poke_cert(&self) -> PathBuf {
        self.dir.join("poke.pem")
    }
    pub fn poke_key(&self) -> PathBuf {
        self.dir.join("poke.key")
    }
}

/// Registers `name` and writes its agent credentials into `out`.
pub fn register(
    home: &Home,
    storage: &Storage,
    site: &str,
    model: &str,
    name: &str,
    address: &str,
    out: &Path,
) -> Result<(DeviceRow, Credentials), EnrolError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| EnrolError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let credentials = Credentials { dir: out.to_owned() };
    let leaf = pki::issue_leaf(&home.ca_key_pem()?, name, &[address.to_owned()], true)?;
    let device = storage.add_device(site, name, model)?;
    std::fs::copy(home.ca_cert(), credentials.ca()).map_err(io(&credentials.ca()))?;
    leaf.write(&credentials.poke_cert(), &credentials.poke_key())?;
    Ok((device, credentials))
}
