//! Enrolment by approval: an agent without a token leaves a signing request
//! that an operator approves or rejects, once.

use crate::ids::DeviceId;

/// Where an enrolment request without a token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestState {
    /// Waiting for an operator; `new` if this ask created the request.
    Waiting {
        new: bool,
    },
    /// Approved: the certificate (PEM) for the requested key.
    Approved(String),
    Rejected {
        by: String,
    },
}

/// A request as an operator decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRequest {
    pub id: i64,
    pub device_id: DeviceId,
    pub device: String,
    pub site: String,
    /// sha256 of the requested public key; the agent prints the same.
    pub key_sha256: String,
    pub csr: String,
    /// The address the request came from.
    pub peer: String,
    pub created_at: i64,
}

/// The start of a key fingerprint, as people compare and type it.
pub fn short_key(fingerprint: &str) -> &str {
    &fingerprint[..fingerprint.len().min(16)]
}
