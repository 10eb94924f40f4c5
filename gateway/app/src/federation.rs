//! Federation use cases: pairing with a peer data centre, what a peer may
//! pull (the log of the sites it shares, their packages), applying what was
//! pulled, and the digest both sides compare. The rule that decides
//! conflicting edits is `outfit_domain::federation`'s.

use crate::audit::{Act, authorise};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::federation::{Entry, check_data_centre_name};
use outfit_domain::rights::{Action, Caller, Principal, Scope};
use outfit_store::Applied;
pub use outfit_store::{PeerRow, ProposalRow, ReplicatedState};

/// Days a peer's client certificate is valid.
pub const PEER_CERT_DAYS: u64 = 365;

/// The most entries one pull answers with; the puller asks again for more.
pub const PULL_LIMIT: i64 = 200;

/// What `add_peer` hands over to the other data centre.
#[derive(Debug, Clone)]
pub struct PeerCredentials {
    /// The client certificate and key the peer presents here.
    pub issued: crate::pki::Issued,
    pub fingerprint: String,
}

/// What one pull gave: the entries and whether more are waiting.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub entries: Vec<Entry>,
    pub more: bool,
}

impl Services {
    /// Pairs this data centre (named `me`) with peer `name` at `url`, sharing
    /// `sites`: records the peer and issues the client certificate it will
    /// present here. Only the local administrator pairs data centres.
    pub fn add_peer(
        &self,
        caller: &Caller,
        me: &str,
        name: &str,
        url: &str,
        sites: &[String],
    ) -> Result<PeerCredentials, Failure> {
        let act = Act { action: "AddPeer", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            if !matches!(caller.principal, Principal::LocalAdministrator { .. }) {
                return Err(
                    Refusal::new(RefusalKind::Forbidden, "only the local administrator pairs data centres").into()
                );
            }
            for n in [me, name] {
                check_data_centre_name(n).map_err(Refusal::invalid)?;
            }
            if sites.is_empty() {
                return Err(Refusal::invalid("name at least one site to share (`--site SITE`)").into());
            }
            let (issued, signed) = crate::pki::issue_peer(&self.ca.key_pem, name, PEER_CERT_DAYS)?;
            self.storage.add_peer(me, name, url, &signed.fingerprint, sites)?;
            let detail = format!("sharing {}; certificate {}", sites.join(", "), signed.fingerprint);
            Ok((PeerCredentials { issued, fingerprint: signed.fingerprint }, detail))
        })
    }

    /// The peer a client certificate was issued to, with the sites it shares.
    pub fn peer_by_certificate(&self, der: &[u8]) -> Result<Option<Principal>, Failure> {
        let fingerprint = crate::pki::fingerprint(der);
        let peers = self.storage.peers()?;
        Ok(peers
            .into_iter()
            .find(|p| p.certificate_sha256 == fingerprint)
            .map(|p| Principal::Peer { name: p.name, sites: p.sites }))
    }

    /// The peers this data centre pulls from.
    pub fn peers(&self) -> Result<Vec<PeerRow>, Failure> {
        Ok(self.storage.peers()?)
    }

    /// For each origin, the last entry held here: what a pull sends.
    pub fn known_entries(&self) -> Result<Vec<(String, i64)>, Failure> {
        Ok(self.storage.known_entries()?)
    }

    /// This data centre's name, if it was given one.
    pub fn data_centre(&self) -> Result<Option<String>, Failure> {
        Ok(self.storage.data_centre()?)
    }

    /// The entries this data centre made of the sites shared with the
    /// calling peer that the peer lacks (`known`: the last `seq` it holds of
    /// each origin). Not audited: a peer pulls every second, and reading is
    /// all it does.
    pub fn pull_log(&self, caller: &Caller, known: &[(String, i64)]) -> Result<Pulled, Failure> {
        let Principal::Peer { sites, .. } = &caller.principal else {
            return Err(Refusal::new(RefusalKind::Forbidden, "only a peer data centre pulls the log").into());
        };
        let me = self.storage.data_centre()?.unwrap_or_default();
        let after = known.iter().find(|(origin, _)| *origin == me).map_or(0, |(_, seq)| *seq);
        let mut entries = self.storage.entries_after(sites, after, PULL_LIMIT + 1)?;
        let more = entries.len() as i64 > PULL_LIMIT;
        entries.truncate(PULL_LIMIT as usize);
        Ok(Pulled { entries, more })
    }

    /// Applies what was pulled from peer `peer`, entry by entry, in order;
    /// returns how many changed something here. An entry is taken only from
    /// the data centre that made it, and only of a site shared with it. Each
    /// decision this data centre makes as a site's home is audited.
    pub fn apply_pulled(&self, peer: &str, entries: &[Entry]) -> Result<usize, Failure> {
        let sites = self.storage.peers()?.into_iter().find(|p| p.name == peer).map(|p| p.sites).unwrap_or_default();
        let caller = Caller {
            principal: Principal::Peer { name: peer.to_owned(), sites: sites.clone() },
            from: "federation".to_owned(),
        };
        let mut changed = 0;
        for entry in entries {
            if entry.origin != peer || !sites.contains(&entry.site) {
                let site = &entry.site;
                tracing::warn!(origin = %entry.origin, seq = entry.seq, site, peer, "log entry refused: not the peer's own, or of a site not shared with it");
                continue;
            }
            match self.storage.apply_entry(entry)? {
                Applied::Known => {}
                Applied::Stored => changed += 1,
                Applied::Decided(outcome) => {
                    changed += 1;
                    let act = Act {
                        action: "DecideProposal",
                        site: Some(&entry.site),
                        object: format!("{}/{}#{}", entry.model, entry.origin, entry.seq),
                    };
                    self.audited(&caller, act, || Ok(((), format!("{outcome:?}"))))?;
                }
                Applied::Ignored(why) => {
                    tracing::warn!(origin = %entry.origin, seq = entry.seq, peer, why, "log entry ignored");
                }
            }
        }
        Ok(changed)
    }

    /// The proposals of `site` (of `model`), newest first: edits made away
    /// from the site's home and what the home decided.
    pub fn proposals(&self, caller: &Caller, site: &str, model: Option<&str>) -> Result<Vec<ProposalRow>, Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        Ok(self.storage.proposals(site, model)?)
    }

    /// A digest of what every data centre sharing `site` must hold alike
    /// (its models' versions and content, its proposals and decisions), and
    /// that state: equal digests mean the data centres agree.
    pub fn site_digest(&self, caller: &Caller, site: &str) -> Result<(String, ReplicatedState), Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        let state = self.storage.replicated_state(site)?;
        // The home is written from each side's view (NULL: here), so it is
        // left out of what both sides hash.
        let hashed = serde_json::to_vec(&(&state.models, &state.proposals)).map_err(Failure::internal)?;
        Ok((crate::pki::fingerprint(&hashed), state))
    }
}
