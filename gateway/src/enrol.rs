//! Enrolment: how a device gets its certificate. The agent generates its own
//! key and sends a signing request. By default the request waits for an
//! operator's approval (`device approve`), and the agent asks again with the
//! same key until it gets its certificate; the fast path is a one-time,
//! expiring token bound to one device of one site, issued beforehand, which
//! buys the certificate at once. The private key never leaves the device, the
//! database stores only the token's sha256, and a token buys exactly one
//! certificate.

use crate::pki::{self, PkiError};
use crate::storage::{EnrolmentRequest, Issued, RequestState, Storage, StorageError, TokenRefused};
use outfit_wsdl::messages::Enrol;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("could not draw random bytes for a token: {0}")]
    Random(String),
    #[error("read the presented certificate: {0}")]
    Certificate(String),
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
    /// A request without a token that cannot wait (unknown device, too many
    /// waiting) or was rejected.
    #[error("{0}")]
    Request(String),
}

/// What an accepted enrolment request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolled {
    /// The device's certificate (PEM).
    Certificate(String),
    /// The request waits for an operator; the text says what to run.
    Waiting(String),
}

/// The first 16 hex digits of a key fingerprint: enough for an operator to
/// compare and to name with `--key`.
pub fn short_key(fingerprint: &str) -> &str {
    &fingerprint[..16.min(fingerprint.len())]
}

fn bad_csr(e: impl std::fmt::Display) -> Refusal {
    Refusal::Csr(format!("the signing request is unusable: {e}"))
}

/// Serves an `Enrol` request from `peer`: with a token, checks the signing
/// request, redeems the token and signs the device's certificate; without
/// one, files the request for approval or returns its decision.
pub fn enrol(
    storage: &Storage,
    ca_key_pem: &str,
    days: u64,
    request: &Enrol,
    peer: &str,
) -> Result<Result<Enrolled, Refusal>, EnrolError> {
    let Some(token) = request.token() else { return ask_approval(storage, request, peer) };
    let redeemed = storage.enrol(&request.site, &request.device, &token_digest(token), |grant| {
        let cert =
            pki::issue_device(ca_key_pem, &request.csr, &grant.device, std::slice::from_ref(&grant.address), days)?;
        Ok::<_, EnrolError>((Issued { fingerprint: cert.fingerprint, not_after_ms: cert.not_after_ms }, cert.pem))
    });
    match redeemed {
        Ok(Ok(pem)) => Ok(Ok(Enrolled::Certificate(pem))),
        Ok(Err(refused)) => Ok(Err(refused.into())),
        // A bad request is the agent's mistake; the transaction rolled back, so
        // the token is still good for a corrected request.
        Err(EnrolError::Pki(PkiError::Csr(e))) => Ok(Err(bad_csr(e))),
        Err(e) => Err(e),
    }
}

fn ask_approval(storage: &Storage, request: &Enrol, peer: &str) -> Result<Result<Enrolled, Refusal>, EnrolError> {
    let key = match pki::csr_key_fingerprint(&request.csr) {
        Ok(key) => key,
        Err(e) => return Ok(Err(bad_csr(e))),
    };
    let device = &request.device;
    Ok(match storage.request_enrolment(&request.site, device, &key, &request.csr, peer)? {
        Err(why) => Err(Refusal::Request(why)),
        Ok(RequestState::Approved(pem)) => Ok(Enrolled::Certificate(pem)),
        Ok(RequestState::Rejected { by }) => Err(Refusal::Request(format!(
            "the enrolment request of `{device}` for this key was rejected by {by}; \
             remove the agent's identity directory to ask again with a new key"
        ))),
        Ok(RequestState::Waiting { new }) => {
            if new {
                tracing::info!(device = %device, key = short_key(&key), %peer, "enrolment request waits for approval");
            }
            Ok(Enrolled::Waiting(format!(
                "the enrolment request of `{device}` (key {}) waits for approval: \
                 outfit-gateway device approve {device} --key {}",
                short_key(&key),
                short_key(&key)
            )))
        }
    })
}

/// Operator action: approves the waiting request of `device` (the one whose
/// key starts with `key`, when several wait), signing a certificate for
/// `address` or, without one, for the address the request came from.
pub fn approve(
    storage: &Storage,
    ca_key_pem: &str,
    days: u64,
    device: &str,
    key: Option<&str>,
    address: Option<&str>,
    by: &str,
) -> Result<(EnrolmentRequest, String), EnrolError> {
    if let Some(address) = address {
        pki::check_name(address)?;
    }
    let mut signed_for = String::new();
    let request = storage.approve_enrolment(device, key, by, |request| {
        signed_for = address.map_or_else(|| peer_address(&request.peer), str::to_owned);
        let cert = pki::issue_device(ca_key_pem, &request.csr, &request.device, &[signed_for.clone()], days)?;
        Ok::<_, EnrolError>((Issued { fingerprint: cert.fingerprint, not_after_ms: cert.not_after_ms }, cert.pem))
    })?;
    Ok((request, signed_for))
}

/// The IP address of a `host:port` peer.
fn peer_address(peer: &str) -> String {
    peer.parse::<std::net::SocketAddr>().map_or_else(|_| peer.to_owned(), |a| a.ip().to_string())
}

/// Serves `Renew` for `device`, whose valid certificate `presented` (DER) the
/// request came with: a certificate for the new key, for the same addresses.
pub fn renew(
    ca_key_pem: &str,
    days: u64,
    csr: &str,
    device: &str,
    presented: &[u8],
) -> Result<Result<pki::Signed, Refusal>, EnrolError> {
    let names = outfit_wsdl::identity::Facts::read(presented).map_err(EnrolError::Certificate)?.names;
    match pki::issue_device(ca_key_pem, csr, device, &names, days) {
        Ok(cert) => Ok(Ok(cert)),
        Err(PkiError::Csr(e)) => Ok(Err(bad_csr(e))),
        Err(e) => Err(e.into()),
    }
}
