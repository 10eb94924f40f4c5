//! The operator endpoint: SOAP services for people and enterprise systems, on
//! a listener of their own (apart from the agent endpoint). Every operation
//! takes the same steps: decode → authenticate (an operator client
//! certificate, or a WS-Security UsernameToken checked with argon2) → authorise (rights per site × role category × action) → domain
//! call → audit → encode. Refusals are audited as well as successes.

use crate::storage::{Action, AuditEntry, ImportedModel, OperatorRow, ParameterChange, Storage, StorageError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use outfit_wsdl::envelope::{FaultCode, SoapFault, encode_fault};
use outfit_wsdl::operator::{
    Credentials, OperatorRequest, OperatorResponse, ProvisionResponse, SetParameter, SetParameterResponse,
    decode_operator_request, encode_response,
};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must have at least {MIN_PASSWORD} characters")]
    TooShort,
    #[error("hash a password: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD: usize = 12;

/// An argon2id hash (PHC string, salt inside) of an operator's password.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|hash| argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash to verify against when the operator does not exist, so an unknown
/// name costs the same time as a wrong password and names cannot be probed.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").expect("hashing a constant password"))
}

/// Serves the operator operations for one gateway process.
#[derive(Debug, Clone)]
pub struct OperatorService {
    pub storage: Storage,
    /// For pokes after `Provision` (the gateway's certificate) and their name.
    pub home: crate::home::Home,
    pub name: String,
}

/// Why a request got no response: a refusal (audited as `refused`) or a
/// failure inside the gateway (audited as `failed`, logged, `Internal` fault).
enum Failure {
    Refused(SoapFault),
    Storage(StorageError),
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        match e {
            // What the operator named does not exist: theirs to fix.
            StorageError::NotFound { what, name } => {
                Self::Refused(SoapFault::new(FaultCode::UnknownObject, format!("no {what} `{name}`")))
            }
            StorageError::Invalid(message) => Self::Refused(SoapFault::new(FaultCode::Invalid, message)),
            other => Self::Storage(other),
        }
    }
}

impl OperatorService {
    /// Handles one request body from `peer`, who presented `certificate`
    /// (DER) or none; returns the response envelope and whether it is a
    /// fault. Blocking (argon2, database): run it off the async threads.
    pub fn handle(&self, peer: &str, certificate: Option<&[u8]>, body: &[u8]) -> (String, bool) {
        let (request, credentials) = match decode_operator_request(body) {
            Ok(decoded) => decoded,
            Err(fault) => {
                self.audit("-", "invalid", None, "-", peer, "refused", fault.code.as_str());
                return (encode_fault(&fault), true);
            }
        };
        let operation = request.operation();
        let (site, object) = match &request {
            OperatorRequest::SetParameter(m) => {
                (m.site.clone(), format!("{}/{} {}.{}", m.model, m.category, m.component, m.name))
            }
            OperatorRequest::Provision(m) => (m.site.clone(), m.device.clone()),
        };
        let claimed = credentials.as_ref().map_or("-".to_owned(), |c| c.username.clone());
        let span = tracing::info_span!("operator", operation, principal = tracing::field::Empty, site = %site);
        let _entered = span.enter();
        let operator = self.authenticate(credentials, certificate);
        let principal = operator.as_ref().map_or(claimed, |o| o.name.clone());
        span.record("principal", principal.as_str());
        let (envelope, outcome, detail, is_fault) = match operator.and_then(|o| self.serve(&o, &request)) {
            Ok((envelope, detail)) => (envelope, "allowed", detail, false),
            Err(Failure::Refused(fault)) => {
                tracing::warn!(code = fault.code.as_str(), message = %fault.message, "operator request refused");
                let detail = format!("{}: {}", fault.code.as_str(), fault.message);
                (encode_fault(&fault), "refused", detail, true)
            }
            Err(Failure::Storage(e)) => {
                tracing::error!(error = %e, "storage failed while serving an operator");
                let fault =
                    SoapFault::new(FaultCode::Internal, "the gateway could not complete the request; see its log");
                (encode_fault(&fault), "failed", "Internal".to_owned(), true)
            }
        };
        self.audit(&principal, operation, Some(&site), &object, peer, outcome, &detail);
        (envelope, is_fault)
    }

