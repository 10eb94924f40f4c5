//! The peer endpoint: another data centre's gateway pulls the log of the
//! sites it shares, and compares digests. The caller is whoever this data
//! centre issued the presented client certificate to (`peer add`); nothing
//! else is accepted. Also the conversions between the log's entries and the
//! contract's `LogEntry`, which the pulling side uses too.

use super::content::{role, role_spec};
use super::{Answered, fault, respond_fault};
use outfit_app::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::federation::{Body, Entry, Outcome, ProposalRef};
use outfit_domain::rights::Caller;
use outfit_wsdl::envelope::SoapFault;
use outfit_wsdl::peer::{self as wire, PeerRequest, PeerResponse, decode_peer_request, encode_peer_response};

/// Serves the peer operations for one gateway process.
#[derive(Debug, Clone)]
pub struct PeerEndpoint {
    pub services: Services,
}

impl PeerEndpoint {
    /// Handles one request body from `from`, who presented `certificate`.
    /// Blocking (database): run it off the async threads.
    pub fn handle(&self, from: &str, certificate: Option<&[u8]>, body: &[u8]) -> Answered {
        let request = match decode_peer_request(body) {
            Ok(request) => request,
            Err(fault) => return respond_fault("invalid", &fault),
        };
        let operation = request.operation();
        let caller = match self.caller(from, certificate) {
            Ok(caller) => caller,
            Err(failure) => {
                tracing::warn!(from, operation, "peer request without a peer certificate refused");
                return respond_fault(operation, &fault(&failure));
            }
        };
        match self.serve(&caller, request) {
            Ok(response) => Answered::ok(operation, encode_peer_response(response)),
            Err(fault) => respond_fault(operation, &fault),
        }
    }

    /// The peer a request comes from, by its certificate.
    pub fn caller(&self, from: &str, certificate: Option<&[u8]>) -> Result<Caller, Failure> {
        let unknown = || Refusal::new(RefusalKind::Unauthenticated, "the peer service needs a peer certificate");
        let der = certificate.ok_or_else(unknown)?;
        let principal = self.services.peer_by_certificate(der)?.ok_or_else(unknown)?;
        Ok(Caller { principal, from: from.to_owned() })
    }

    fn serve(&self, caller: &Caller, request: PeerRequest) -> Result<PeerResponse, SoapFault> {
        let s = &self.services;
        match request {
            PeerRequest::PullLog(m) => {
                let known: Vec<(String, i64)> = m.known.into_iter().map(|k| (k.origin, k.seq)).collect();
                let pulled = s.pull_log(caller, &known).map_err(|f| fault(&f))?;
                let entry = pulled.entries.into_iter().map(log_entry).collect();
                Ok(PeerResponse::PullLog(wire::PullLogResponse { entry, more: pulled.more }))
            }
            PeerRequest::SiteDigest(m) => {
                let (digest, _) = s.site_digest(caller, &m.site).map_err(|f| fault(&f))?;
                Ok(PeerResponse::SiteDigest(wire::SiteDigestResponse { digest }))
            }
        }
    }
}

/// An entry as the contract carries it.
pub fn log_entry(e: Entry) -> wire::LogEntry {
    let mut w = wire::LogEntry {
        origin: e.origin,
        seq: e.seq,
        hlc: e.hlc,
        site: e.site,
        model: e.model,
        kind: e.body.kind().to_owned(),
        ..wire::LogEntry::default()
    };
    match e.body {
        Body::Version { version, author, reason, restores, roles, accepts } => {
            (w.version, w.author, w.reason, w.restores) = (Some(version), Some(author), reason, restores);
            (w.proposal_origin, w.proposal_seq) = (accepts.as_ref().map(|p| p.origin.clone()), accepts.map(|p| p.seq));
            w.role = roles.into_iter().map(role_spec).collect();
        }
        Body::Proposal { base, author, reason, restores, roles } => {
            (w.base, w.author, w.reason, w.restores) = (base, Some(author), reason, restores);
            w.role = roles.into_iter().map(role_spec).collect();
        }
        Body::Decision { proposal, outcome } => {
            (w.proposal_origin, w.proposal_seq) = (Some(proposal.origin), Some(proposal.seq));
            w.outcome = Some(outcome.state().to_owned());
            match outcome {
                Outcome::Accepted { version } | Outcome::Unchanged { version } => w.outcome_version = Some(version),
                Outcome::Refused { reason } => w.outcome_reason = Some(reason),
            }
        }
    }
    w
}

