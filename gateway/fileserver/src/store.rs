//! The file server's own copies of packages, each named by its sha256. A
//! package it lacks is copied from a gateway once: concurrent downloads of
//! it wait for the one copy.
//!
//! **Invariant:** a file appears under its final name only after its bytes
//! hashed to that name; a failed or wrong copy leaves nothing behind.

use crate::gateway::Gateways;
use http_body_util::BodyExt;
use outfit_wsdl::transport::{self, TransportError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no gateway answered: {0}")]
    Unreachable(#[from] TransportError),
    #[error("the gateway would not release package {key}: HTTP {status}: {reason}")]
    NotReleased { key: String, status: u16, reason: String },
    #[error("copying package {key} from the gateway: {message}")]
    Stream { key: String, message: String },
    #[error("package {key} from the gateway hashed to {actual}; nothing was kept")]
    Digest { key: String, actual: String },
    #[error("store {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The verified copies, under one directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    gateways: Gateways,
    /// One lock per package being copied.
    copying: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Store {
    pub fn open(dir: PathBuf, gateways: Gateways) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.display().to_string(), source })?;
        Ok(Self { dir, gateways, copying: Mutex::default() })
    }

    /// The path of package `key` (a sha256), copied from a gateway first if
    /// this store lacks it.
    pub async fn ensure(&self, key: &str) -> Result<PathBuf, StoreError> {
        let path = self.dir.join(key);
        if path.exists() {
            return Ok(path);
        }
        let lock = self.copying.lock().unwrap_or_else(|e| e.into_inner()).entry(key.to_owned()).or_default().clone();
        let _copying = lock.lock().await;
        // Another download may have copied it while this one waited.
        let copied = if path.exists() { Ok(()) } else { self.copy(key, &path).await };
        self.copying.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        copied.map(|()| path)
    }

    async fn copy(&self, key: &str, path: &std::path::Path) -> Result<(), StoreError> {
        let response = self.gateways.get(&format!("{}{key}", outfit_wsdl::FILE_SERVER_PACKAGES)).await?;
        let status = response.status();
        if !status.is_success() {
            let reason = match transport::read_body(response.into_body(), 1024, "gateway").await {
                Ok(body) => String::from_utf8_lossy(&body).trim().to_owned(),
                Err(_) => "(no reason given)".into(),
            };
            return Err(StoreError::NotReleased { key: key.to_owned(), status: status.as_u16(), reason });
        }
        let io = |source| StoreError::Io { path: self.dir.display().to_string(), source };
        let mut staging = tempfile::NamedTempFile::new_in(&self.dir).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut body = response.into_body();
        let mut size = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| StoreError::Stream { key: key.to_owned(), message: e.to_string() })?;
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                size += data.len() as u64;
                staging.write_all(&data).map_err(io)?;
            }
        }
        let actual = hex::encode(hasher.finalize());
        if actual != key {
            return Err(StoreError::Digest { key: key.to_owned(), actual });
        }
        staging.persist(path).map_err(|e| io(e.error))?;
        tracing::info!(key, size, "package copied from the gateway");
        Ok(())
    }
}
