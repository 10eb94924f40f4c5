//! Whether a device may download a package: asked of a gateway per
//! download, an allowed answer reused for as long as the gateway said
//! (seconds), so a revoked certificate or a changed model takes effect
//! within that time. Refusals are never reused.

use crate::gateway::Gateways;
use outfit_wsdl::envelope::{Answer, SoapFault};
use outfit_wsdl::file_server::{CheckRelease, decode_file_server_response};
use outfit_wsdl::transport::TransportError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Answers remembered at most; past that the memory starts afresh.
const REMEMBERED: usize = 100_000;

/// A gateway's decision on one download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Why not, in words for the device.
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no gateway answered: {0}")]
    Unreachable(#[from] TransportError),
    #[error("the gateway answered with a fault: {0}")]
    Fault(SoapFault),
}

/// Download checks, with the allowed ones remembered until they expire.
#[derive(Debug)]
pub struct Entitlements {
    gateways: Gateways,
    allowed: Mutex<HashMap<(String, String), Instant>>,
}

impl Entitlements {
    pub fn new(gateways: Gateways) -> Self {
        Self { gateways, allowed: Mutex::default() }
    }

    /// Whether the device holding `certificate` (DER; it connected from
    /// `from`) may download package `sha256`.
    pub async fn check(&self, certificate: &[u8], from: &str, sha256: &str) -> Result<Decision, CheckError> {
        let remembered = (hex::encode(Sha256::digest(certificate)), sha256.to_owned());
        if self
            .allowed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&remembered)
            .is_some_and(|until| Instant::now() < *until)
        {
            return Ok(Decision::Allowed);
        }
        let envelope = CheckRelease::new(certificate, from, sha256).encode();
        let body = self.gateways.soap("CheckRelease", envelope).await?;
        let answer = match decode_file_server_response(&body).map_err(CheckError::Fault)? {
            Answer::Ok(answer) => answer,
            Answer::Fault(fault) => return Err(CheckError::Fault(fault)),
        };
        if !answer.allowed {
            return Ok(Decision::Refused(answer.reason.unwrap_or_else(|| "refused by the gateway".into())));
        }
        let valid = Duration::from_secs(answer.valid_seconds.max(0) as u64);
        let mut allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        if allowed.len() >= REMEMBERED {
            allowed.clear();
        }
        allowed.insert(remembered, Instant::now() + valid);
        Ok(Decision::Allowed)
    }
}
