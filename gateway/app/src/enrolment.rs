//! Enrolment: how a device gets its certificate. The agent generates its own
//! key and sends a signing request. By default the request waits for an
//! operator's approval (`device approve`), and the agent asks again with the
//! same key until it gets its certificate; the fast path is a one-time,
//! expiring token bound to one device of one site, issued beforehand, which
//! buys the certificate at once. The private key never leaves the device, the
//! database stores only the token's sha256, and a token buys exactly one
//! certificate.

use crate::agent::EnrolRequest;
use crate::audit::{Act, authorise, exists};
use crate::pki::{self, PkiError, token_digest};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::enrolment::{EnrolmentRequest, RequestState, short_key};
use outfit_domain::rights::{Action, Caller, Scope};
use outfit_store::{Issued, Storage, StorageError};

impl From<PkiError> for Failure {
    fn from(e: PkiError) -> Self {
        match e {
            PkiError::Csr(e) => bad_csr(e).into(),
            // A name that cannot go into a certificate: the caller's to fix.
            e @ PkiError::Name(_) => Refusal::invalid(e.to_string()).into(),
            other => Failure::internal(other),
        }
    }
}

/// A fresh token (64 hex digits, 256 random bits) and its sha256 as stored.
fn new_token() -> Result<(String, String), Failure> {
    let token = crate::pki::random_token()?;
    let digest = token_digest(&token);
    Ok((token, digest))
}

/// What an accepted enrolment request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolled {
    /// The device's certificate (PEM).
    Certificate(String),
    /// The request waits for an operator; the text says what to run.
    Waiting(String),
}

fn bad_csr(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(RefusalKind::BadCsr, format!("the signing request is unusable: {e}"))
}

/// Serves an `Enrol` request from `peer`: with a token, checks the signing
/// request, redeems the token and signs the device's certificate; without
/// one, files the request for approval or returns its decision.
pub(crate) fn enrol(
    storage: &Storage,
    ca_key_pem: &str,
    days: u64,
    request: &EnrolRequest,
    peer: &str,
) -> Result<Enrolled, Failure> {
    let token = request.token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let Some(token) = token else { return ask_approval(storage, request, peer) };
    let redeemed = storage.enrol(&request.site, &request.device, &token_digest(token), |grant| {
        let cert =
            pki::issue_device(ca_key_pem, &request.csr, &grant.device, std::slice::from_ref(&grant.address), days)
                .map_err(Signing::Pki)?;
        Ok::<_, Signing>((Issued { fingerprint: cert.fingerprint, not_after_ms: cert.not_after_ms }, cert.pem))
    });
    match redeemed {
        Ok(Ok(pem)) => Ok(Enrolled::Certificate(pem)),
        Ok(Err(refused)) => Err(Refusal::new(RefusalKind::TokenRefused, refused.to_string()).into()),
        // A bad request is the agent's mistake; the transaction rolled back, so
        // the token is still good for a corrected request.
        Err(Signing::Pki(e)) => Err(e.into()),
        Err(Signing::Storage(e)) => Err(Failure::internal(e)),
    }
}

/// Why signing inside a store transaction failed.
enum Signing {
    Pki(PkiError),
    Storage(StorageError),
}