    /// Who is calling: the operator of a client certificate this gateway
    /// issued, else the one a UsernameToken names, if the password matches.
    fn authenticate(
        &self,
        credentials: Result<Credentials, SoapFault>,
        certificate: Option<&[u8]>,
    ) -> Result<OperatorRow, Failure> {
        if let Some(der) = certificate
            && let Some(operator) = self.storage.operator_by_certificate(&crate::pki::fingerprint(der))?
        {
            return Ok(operator);
        }
        let credentials = credentials.map_err(Failure::Refused)?;
        let operator = self.storage.operator(&credentials.username)?;
        let stored = operator.as_ref().map_or(decoy_hash(), |o| o.password_hash.as_str());
        match operator {
            Some(operator) if password_matches(&credentials.password, stored) => Ok(operator),
            _ => {
                // Checked either way, so both cases take argon2's time.
                let _ = password_matches(&credentials.password, stored);
                Err(Failure::Refused(SoapFault::new(FaultCode::Unauthenticated, "unknown operator or wrong password")))
            }
        }
    }

    fn serve(&self, operator: &OperatorRow, request: &OperatorRequest) -> Result<(String, String), Failure> {
        match request {
            OperatorRequest::SetParameter(m) => {
                self.authorise(operator.id, &m.site, &m.category, Action::Change)?;
                let ImportedModel { version, created, .. } = self.storage.set_parameter(&change(m))?;
                let detail = if created { format!("model version {version}") } else { "unchanged".to_owned() };
                let response = OperatorResponse::SetParameter(SetParameterResponse { model_version: version, created });
                Ok((encode_response(response), detail))
            }
            OperatorRequest::Provision(m) => {
                // Provisioning installs every role of the model: each category needs the right.
                for category in self.storage.provisioned_categories(&m.site, &m.device)? {
                    self.authorise(operator.id, &m.site, &category, Action::Deploy)?;
                }
                let provisioned = crate::queue::provision(&self.storage, &m.device, None).map_err(|e| match e {
                    crate::queue::ProvisionError::Storage(e) => Failure::from(e),
                    other => Failure::Refused(SoapFault::new(FaultCode::Invalid, other.to_string())),
                })?;
                self.poke(provisioned.poke_url);
                let commands = provisioned.commands;
                let response = OperatorResponse::Provision(ProvisionResponse { commands: commands as i32 });
                Ok((encode_response(response), format!("{commands} commands queued")))
            }
        }
    }

    /// Pokes the agent in the background; one that cannot be reached polls.
    fn poke(&self, url: Option<String>) {
        let (Some(url), Ok(runtime)) = (url, tokio::runtime::Handle::try_current()) else { return };
        let (home, name) = (self.home.clone(), self.name.clone());
        runtime.spawn(async move {
            if let Err(e) = crate::poke::poke(&home, &url, &name).await {
                tracing::info!(%url, error = %e, "poke failed; the agent will poll");
            }
        });
    }

    fn authorise(&self, operator: i64, site: &str, category: &str, action: Action) -> Result<(), Failure> {
        if self.storage.allowed(operator, site, category, action)? {
            return Ok(());
        }
        Err(Failure::Refused(SoapFault::new(
            FaultCode::Forbidden,
            format!("no right to {} {category} roles of site `{site}`", action.as_str()),
        )))
    }

    #[expect(clippy::too_many_arguments, reason = "one audit line, field by field")]
    pub(crate) fn audit(
        &self,
        principal: &str,
        action: &str,
        site: Option<&str>,
        object: &str,
        peer: &str,
        outcome: &str,
        detail: &str,
    ) {
        let entry = AuditEntry {
            principal: principal.to_owned(),
            action: action.to_owned(),
            site: site.map(str::to_owned),
            object: object.to_owned(),
            peer: peer.to_owned(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
            created_at: crate::storage::now_ms(),
        };
        if let Err(e) = self.storage.audit(&entry) {
            tracing::error!(error = %e, ?entry, "could not write the audit log");
        }
    }
}

fn change(m: &SetParameter) -> ParameterChange {
    ParameterChange {
        site: m.site.clone(),
        model: m.model.clone(),
        category: m.category.clone(),
        component: m.component.clone(),
        name: m.name.clone(),
        value: m.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_a_salt_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(password_matches("correct horse battery", &a));
        assert!(!password_matches("correct horse battery!", &a));
        assert!(matches!(hash_password("short"), Err(PasswordError::TooShort)));
    }
}
