//! Operator use cases: authenticating an operator (client certificate or
//! password), and managing operators, groups, rights and operator
//! certificates — which needs `admin` on every site and category.

use crate::audit::{Act, authorise_everywhere};
use crate::{Failure, Refusal, RefusalKind, Services};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use outfit_domain::audit::AuditEntry;
use outfit_domain::rights::{Action, Caller, Holder, Principal, Right};
pub use outfit_store::HolderListing;

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

/// What an operator presented.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The client certificate of the connection (DER), if any.
    pub certificate: Option<&'a [u8]>,
    /// A UsernameToken: name and password.
    pub password: Option<(&'a str, &'a str)>,
}

impl Services {
    /// Who is calling: the operator of a client certificate this gateway
    /// issued, else the one a UsernameToken names, if the password matches;
    /// with their rights. Blocking (argon2).
    pub fn authenticate(&self, credentials: Credentials<'_>) -> Result<Principal, Failure> {
        let unauthenticated = || Refusal::new(RefusalKind::Unauthenticated, "unknown operator or wrong password");
        if let Some(der) = credentials.certificate
            && let Some(operator) = self.storage.operator_by_certificate(&crate::pki::fingerprint(der))?
        {
            let rights = self.storage.rights_of(operator.id)?;
            return Ok(Principal::Operator { id: operator.id, name: operator.name, rights });
        }
        let Some((name, password)) = credentials.password else {
            return Err(Refusal::new(
                RefusalKind::Unauthenticated,
                "no WS-Security UsernameToken and no operator client certificate",
            )
            .into());
        };
        let operator = self.storage.operator(name)?;
        let stored = operator.as_ref().map_or(decoy_hash(), |o| o.password_hash.as_str());
        // Checked either way, so both cases take argon2's time.
        let matches = password_matches(password, stored);
        match operator {
            Some(operator) if matches => {
                let rights = self.storage.rights_of(operator.id)?;
                Ok(Principal::Operator { id: operator.id, name: operator.name, rights })
            }
            _ => Err(unauthenticated().into()),
        }
    }

    /// Adds an operator, or sets a new password for one; only the argon2
    /// hash is kept. Returns true when the operator is new.
    pub fn save_operator(&self, caller: &Caller, name: &str, password: &str) -> Result<bool, Failure> {
        let act = Act { action: "SaveOperator", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            let hash = hash_password(password).map_err(|e| match e {
                PasswordError::TooShort => Failure::from(Refusal::invalid(e.to_string())),
                PasswordError::Hash(_) => Failure::internal(e),
            })?;
            let new = self.storage.save_operator(name, &hash)?;
            if new {
                return Ok((new, "added".to_owned()));
            }
            // Whoever knew the old password is signed out of the console.
            let ended = self.storage.end_console_sessions_of(name)?;
            Ok((new, format!("password changed, {ended} console sessions ended")))
        })
    }

    /// Issues a client certificate for operator `name`, valid `days`: it
    /// authenticates without a password, and at agents' access endpoints.
    pub fn issue_operator_certificate(
        &self,
        caller: &Caller,
        name: &str,
        days: u64,
    ) -> Result<crate::pki::Issued, Failure> {
        let act = Act { action: "IssueOperatorCertificate", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            if self.storage.operator(name)?.is_none() {
                return Err(Refusal::new(
                    RefusalKind::NotFound,
                    format!("no operator named `{name}`; add one with `outfit operator add {name}`"),
                )
                .into());
            }
            let (issued, signed) = crate::pki::issue_operator(&self.ca.key_pem, name, days)?;
            self.storage.record_operator_certificate(name, &signed.fingerprint, signed.not_after_ms)?;
            Ok((issued, signed.fingerprint))
        })
    }

    /// Revokes every client certificate of an operator; returns how many were valid.
    pub fn revoke_operator_certificates(&self, caller: &Caller, name: &str) -> Result<usize, Failure> {
        let act = Act { action: "RevokeOperatorCertificates", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            let n = self.storage.revoke_operator_certificates(name)?;
            Ok((n, format!("{n} revoked")))
        })
    }

    /// Grants `holder` a right. Granting a right already held changes nothing.
    pub fn grant(&self, caller: &Caller, holder: Holder<'_>, right: &Right) -> Result<(), Failure> {
        let act = Act { action: "Grant", site: right.site.as_deref(), object: holder.to_string() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            self.storage.grant(holder, right.site.as_deref(), right.category.as_deref(), right.action)?;
            Ok(((), right.describe()))
        })
    }

    /// Adds a group of operators; returns false if it exists already.
    pub fn add_group(&self, caller: &Caller, name: &str) -> Result<bool, Failure> {
        let act = Act { action: "AddGroup", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            let new = self.storage.add_group(name)?;
            Ok((new, if new { "added".to_owned() } else { "exists already".to_owned() }))
        })
    }

    /// Makes an operator a member of a group: the group's rights hold for them.
    pub fn join_group(&self, caller: &Caller, group: &str, operator: &str) -> Result<(), Failure> {
        let act = Act { action: "JoinGroup", site: None, object: group.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            self.storage.join_group(group, operator)?;
            Ok(((), operator.to_owned()))
        })
    }

    /// Every operator and group with their members, rights and certificates.
    /// Needs `admin` on every site and category, as changing them does.
    pub fn personnel(&self, caller: &Caller) -> Result<Vec<outfit_store::HolderListing>, Failure> {
        authorise_everywhere(caller, Action::Admin)?;
        Ok(self.storage.personnel()?)
    }

    /// One page of the audit log matching `filter`, newest first: the lines
    /// of sites `caller` may read (lines without a site need `read` everywhere).
    pub fn audit_entries(
        &self,
        caller: &Caller,
        filter: &outfit_domain::audit::AuditFilter<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, Failure> {
        let limit = limit.clamp(1, crate::devices::MAX_PAGE);
        let readable = outfit_domain::audit::Readable::by(&caller.principal);
        Ok(self.storage.audit_search(filter, &readable, offset as i64, limit as i64)?)
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
