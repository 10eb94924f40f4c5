//! Any bytes at every decoder the network reaches (agent endpoint, poke,
//! responses, operator endpoint): no panic, no hang, and
//! every refusal is a fault with a stable code and a message. A request that
//! decodes re-encodes to one that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outfit_wsdl::envelope::{Answer, FaultCode, decode_answer, decode_gateway_request, decode_poke};
use outfit_wsdl::operator::{Credentials, decode_operator_request};

fuzz_target!(|data: &[u8]| {
    match decode_gateway_request(data) {
        Ok(request) => {
            let again = decode_gateway_request(request.clone().encode().as_bytes()).expect("re-encoded request decodes");
            assert_eq!(again, request);
        }
        Err(fault) => {
            assert!(FaultCode::ALL.contains(&fault.code));
            assert!(!fault.message.is_empty());
        }
    }
    // The operator endpoint decodes before it authenticates: the same holds there.
    match decode_operator_request(data) {
        Ok((request, _)) => {
            let credentials = Credentials { username: "fuzz".into(), password: "fuzz".into() };
            let xml = request.clone().encode(&credentials);
            let (again, claimed) = decode_operator_request(xml.as_bytes()).expect("re-encoded request decodes");
            assert_eq!(again, request);
            assert_eq!(claimed.expect("re-encoded credentials decode"), credentials);
        }
        Err(fault) => {
            assert!(FaultCode::ALL.contains(&fault.code));
            assert!(!fault.message.is_empty());
        }
    }
    let _ = decode_poke(data);
    if let Ok(Answer::Fault(fault)) = decode_answer(data, |body| body.hello_response) {
        assert!(FaultCode::ALL.contains(&fault.code));
    }
});