impl From<StorageError> for Signing {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

fn ask_approval(storage: &Storage, request: &EnrolRequest, peer: &str) -> Result<Enrolled, Failure> {
    let key = pki::csr_key_fingerprint(&request.csr).map_err(bad_csr)?;
    let device = &request.device;
    let refused = |message: String| Failure::from(Refusal::new(RefusalKind::EnrolmentRefused, message));
    match storage.request_enrolment(&request.site, device, &key, &request.csr, peer).map_err(Failure::internal)? {
        Err(why) => Err(refused(why)),
        Ok(RequestState::Approved(pem)) => Ok(Enrolled::Certificate(pem)),
        Ok(RequestState::Rejected { by }) => Err(refused(format!(
            "the enrolment request of `{device}` for this key was rejected by {by}; \
             remove the agent's identity directory to ask again with a new key"
        ))),
        Ok(RequestState::Waiting { new }) => {
            if new {
                tracing::info!(device = %device, key = short_key(&key), %peer, "enrolment request waits for approval");
            }
            Ok(Enrolled::Waiting(format!(
                "the enrolment request of `{device}` (key {}) waits for approval: \
                 outfit device approve {device} --fingerprint {}",
                short_key(&key),
                short_key(&key)
            )))
        }
    }
}

/// The IP address of a `host:port` peer.
fn peer_address(peer: &str) -> String {
    peer.parse::<std::net::SocketAddr>().map_or_else(|_| peer.to_owned(), |a| a.ip().to_string())
}

/// Serves `Renew` for `device`, whose valid certificate `presented` (DER) the
/// request came with: a certificate for the new key, for the same addresses.
pub(crate) fn renew(
    ca_key_pem: &str,
    days: u64,
    csr: &str,
    device: &str,
    presented: &[u8],
) -> Result<pki::Signed, Failure> {
    let names = outfit_wsdl::identity::Facts::read(presented)
        .map_err(|e| Failure::internal(format!("read the presented certificate: {e}")))?
        .names;
    Ok(pki::issue_device(ca_key_pem, csr, device, &names, days)?)
}

impl Services {
    /// Issues a one-time enrolment token for `device` of `site`, valid for
    /// `ttl_secs`; its certificate will name `address` (where the gateway
    /// pokes the agent). Only the token's sha256 is stored or audited.
    pub fn issue_token(
        &self,
        caller: &Caller,
        site: &str,
        device: &str,
        address: &str,
        ttl_secs: u64,
    ) -> Result<String, Failure> {
        let act = Act { action: "IssueToken", site: Some(site), object: device.to_owned() };
        self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            // The address goes into a certificate: check it now, not at enrolment.
            pki::check_name(address)?;
            let (token, digest) = new_token()?;
            let expires_at = outfit_domain::now_ms() + (ttl_secs as i64) * 1000;
            self.storage.issue_token(site, device, &digest, address, expires_at)?;
            Ok((token, format!("for {address}, valid {ttl_secs} s")))
        })
    }

    /// The enrolment requests waiting for approval that `caller` may read,
    /// each with whether its device holds a valid certificate already.
    pub fn enrolment_requests(&self, caller: &Caller) -> Result<Vec<(EnrolmentRequest, bool)>, Failure> {
        let all = self.storage.waiting_requests()?;
        Ok(all.into_iter().filter(|(r, _)| caller.principal.may(&r.site, Scope::SomeCategory, Action::Read)).collect())
    }

    /// Approves the waiting request of `device` (the one whose key starts
    /// with `key`, when several wait), signing a certificate for `address`
    /// or, without one, for the address the request came from. Returns the
    /// request and the address signed for.
    pub fn approve_enrolment(
        &self,
        caller: &Caller,
        device: &str,
        key: Option<&str>,
        address: Option<&str>,
    ) -> Result<(EnrolmentRequest, String), Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action: "ApproveEnrolment", site: known.as_deref(), object: device.to_owned() };
        self.audited(caller, act, || {
            let site = exists(known.as_deref(), device)?;
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            if let Some(address) = address {
                pki::check_name(address)?;
            }
            let mut signed_for = String::new();
            let (ca, days) = (&self.ca.key_pem, self.ca.device_cert_days);
            let approved = self.storage.approve_enrolment(device, key, &caller.principal.name(), |request| {
                signed_for = address.map_or_else(|| peer_address(&request.peer), str::to_owned);
                let cert = pki::issue_device(ca, &request.csr, &request.device, &[signed_for.clone()], days)
                    .map_err(Signing::Pki)?;
                Ok::<_, Signing>((Issued { fingerprint: cert.fingerprint, not_after_ms: cert.not_after_ms }, cert.pem))
            });
            let request = match approved {
                Ok(request) => request,
                Err(Signing::Pki(e)) => return Err(e.into()),
                Err(Signing::Storage(e)) => return Err(e.into()),
            };
            let detail = format!("key {}, address {signed_for}", short_key(&request.key_sha256));
            Ok(((request, signed_for), detail))
        })
    }

    /// Rejects the waiting request of `device`.
    pub fn reject_enrolment(
        &self,
        caller: &Caller,
        device: &str,
        key: Option<&str>,
    ) -> Result<EnrolmentRequest, Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action: "RejectEnrolment", site: known.as_deref(), object: device.to_owned() };
        self.audited(caller, act, || {
            let site = exists(known.as_deref(), device)?;
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let request = self.storage.reject_enrolment(device, key, &caller.principal.name())?;
            let detail = format!("key {}", short_key(&request.key_sha256));
            Ok((request, detail))
        })
    }
}
