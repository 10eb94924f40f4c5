//! Federation without I/O: the replicated log's entries, the hybrid logical
//! clock that stamps them, and the rule that decides an edit made away from a
//! site's home.
//!
//! **The rule** (docs/federation.md): a site's home data centre is the only
//! one that makes versions of the site's models. An edit anywhere else is a
//! *proposal* naming the version it was made from. The home decides each
//! proposal once, in the order it receives them: it is *accepted* (a new
//! version with its content) when it was made from the home's current version,
//! *unchanged* when its content is the current content, and otherwise
//! *refused*, with the version that came first in the reason. The decision is
//! itself an entry of the home's log, so every data centre ends with the same
//! versions and the same decisions, and a refused edit stays readable.

use crate::model::Role;
use serde::{Deserialize, Serialize};

/// A proposal's identity: the data centre that made it and its entry there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProposalRef {
    pub origin: String,
    pub seq: i64,
}

impl std::fmt::Display for ProposalRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.origin, self.seq)
    }
}

/// One entry of the replicated log. `seq` counts per origin, from 1, with no
/// gaps at the origin; peers apply an origin's entries in `seq` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub origin: String,
    pub seq: i64,
    /// Hybrid logical clock: `(milliseconds << 16) | counter`.
    pub hlc: i64,
    pub site: String,
    pub model: String,
    pub body: Body,
}

/// What an entry says happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// The home made version `version` of the model and made it current.
    Version {
        version: i32,
        author: String,
        reason: Option<String>,
        /// A rollback: the version whose content it restores.
        restores: Option<i32>,
        roles: Vec<Role>,
        /// The proposal it accepts, if it came from one.
        accepts: Option<ProposalRef>,
    },
    /// An edit made away from the site's home, from version `base`.
    Proposal { base: Option<i32>, author: String, reason: Option<String>, restores: Option<i32>, roles: Vec<Role> },
    /// The home's decision on a proposal.
    Decision { proposal: ProposalRef, outcome: Outcome },
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Version { .. } => "version",
            Self::Proposal { .. } => "proposal",
            Self::Decision { .. } => "decision",
        }
    }
}

/// How the home decided a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Accepted {
        version: i32,
    },
    /// Its content was the current version's already.
    Unchanged {
        version: i32,
    },
    Refused {
        reason: String,
    },
}

impl Outcome {
    /// The proposal's state as stored: `accepted`, `unchanged` or `refused`.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Accepted { .. } => "accepted",
            Self::Unchanged { .. } => "unchanged",
            Self::Refused { .. } => "refused",
        }
    }
}

/// The home's current version of a model, as the rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<'a> {
    pub version: i32,
    pub author: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub roles: &'a [Role],
}

/// The rule: what the home does with a proposal made from `base` with
/// `roles`, given its current version (`None`: the model has none yet).
/// `Accepted`'s version is the number the new version will get.
pub fn decide(home: &str, base: Option<i32>, roles: &[Role], current: Option<Current<'_>>) -> Outcome {
    let Some(current) = current else {
        return Outcome::Accepted { version: 1 };
    };
    if same_roles(roles, current.roles) {
        return Outcome::Unchanged { version: current.version };
    }
    if base == Some(current.version) {
        return Outcome::Accepted { version: current.version + 1 };
    }
    let made_from = base.map_or("no version".to_owned(), |b| format!("version {b}"));
    let by = current.author.map_or(String::new(), |a| format!(" by {a}"));
    let why = current.reason.map_or(String::new(), |r| format!(" ({r})"));
    Outcome::Refused {
        reason: format!(
            "made from {made_from}, but version {}{by}{why} is current at {home}, the site's home; \
             make the change again on version {}",
            current.version, current.version
        ),
    }
}

/// Whether two role lists hold the same content, whatever their order.
fn same_roles(a: &[Role], b: &[Role]) -> bool {
    let key = |roles: &[Role]| {
        let mut roles = roles.to_vec();
        roles.sort_by(|x, y| x.category.cmp(&y.category));
        roles
    };
    key(a) == key(b)
}

/// The next hybrid-logical-clock value after `last` (the largest this data
/// centre has made or seen) at wall-clock `now_ms`: the wall clock when it is
/// ahead, else one tick past `last`, so stamps grow even when clocks disagree.
pub fn next_hlc(now_ms: i64, last: i64) -> i64 {
    (now_ms << 16).max(last + 1)
}

/// Data-centre names: what certificates, logs and URLs carry.
pub fn check_data_centre_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if valid { Ok(()) } else { Err(format!("`{name}` is not a data-centre name (letters, digits, `-`, `_`, `.`)")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Component, PackageRef};

    fn role(category: &str, value: &str) -> Role {
        let package = PackageRef {
            name: "web".into(),
            version: "1".into(),
            format: "deb".into(),
            sha256: "0".repeat(64),
            size: 1,
            storage_key: String::new(),
        };
        let parameters = vec![("greeting".to_owned(), value.to_owned())];
        let component = Component { name: "web".into(), package, config: None, plugin: None, parameters };
        Role { category: category.into(), name: "web".into(), components: vec![component] }
    }

    #[test]
    fn a_proposal_from_the_current_version_is_accepted_as_the_next() {
        let (now, edit) = ([role("APP", "hello")], [role("APP", "bonjour")]);
        let current = Current { version: 4, author: Some("alice"), reason: None, roles: &now };
        assert_eq!(decide("dc-a", Some(4), &edit, Some(current)), Outcome::Accepted { version: 5 });
        assert_eq!(decide("dc-a", None, &edit, None), Outcome::Accepted { version: 1 });
    }

    #[test]
    fn a_proposal_from_an_older_version_is_refused_naming_what_came_first() {
        let (now, edit) = ([role("APP", "hallo")], [role("APP", "bonjour")]);
        let current = Current { version: 5, author: Some("alice"), reason: Some("German"), roles: &now };
        let Outcome::Refused { reason } = decide("dc-a", Some(4), &edit, Some(current)) else { panic!() };
        assert!(reason.contains("made from version 4, but version 5 by alice (German) is current at dc-a"), "{reason}");
    }

    #[test]
    fn a_proposal_of_the_current_content_changes_nothing() {
        let now = [role("OS", "x"), role("APP", "hello")];
        let edit = [role("APP", "hello"), role("OS", "x")];
        let current = Current { version: 5, author: None, reason: None, roles: &now };
        assert_eq!(decide("dc-a", Some(2), &edit, Some(current)), Outcome::Unchanged { version: 5 });
    }

    #[test]
    fn the_clock_follows_the_wall_clock_and_never_goes_back() {
        assert_eq!(next_hlc(10, 0), 10 << 16);
        assert_eq!(next_hlc(10, (10 << 16) + 3), (10 << 16) + 4);
        assert_eq!(next_hlc(9, 10 << 16), (10 << 16) + 1);
    }

    #[test]
    fn entries_survive_their_json_form() {
        let entry = Entry {
            origin: "dc-b".into(),
            seq: 7,
            hlc: 1 << 20,
            site: "shop".into(),
            model: "web".into(),
            body: Body::Decision {
                proposal: ProposalRef { origin: "dc-b".into(), seq: 6 },
                outcome: Outcome::Refused { reason: "late".into() },
            },
        };
        let text = serde_json::to_string(&entry).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), entry);
        assert!(check_data_centre_name("dc-a").is_ok() && check_data_centre_name("dc a").is_err());
    }
}
