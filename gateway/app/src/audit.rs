//! Authorising and auditing, the steps every use case shares.

use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::audit::{AuditEntry, Outcome};
use outfit_domain::rights::{Action, Caller, Scope};

/// What an audit line says was attempted.
#[derive(Debug, Clone)]
pub(crate) struct Act<'a> {
    /// The operation, as the operator API names it (`Provision`, `Grant` …).
    pub action: &'a str,
    pub site: Option<&'a str>,
    /// What it acted on (a device, `model/category component.parameter` …).
    pub object: String,
}

/// A request refused before any use case ran, as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub struct RefusedRequest<'a> {
    /// The name the caller claimed (`-`: none).
    pub claimed: &'a str,
    pub operation: &'a str,
    pub site: Option<&'a str>,
    pub object: &'a str,
    pub from: &'a str,
    /// The Fault code it was answered with, and its message (may be empty).
    pub code: &'a str,
    pub message: &'a str,
}

/// The site of a device an action names, as looked up before the action's
/// audit line is written (`None`: no such device); inside the audited work
/// this turns `None` into the refusal, so that refusal is audited too.
pub(crate) fn exists<'a>(site: Option<&'a str>, device: &str) -> Result<&'a str, Refusal> {
    site.ok_or_else(|| Refusal::not_found("device", device))
}

/// Refuses unless `caller` may do `action` on `scope` of `site`.
pub(crate) fn authorise(caller: &Caller, site: &str, scope: Scope<'_>, action: Action) -> Result<(), Refusal> {
    if caller.principal.may(site, scope, action) {
        return Ok(());
    }
    Err(Refusal::new(RefusalKind::Forbidden, format!("no right to {} {scope} of site `{site}`", action.as_str())))
}

/// Refuses unless `caller` may do `action` everywhere (operators and rights).
pub(crate) fn authorise_everywhere(caller: &Caller, action: Action) -> Result<(), Refusal> {
    if caller.principal.may_everywhere(action) {
        return Ok(());
    }
    Err(Refusal::new(
        RefusalKind::Forbidden,
        format!(
            "no right to {} on every site (a right `{}` without --site and --category)",
            action.as_str(),
            action.as_str()
        ),
    ))
}

impl Services {
    /// Runs `work` and writes its one audit line: `allowed` with the detail
    /// `work` returns, `refused` with the refusal's code and message, `failed`
    /// for a failure inside the gateway (its cause goes to the log).
    pub(crate) fn audited<T>(
        &self,
        caller: &Caller,
        act: Act<'_>,
        work: impl FnOnce() -> Result<(T, String), Failure>,
    ) -> Result<T, Failure> {
        let result = work();
        let (outcome, detail) = match &result {
            Ok((_, detail)) => (Outcome::Allowed, detail.clone()),
            Err(Failure::Refused(r)) => (Outcome::Refused, format!("{}: {}", r.kind.code(), r.message)),
            Err(Failure::Internal(cause)) => {
                tracing::error!(action = act.action, error = %cause, "a use case failed inside the gateway");
                (Outcome::Failed, "Internal".to_owned())
            }
        };
        self.record(caller.principal.name(), &act, &caller.from, outcome, detail);
        result.map(|(value, _)| value)
    }

    /// Refuses a request whose input an edge could not make into a use
    /// case's (a malformed argument): its one audit line, and the failure.
    pub fn refuse_input(
        &self,
        caller: &Caller,
        action: &str,
        site: Option<&str>,
        object: &str,
        refusal: Refusal,
    ) -> Failure {
        self.refused(caller, &Act { action, site, object: object.to_owned() }, refusal)
    }

    /// Audits a refusal made before the work of a use case began (the one
    /// audit line of that request) and returns it as the failure.
    pub(crate) fn refused(&self, caller: &Caller, act: &Act<'_>, refusal: Refusal) -> Failure {
        let detail = format!("{}: {}", refusal.kind.code(), refusal.message);
        self.record(caller.principal.name(), act, &caller.from, Outcome::Refused, detail);
        refusal.into()
    }

    /// Writes one audit line for a request refused before any use case ran
    /// (it could not be decoded, or its caller not authenticated).
    pub fn audit_refused_request(&self, request: &RefusedRequest<'_>) {
        let act = Act { action: request.operation, site: request.site, object: request.object.to_owned() };
        let (code, message) = (request.code, request.message);
        let detail = if message.is_empty() { code.to_owned() } else { format!("{code}: {message}") };
        self.record(request.claimed.to_owned(), &act, request.from, Outcome::Refused, detail);
    }

    fn record(&self, principal: String, act: &Act<'_>, from: &str, outcome: Outcome, detail: String) {
        let entry = AuditEntry {
            principal,
            action: act.action.to_owned(),
            site: act.site.map(str::to_owned),
            object: act.object.clone(),
            peer: from.to_owned(),
            outcome,
            detail,
            created_at: outfit_domain::now_ms(),
        };
        if let Err(e) = self.storage.audit(&entry) {
            tracing::error!(error = %e, ?entry, "could not write the audit log");
        }
    }
}
