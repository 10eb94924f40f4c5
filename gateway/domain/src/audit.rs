//! The audit log: one line per state change or refusal, with who, what, where
//! from and when.

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub principal: String,
    pub action: String,
    pub site: Option<String>,
    pub object: String,
    /// The address the request came from (`cli` on the gateway host).
    pub peer: String,
    pub outcome: Outcome,
    pub detail: String,
    /// Unix ms.
    pub created_at: i64,
}

/// How an audited request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Refused,
    /// The gateway failed inside (the cause is in its log).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Allowed, Self::Refused, Self::Failed].into_iter().find(|o| o.as_str() == text)
    }
}

/// What audit lines to find.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub site: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub action: Option<&'a str>,
    pub outcome: Option<Outcome>,
    /// Lines whose object names this (a device, a model …) anywhere.
    pub mentions: Option<&'a str>,
}

/// The audit lines a principal may read: those of sites where they may
/// `read`, and the lines without a site only with `read` everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readable {
    /// `None`: every site.
    pub sites: Option<Vec<String>>,
    pub siteless: bool,
}

impl Readable {
    pub fn by(principal: &crate::rights::Principal) -> Self {
        use crate::rights::Action;
        Self { sites: principal.sites(Action::Read), siteless: principal.may_everywhere(Action::Read) }
    }
}
