//! Who acts, and what they may do: the trust hierarchy's decision, without I/O.
//!
//! **Invariant:** nothing is allowed to an operator without a right, held by
//! the operator or by a group they belong to; a right with no site covers
//! every site, one with no category every category. The local administrator
//! (a shell on the gateway host, which owns the database anyway) may do
//! everything; a device only what concerns itself.

use crate::ids::{DeviceId, OperatorId};

/// What an operator may do with a role category of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See models, devices, queues and the audit log.
    Read,
    /// Make new model versions (a role's parameters, its components).
    Change,
    /// Roll a model version out to devices (provision, scripts, reboots),
    /// register devices and decide their enrolment.
    Deploy,
    /// Manage operators, groups, rights and operator certificates (held for
    /// every site and category by the first administrator).
    Admin,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Read, Action::Change, Action::Deploy, Action::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Change => "change",
            Self::Deploy => "deploy",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Who holds a right: an operator, or a group (for each of its members).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    Operator(&'a str),
    Group(&'a str),
}

impl std::fmt::Display for Holder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Operator(name) => write!(f, "operator {name}"),
            Self::Group(name) => write!(f, "group {name}"),
        }
    }
}

/// One right: an action on a site's role categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Right {
    pub action: Action,
    /// `None`: every site.
    pub site: Option<String>,
    /// `None`: every role category.
    pub category: Option<String>,
}

impl Right {
    /// `deploy CONTENT roles of site shop`, `read all roles of every site`.
    pub fn describe(&self) -> String {
        let site = self.site.as_ref().map_or("every site".to_owned(), |s| format!("site {s}"));
        format!("{} {} roles of {site}", self.action.as_str(), self.category.as_deref().unwrap_or("all"))
    }
}

/// What of a site an action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The roles of one category (a parameter of a CONTENT role).
    Category(&'a str),
    /// Everything on the site, whatever its category (a script, a plug-in, a
    /// device's trust): only a right for every category covers it.
    EveryCategory,
    /// Something of the site as a whole that any right of the action there
    /// covers (a person at a device reading its status).
    SomeCategory,
}

impl std::fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Category(c) => write!(f, "{c} roles"),
            Self::EveryCategory => f.write_str("every role category"),
            Self::SomeCategory => f.write_str("any role"),
        }
    }
}

/// Everything an operator may do: their own rights and their groups'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights(pub Vec<Right>);

impl Rights {
    /// Whether `action` on `scope` of `site` is granted.
    pub fn allow(&self, site: &str, scope: Scope<'_>, action: Action) -> bool {
        self.0.iter().any(|r| {
            r.action == action
                && r.site.as_deref().is_none_or(|s| s == site)
                && match scope {
                    Scope::Category(c) => r.category.as_deref().is_none_or(|held| held == c),
                    Scope::EveryCategory => r.category.is_none(),
                    Scope::SomeCategory => true,
                }
        })
    }

    /// The sites where `action` is granted for some category; `None`: every
    /// site (a right without a site).
    pub fn sites(&self, action: Action) -> Option<Vec<String>> {
        let mut sites = Vec::new();
        for right in self.0.iter().filter(|r| r.action == action) {
            match &right.site {
                None => return None,
                Some(site) if !sites.contains(site) => sites.push(site.clone()),
                Some(_) => {}
            }
        }
        Some(sites)
    }

    /// Whether `action` is granted on some site, for some category.
    pub fn allow_somewhere(&self, action: Action) -> bool {
        self.0.iter().any(|r| r.action == action)
    }

    /// Whether `action` is granted on every site and category (what managing
    /// operators and rights needs, with [`Action::Admin`]).
    pub fn allow_everywhere(&self, action: Action) -> bool {
        self.0.iter().any(|r| r.action == action && r.site.is_none() && r.category.is_none())
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person or an enterprise system, authenticated by the operator listener.
    Operator { id: OperatorId, name: String, rights: Rights },
    /// A device's agent, authenticated by its client certificate.
    Device { id: DeviceId, name: String },
    /// Someone with a shell on the gateway host (`outfit-gateway` subcommands).
    LocalAdministrator { user: String },
    /// Another data centre's gateway, by the certificate this one issued it:
    /// it may read the sites shared with it (their log and packages).
    Peer { name: String, sites: Vec<String> },
    /// A file server near the devices, by the certificate this gateway's CA
    /// issued it: it asks whether a device of its sites may download a
    /// package, and fetches the packages those sites use. It holds no right
    /// of the matrix: only the file-server operations serve it.
    FileServer { name: String, sites: Vec<String> },
}

impl Principal {
    /// The name the audit log records.
    pub fn name(&self) -> String {
        match self {
            Self::Operator { name, .. } => name.clone(),
            Self::Device { name, .. } => format!("device:{name}"),
            Self::LocalAdministrator { user } => format!("local:{user}"),
            Self::Peer { name, .. } => format!("peer:{name}"),
            Self::FileServer { name, .. } => format!("file-server:{name}"),
        }
    }

