//! Enrolment: how a device gets its certificate. An operator issues a
//! one-time, expiring token bound to one device of one site; the agent
//! generates its own key, sends the token with a signing request, and gets a
//! certificate signed by the gateway's CA. The private key never leaves the
//! device, the database stores only the token's sha256, and a token buys
//! exactly one certificate.

use crate::pki::{self, PkiError};
use crate::storage::{Issued, Storage, StorageError, TokenRefused};
use outfit_wsdl::messages::Enrol;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("could not draw random bytes for a token: {0}")]
    Random(String),
}

/// A fresh token (64 hex digits, 256 random bits) and its sha256 as stored.
fn new_token() -> Result<(String, String), EnrolError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| EnrolError::Random(e.to_string()))?;
    let token = hex::encode(bytes);
    let digest = token_digest(&token);
    Ok((token, digest))
}

fn token_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Issues a token for `device` of `site`, valid for `ttl_secs`; its
/// certificate will name `address` (where the gateway pokes the agent).
pub fn issue_token(
    storage: &Storage,
    site: &str,
    device: &str,
    address: &str,
    ttl_secs: u64,
) -> Result<String, EnrolError> {
    // The address goes into a certificate: check it now, not at enrolment.
    pki::check_name(address)?;
    let (token, digest) = new_token()?;
    let expires_at = crate::storage::now_ms() + (ttl_secs as i64) * 1000;
    storage.issue_token(site, device, &digest, address, expires_at)?;
    Ok(token)
}

/// Why an enrolment was refused, for the agent.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Token(#[from] TokenRefused),
    #[error("{0}")]
    Csr(String),
}

/// Serves an `Enrol` request: checks the signing request, redeems the token
/// and signs the device's certificate. Returns the certificate (PEM) or why not.
pub fn enrol(storage: &Storage, ca_key_pem: &str, request: &Enrol) -> Result<Result<String, Refusal>, EnrolError> {
    let redeemed = storage.enrol(&request.site, &request.device, &token_digest(&request.token), |grant| {
        let cert = pki::issue_device(ca_key_pem, &request.csr, &grant.device, &grant.address)?;
        Ok::<_, EnrolError>((Issued { fingerprint: cert.fingerprint, not_after_ms: cert.not_after_ms }, cert.pem))
    });
    match redeemed {
        Ok(Ok(pem)) => Ok(Ok(pem)),
        Ok(Err(refused)) => Ok(Err(refused.into())),
        // A bad request is the agent's mistake; the transaction rolled back, so
        // the token is still good for a corrected request.
        Err(EnrolError::Pki(PkiError::Csr(e))) => {
            Ok(Err(Refusal::Csr(format!("the signing request is unusable: {e}"))))
        }
        Err(e) => Err(e),
    }
}