/// An entry pulled from a peer, checked; package sizes are left 0 for the
/// puller to fill in from the bytes it fetched.
pub fn entry(w: wire::LogEntry) -> Result<Entry, String> {
    let what = format!("log entry {}#{}", w.origin, w.seq);
    let missing = |field: &str| format!("{what}: no {field}");
    let roles = w.role.into_iter().map(role).collect::<Result<Vec<_>, Refusal>>().map_err(|r| r.message)?;
    let proposal = match (w.proposal_origin, w.proposal_seq) {
        (Some(origin), Some(seq)) => Some(ProposalRef { origin, seq }),
        _ => None,
    };
    let body = match w.kind.as_str() {
        "version" => Body::Version {
            version: w.version.ok_or_else(|| missing("version"))?,
            author: w.author.ok_or_else(|| missing("author"))?,
            reason: w.reason,
            restores: w.restores,
            roles,
            accepts: proposal,
        },
        "proposal" => Body::Proposal {
            base: w.base,
            author: w.author.ok_or_else(|| missing("author"))?,
            reason: w.reason,
            restores: w.restores,
            roles,
        },
        "decision" => {
            let outcome = match (w.outcome.as_deref(), w.outcome_version, w.outcome_reason) {
                (Some("accepted"), Some(version), _) => Outcome::Accepted { version },
                (Some("unchanged"), Some(version), _) => Outcome::Unchanged { version },
                (Some("refused"), _, Some(reason)) => Outcome::Refused { reason },
                _ => return Err(missing("outcome")),
            };
            Body::Decision { proposal: proposal.ok_or_else(|| missing("proposal"))?, outcome }
        }
        other => return Err(format!("{what}: unknown kind `{other}`")),
    };
    Ok(Entry { origin: w.origin, seq: w.seq, hlc: w.hlc, site: w.site, model: w.model, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use outfit_domain::model::{Component, PackageRef, Role};

    #[test]
    fn entries_survive_the_contract() {
        let package = PackageRef {
            name: "web".into(),
            version: "1".into(),
            format: "deb".into(),
            sha256: "a".repeat(64),
            size: 0,
            storage_key: "a".repeat(64),
        };
        let component = Component {
            name: "web".into(),
            package,
            config: None,
            plugin: None,
            parameters: vec![("k".into(), "v".into())],
        };
        let roles = vec![Role { category: "APP".into(), name: "web".into(), components: vec![component] }];
        let proposal = ProposalRef { origin: "dc-b".into(), seq: 4 };
        let bodies = [
            Body::Version {
                version: 3,
                author: "ann".into(),
                reason: Some("why".into()),
                restores: Some(1),
                roles: roles.clone(),
                accepts: Some(proposal.clone()),
            },
            Body::Proposal { base: Some(2), author: "bob".into(), reason: None, restores: None, roles },
            Body::Decision { proposal: proposal.clone(), outcome: Outcome::Refused { reason: "late".into() } },
            Body::Decision { proposal, outcome: Outcome::Accepted { version: 4 } },
        ];
        for body in bodies {
            let e = Entry { origin: "dc-a".into(), seq: 7, hlc: 99, site: "shop".into(), model: "web".into(), body };
            assert_eq!(entry(log_entry(e.clone())).unwrap(), e);
        }
        let bad = wire::LogEntry { kind: "rumour".into(), ..wire::LogEntry::default() };
        assert!(entry(bad).unwrap_err().contains("unknown kind"));
    }
}
