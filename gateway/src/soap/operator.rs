//! The operator endpoint: SOAP services for people and enterprise systems, on
//! a listener of their own (apart from the agent endpoint). Every operation
//! takes the same steps: decode → authenticate (an operator client
//! certificate, or a WS-Security UsernameToken) → one use case of
//! `outfit-app` (which authorises, acts and audits) → encode. A request
//! refused before any use case runs (undecodable, unauthenticated) is audited
//! here.

use super::{fault, respond_fault};
use outfit_app::audit::RefusedRequest;
use outfit_app::operators::Credentials;
use outfit_app::{Failure, RefusalKind, Services};
use outfit_domain::model::ParameterChange;
use outfit_domain::rights::{Caller, Principal};
use outfit_wsdl::envelope::{SoapFault, encode_fault};
use outfit_wsdl::operator::{
    OperatorRequest, OperatorResponse, ProvisionResponse, SetParameter, SetParameterResponse, decode_operator_request,
    encode_response,
};

/// Serves the operator operations for one gateway process.
#[derive(Debug, Clone)]
pub struct OperatorEndpoint {
    pub services: Services,
}

impl OperatorEndpoint {
    /// Handles one request body from `peer`, who presented `certificate`
    /// (DER) or none; returns the response envelope and whether it is a
    /// fault. Blocking (argon2, database): run it off the async threads.
    pub fn handle(&self, peer: &str, certificate: Option<&[u8]>, body: &[u8]) -> (String, bool) {
        let (request, credentials) = match decode_operator_request(body) {
            Ok(decoded) => decoded,
            Err(fault) => {
                let code = fault.code.as_str();
                let request = RefusedRequest {
                    claimed: "-",
                    operation: "invalid",
                    site: None,
                    object: "-",
                    from: peer,
                    code,
                    message: "",
                };
                self.services.audit_refused_request(&request);
                return (encode_fault(&fault), true);
            }
        };
        let operation = request.operation();
        let (site, object) = match &request {
            OperatorRequest::SetParameter(m) => {
                (m.site.clone(), format!("{}/{} {}.{}", m.model, m.category, m.component, m.name))
            }
            OperatorRequest::Provision(m) => (m.site.clone(), m.device.clone()),
        };
        let claimed = credentials.as_ref().map_or("-".to_owned(), |c| c.username.clone());
        let span = tracing::info_span!("operator", operation, principal = tracing::field::Empty, site = %site);
        let _entered = span.enter();
        let password = credentials.as_ref().ok().map(|c| (c.username.as_str(), c.password.as_str()));
        let principal = match self.services.authenticate(Credentials { certificate, password }) {
            Ok(principal) => principal,
            Err(failure) => {
                let fault = match (&failure, credentials) {
                    // No operator certificate: why the UsernameToken would not do.
                    (Failure::Refused(r), Err(decoded)) if r.kind == RefusalKind::Unauthenticated => decoded,
                    _ => fault(&failure),
                };
                tracing::warn!(code = fault.code.as_str(), message = %fault.message, "operator request refused");
                let code = fault.code.as_str();
                let (site, message) = (Some(site.as_str()), fault.message.as_str());
                let request =
                    RefusedRequest { claimed: &claimed, operation, site, object: &object, from: peer, code, message };
                self.services.audit_refused_request(&request);
                return (encode_fault(&fault), true);
            }
        };
        if let Principal::Operator { name, .. } = &principal {
            span.record("principal", name.as_str());
        }
        let caller = Caller { principal, from: peer.to_owned() };
        match self.serve(&caller, request) {
            Ok(response) => (encode_response(response), false),
            Err(fault) => (respond_fault(operation, &fault), true),
        }
    }

    fn serve(&self, caller: &Caller, request: OperatorRequest) -> Result<OperatorResponse, SoapFault> {
        let refused = |f: Failure| fault(&f);
        match request {
            OperatorRequest::SetParameter(m) => {
                let imported = self.services.set_parameter(caller, &change(m)).map_err(refused)?;
                let response = SetParameterResponse { model_version: imported.version, created: imported.created };
                Ok(OperatorResponse::SetParameter(response))
            }
            OperatorRequest::Provision(m) => {
                let queued = self.services.provision(caller, Some(&m.site), &m.device, None).map_err(refused)?;
                Ok(OperatorResponse::Provision(ProvisionResponse { commands: queued.commands as i32 }))
            }
        }
    }
}

fn change(m: SetParameter) -> ParameterChange {
    ParameterChange {
        site: m.site,
        model: m.model,
        category: m.category,
        component: m.component,
        name: m.name,
        value: m.value,
    }
}
