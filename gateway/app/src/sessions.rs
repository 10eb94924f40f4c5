//! Console sessions: signing in with a password (the console's form) gives
//! the browser a random token kept in a cookie; the gateway keeps only its
//! sha256, the operator and a CSRF token that every form of the session
//! must carry back. Sessions expire, end at sign-out, and end when the
//! operator's password changes (`operators`).

use crate::audit::Act;
use crate::operators::Credentials;
use crate::pki::{random_token, token_digest};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::rights::{Caller, Principal};

/// How long a console session lasts from its sign-in.
pub const SESSION_MS: i64 = 8 * 3600 * 1000;

/// A session just opened: what the browser is given.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie's value (secret; the gateway stores only its hash).
    pub token: String,
    pub csrf: String,
    pub principal: Principal,
    /// Unix ms.
    pub expires_at: i64,
}

/// A session a request's cookie names, still live.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub principal: Principal,
    pub csrf: String,
}

impl Services {
    /// Signs an operator in with a password from `from`; audited either way
    /// (a wrong password as a refused `SignIn`). Blocking (argon2).
    pub fn sign_in(&self, name: &str, password: &str, from: &str) -> Result<SignedIn, Failure> {
        let credentials = Credentials { certificate: None, password: Some((name, password)) };
        let principal = match self.authenticate(credentials) {
            Ok(principal) => principal,
            Err(failure) => {
                let (code, message) = match &failure {
                    Failure::Refused(r) => (r.kind.code(), r.message.clone()),
                    Failure::Internal(_) => ("Internal", String::new()),
                };
                let request = crate::audit::RefusedRequest {
                    claimed: name,
                    operation: "SignIn",
                    site: None,
                    object: "console",
                    from,
                    code,
                    message: &message,
                };
                self.audit_refused_request(&request);
                return Err(failure);
            }
        };
        let Principal::Operator { id, .. } = &principal else {
            return Err(Failure::internal("a password authenticated something other than an operator"));
        };
        let caller = Caller { principal: principal.clone(), from: from.to_owned() };
        let act = Act { action: "SignIn", site: None, object: "console".to_owned() };
        self.audited(&caller, act, || {
            let (token, csrf) = (random_token()?, random_token()?);
            let expires_at = outfit_domain::now_ms() + SESSION_MS;
            self.storage.open_console_session(*id, &token_digest(&token), &csrf, expires_at)?;
            let signed = SignedIn { token, csrf, principal: principal.clone(), expires_at };
            Ok((signed, "session opened".to_owned()))
        })
    }

    /// The operator of a session token, with their rights as they are now.
    pub fn resume_session(&self, token: &str) -> Result<Resumed, Failure> {
        let live = self.storage.console_session(&token_digest(token))?;
        let live = live.ok_or_else(|| {
            Refusal::new(RefusalKind::Unauthenticated, "the console session has expired or ended; sign in again")
        })?;
        let rights = self.storage.rights_of(live.operator)?;
        let principal = Principal::Operator { id: live.operator, name: live.name, rights };
        Ok(Resumed { principal, csrf: live.csrf })
    }

    /// Ends the session of `token` (signing out); audited.
    pub fn sign_out(&self, caller: &Caller, token: &str) -> Result<(), Failure> {
        let act = Act { action: "SignOut", site: None, object: "console".to_owned() };
        self.audited(caller, act, || {
            let ended = self.storage.end_console_session(&token_digest(token))?;
            Ok(((), if ended { "session ended" } else { "no live session" }.to_owned()))
        })
    }
}
