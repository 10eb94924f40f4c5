//! How a use case fails: a refusal the caller can act on (with a kind that
//! the SOAP edge turns into one Fault code and the CLI into one exit code),
//! or a failure inside the gateway, whose cause goes to the log only.

use outfit_store::StorageError;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// No valid credentials or certificate.
    Unauthenticated,
    /// Authenticated, but no right (or a device acting for another).
    Forbidden,
    /// What the request names does not exist.
    NotFound,
    /// The request contradicts what is stored (exists already, not halted …).
    Conflict,
    /// The request is malformed or impossible as given.
    Invalid,
    /// A command id the device was not handed.
    UnknownCommand,
    /// An unusable certificate signing request.
    BadCsr,
    /// An enrolment token that is unknown, spent, expired or for another device.
    TokenRefused,
    /// An enrolment request that cannot wait, or was rejected.
    EnrolmentRefused,
    /// A package outside the device's model.
    NotEntitled,
}

impl RefusalKind {
    pub const ALL: [RefusalKind; 10] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::Invalid,
        Self::UnknownCommand,
        Self::BadCsr,
        Self::TokenRefused,
        Self::EnrolmentRefused,
        Self::NotEntitled,
    ];

    /// The stable code the wire and the audit log use.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unauthenticated => "Unauthenticated",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "UnknownObject",
            Self::Conflict => "Conflict",
            Self::Invalid => "Invalid",
            Self::UnknownCommand => "UnknownCommand",
            Self::BadCsr => "BadCsr",
            Self::TokenRefused => "TokenRefused",
            Self::EnrolmentRefused => "EnrolmentRefused",
            Self::NotEntitled => "NotEntitled",
        }
    }
}

/// A refusal with what to tell the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        Self::new(RefusalKind::NotFound, format!("no {what} `{name}`"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Invalid, message)
    }
}

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Inside the gateway (database, files, the CA); the text is for the log.
    #[error("{0}")]
    Internal(String),
}

impl Failure {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// The refusal, if it is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            Self::Internal(_) => None,
        }
    }
}

/// What the caller named does not exist, or breaks a rule of the store:
/// theirs to fix. Anything else is the gateway's.
impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound { what, name } => Refusal::not_found(what, &name).into(),
            StorageError::Invalid(message) => Refusal::invalid(message).into(),
            StorageError::Exists(message) => Refusal::new(RefusalKind::Conflict, message).into(),
            other => Self::internal(other),
        }
    }
}