    /// Whether this principal may do `action` on `scope` of `site`.
    pub fn may(&self, site: &str, scope: Scope<'_>, action: Action) -> bool {
        match self {
            Self::Operator { rights, .. } => rights.allow(site, scope, action),
            Self::LocalAdministrator { .. } => true,
            // A device acts only on itself, through the agent operations.
            Self::Device { .. } | Self::FileServer { .. } => false,
            Self::Peer { sites, .. } => action == Action::Read && sites.iter().any(|s| s == site),
        }
    }

    /// The sites where this principal may do `action` on some category;
    /// `None`: every site.
    pub fn sites(&self, action: Action) -> Option<Vec<String>> {
        match self {
            Self::Operator { rights, .. } => rights.sites(action),
            Self::LocalAdministrator { .. } => None,
            Self::Device { .. } | Self::FileServer { .. } => Some(Vec::new()),
            Self::Peer { sites, .. } => Some(if action == Action::Read { sites.clone() } else { Vec::new() }),
        }
    }

    /// Whether this principal may do `action` on some site.
    pub fn may_somewhere(&self, action: Action) -> bool {
        match self {
            Self::Operator { rights, .. } => rights.allow_somewhere(action),
            Self::LocalAdministrator { .. } => true,
            Self::Device { .. } | Self::FileServer { .. } => false,
            Self::Peer { sites, .. } => action == Action::Read && !sites.is_empty(),
        }
    }

    /// Whether this principal may do `action` on every site and category.
    pub fn may_everywhere(&self, action: Action) -> bool {
        match self {
            Self::Operator { rights, .. } => rights.allow_everywhere(action),
            Self::LocalAdministrator { .. } => true,
            // A device acts only on itself, through the agent operations;
            // a peer reads only what is shared with it.
            Self::Device { .. } | Self::Peer { .. } | Self::FileServer { .. } => false,
        }
    }
}

/// A principal and the address it acts from: what every audit line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    /// `IP:port` of the connection, or `cli` for the local administrator.
    pub from: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right(action: Action, site: Option<&str>, category: Option<&str>) -> Right {
        Right { action, site: site.map(str::to_owned), category: category.map(str::to_owned) }
    }

    #[test]
    fn a_right_covers_its_site_and_category_or_all_of_them() {
        let rights =
            Rights(vec![right(Action::Change, Some("shop"), Some("CONTENT")), right(Action::Read, None, None)]);
        assert!(rights.allow("shop", Scope::Category("CONTENT"), Action::Change));
        assert!(!rights.allow("shop", Scope::Category("OS"), Action::Change));
        assert!(!rights.allow("bank", Scope::Category("CONTENT"), Action::Change));
        assert!(!rights.allow("shop", Scope::Category("CONTENT"), Action::Deploy));
        assert!(rights.allow("bank", Scope::Category("OS"), Action::Read));
        // The whole site takes a right without a category; a part of it any right.
        assert!(!rights.allow("shop", Scope::EveryCategory, Action::Change));
        assert!(rights.allow("shop", Scope::EveryCategory, Action::Read));
        assert!(rights.allow("shop", Scope::SomeCategory, Action::Change));
        assert!(!Rights::default().allow("shop", Scope::SomeCategory, Action::Read));
        assert!(rights.allow_everywhere(Action::Read) && !rights.allow_everywhere(Action::Change));
        assert_eq!((rights.sites(Action::Read), rights.sites(Action::Change)), (None, Some(vec!["shop".to_owned()])));
        assert_eq!(rights.sites(Action::Deploy), Some(vec![]));
    }

    #[test]
    fn only_operators_are_judged_by_rights() {
        let admin = Principal::LocalAdministrator { user: "root".into() };
        assert!(admin.may("any", Scope::Category("OS"), Action::Deploy) && admin.may_everywhere(Action::Admin));
        let device = Principal::Device { id: DeviceId(1), name: "web-1".into() };
        assert!(!device.may("shop", Scope::SomeCategory, Action::Read));
        assert_eq!((admin.name(), device.name()), ("local:root".to_owned(), "device:web-1".to_owned()));
        let peer = Principal::Peer { name: "dc-b".into(), sites: vec!["shop".into()] };
        assert!(
            peer.may("shop", Scope::SomeCategory, Action::Read) && !peer.may("bank", Scope::SomeCategory, Action::Read)
        );
        assert!(!peer.may("shop", Scope::Category("OS"), Action::Change) && !peer.may_everywhere(Action::Read));
        assert_eq!(peer.sites(Action::Read), Some(vec!["shop".to_owned()]));
        let files = Principal::FileServer { name: "fs1".into(), sites: vec!["shop".into()] };
        assert!(!files.may("shop", Scope::SomeCategory, Action::Read) && !files.may_somewhere(Action::Read));
        assert_eq!((files.sites(Action::Read), files.name()), (Some(vec![]), "file-server:fs1".to_owned()));
    }
}
