//! The SOAP edges: the agent, operator, peer and file-server endpoints. Each
//! operation decodes, calls one use case of `outfit-app`, and encodes; every
//! Fault is built here, from the use case's refusal kind, in one mapping.
//!
//! **Boundary:** SOAP types stop here; database or TLS error text never
//! reaches the wire (it goes to the log).

pub mod agent;
pub(crate) mod content;
pub mod file_server;
mod inventory;
pub mod operator;
pub mod peer;

use outfit_app::Failure;
use outfit_wsdl::envelope::{FaultCode, SoapFault, encode_fault};

/// The Fault for a use case's failure: a refusal keeps its code and message;
/// a failure inside the gateway says only that (the cause is in the log).
pub fn fault(failure: &Failure) -> SoapFault {
    match failure {
        Failure::Refused(r) => {
            let code = FaultCode::parse(r.kind.code()).expect("every refusal kind has a fault code");
            SoapFault::new(code, r.message.clone())
        }
        Failure::Internal(_) => internal(),
    }
}

/// What a caller learns of a failure inside the gateway.
pub fn internal() -> SoapFault {
    SoapFault::new(FaultCode::Internal, "the gateway could not complete the request; see its log")
}

/// A SOAP request answered: the envelope, and what the metrics count of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub envelope: String,
    /// The operation asked for (`invalid`: none could be decoded).
    pub operation: &'static str,
    /// The Fault's code, when the answer is one.
    pub fault: Option<&'static str>,
}

impl Answered {
    pub fn ok(operation: &'static str, envelope: String) -> Self {
        Self { envelope, operation, fault: None }
    }

    /// A Fault the caller already logged (or audited).
    pub fn fault(operation: &'static str, fault: &SoapFault) -> Self {
        Self { envelope: encode_fault(fault), operation, fault: Some(fault.code.as_str()) }
    }
}

/// Encodes a fault, saying so in the log.
pub fn respond_fault(operation: &'static str, fault: &SoapFault) -> Answered {
    tracing::info!(operation, code = fault.code.as_str(), reason = %fault.message, "answered with a fault");
    Answered::fault(operation, fault)
}

#[cfg(test)]
mod tests {
    use outfit_app::RefusalKind;
    use outfit_wsdl::envelope::FaultCode;

    #[test]
    fn every_refusal_kind_has_a_client_fault_code() {
        for kind in RefusalKind::ALL {
            let code = FaultCode::parse(kind.code()).unwrap_or_else(|| panic!("{kind:?} has no fault code"));
            assert!(code.is_client(), "{kind:?}");
        }
    }
}
