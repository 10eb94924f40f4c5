//! The SOAP edges: the agent endpoint and the operator endpoint. Each
//! operation decodes, calls one use case of `outfit-app`, and encodes; every
//! Fault is built here, from the use case's refusal kind, in one mapping.
//!
//! **Boundary:** SOAP types stop here; database or TLS error text never
//! reaches the wire (it goes to the log).

pub mod agent;
mod inventory;
pub mod operator;

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

/// Encodes a fault, saying so in the log.
pub fn respond_fault(operation: &str, fault: &SoapFault) -> String {
    tracing::info!(operation, code = fault.code.as_str(), reason = %fault.message, "answered with a fault");
    encode_fault(fault)
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
