//! Library components (patent figure 11): work that is the same on every OS.
//! Here: fetch a package over a new HTTPS connection — from the file server
//! the gateway named, or from the gateway's own repository — and verify its
//! size and sha256 before any plug-in sees it.
//!
//! **Invariant:** a file appears in the spool under its final name only after
//! its digest matched; a mismatch leaves nothing behind.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use outfit_wsdl::messages::Package;
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("download {name}: {source}")]
    Transport { name: String, source: TransportError },
    #[error("download {name}: the repository answered HTTP {status}: {reason}")]
    Status { name: String, status: u16, reason: String },
    #[error("download {name}: {message}")]
    Stream { name: String, message: String },
    #[error("package {name}: expected {expected} bytes, received {actual}")]
    Size { name: String, expected: i64, actual: i64 },
    #[error("package {name}: sha256 mismatch: expected {expected}, received {actual}; nothing was installed")]
    Digest { name: String, expected: String, actual: String },
    #[error("spool {path}: {source}")]
    Spool { path: String, source: std::io::Error },
    #[error("package {name}: `{value}` is not a valid {what}")]
    Invalid { name: String, what: &'static str, value: String },
}

impl FetchError {
    /// Whether the repository was merely unreachable (worth trying again later)
    /// rather than serving something wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Stream { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Downloads `package` into `spool` and returns the verified file's path.
/// A location that is a URL names a file server; when that one cannot be
/// reached (or fails inside), the gateway's own repository serves instead.
pub async fn fetch(
    tls: &Arc<rustls::ClientConfig>,
    gateway: &Endpoint,
    package: &Package,
    spool: &Path,
) -> Result<PathBuf, FetchError> {
    if !package.location.starts_with("https://") {
        return download(tls, gateway, package, spool).await;
    }
    let name = format!("{} {}", package.name, package.version);
    let invalid = || FetchError::Invalid { name: name.clone(), what: "location", value: package.location.clone() };
    let server = Endpoint::parse(&package.location).map_err(|_| invalid())?;
    let at_server = Package { location: server.path.clone(), ..package.clone() };
    match download(tls, &server, &at_server, spool).await {
        Err(e) if e.is_transient() => {
            tracing::warn!(server = %server.addr(), error = %e, "file server unavailable; downloading from the gateway");
            let at_gateway =
                Package { location: format!("/repository/{}", package.sha256.to_ascii_lowercase()), ..package.clone() };
            download(tls, gateway, &at_gateway, spool).await
        }
        done => done,
    }
}

/// [`fetch`] from `gateway`, the server at hand (a gateway or a file server).
async fn download(
    tls: &Arc<rustls::ClientConfig>,
    gateway: &Endpoint,
    package: &Package,
    spool: &Path,
) -> Result<PathBuf, FetchError> {
    let name = format!("{} {}", package.name, package.version);
    let expected = package.sha256.to_ascii_lowercase();
    if !outfit_wsdl::messages::is_sha256_hex(&expected) {
        return Err(FetchError::Invalid { name, what: "sha256", value: package.sha256.clone() });
    }
    if !package.format.bytes().all(|b| b.is_ascii_alphanumeric()) || package.format.is_empty() {
        return Err(FetchError::Invalid { name, what: "package format", value: package.format.clone() });
    }
    let spool_err = |source| FetchError::Spool { path: spool.display().to_string(), source };
    std::fs::create_dir_all(spool).map_err(spool_err)?;
    let target = spool.join(format!("{expected}.{}", package.format));

    let request = hyper::Request::get(package.location.as_str())
        .header(hyper::header::HOST, format!("{}:{}", gateway.host, gateway.port))
        .header(hyper::header::CONNECTION, "close")
        .body(Full::new(Bytes::new()))
        .map_err(|_| FetchError::Invalid { name: name.clone(), what: "location", value: package.location.clone() })?;
    let response = transport::send(tls, gateway, request)
        .await
        .map_err(|source| FetchError::Transport { name: name.clone(), source })?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        // The gateway says why in a short text body (e.g. a revoked certificate).
        let reason = match transport::read_body(response.into_body(), 1024, &gateway.host).await {
            Ok(body) => String::from_utf8_lossy(&body).trim().to_owned(),
            Err(_) => "(no reason given)".into(),
        };
        return Err(FetchError::Status { name, status, reason });
    }
    let mut staging = tempfile::NamedTempFile::new_in(spool).map_err(spool_err)?;
    let mut hasher = Sha256::new();
    let mut received: i64 = 0;
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| FetchError::Stream { name: name.clone(), message: e.to_string() })?;
        if let Ok(data) = frame.into_data() {
            received += data.len() as i64;
            // Refuse to store more than was announced.
            if received > package.size {
                return Err(FetchError::Size { name, expected: package.size, actual: received });
            }
            hasher.update(&data);
            staging.write_all(&data).map_err(spool_err)?;
        }
    }
    if received != package.size {
        return Err(FetchError::Size { name, expected: package.size, actual: received });
    }
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        return Err(FetchError::Digest { name, expected, actual });
    }
    staging.persist(&target).map_err(|e| spool_err(e.error))?;
    Ok(target)
}
