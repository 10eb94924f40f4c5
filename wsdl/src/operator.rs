//! The operator services' messages (mirroring `outfit-operator.xsd`) and their
//! envelope, whose Header carries a WS-Security UsernameToken — what SOAP
//! toolkits such as zeep and suds send for username/password authentication.
//!
//! **Invariant:** as for the agent protocol, a request with no known
//! operation, or a missing field, or no UsernameToken is an error with a
//! stable fault code, never a half-empty message.

use crate::envelope::{FaultCode, SoapFault, ensure_single, parse_document};
use yaserde::{YaDeserialize, YaSerialize};

/// The WS-Security 1.0 (OASIS 2004) namespaces.
pub const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Envelope",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "op" = "urn:outfit:operator:1",
        "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    }
)]
pub struct OperatorEnvelope {
    #[yaserde(rename = "Header", prefix = "soapenv")]
    pub header: Option<Header>,
    #[yaserde(rename = "Body", prefix = "soapenv")]
    pub body: OperatorBody,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Header",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    }
)]
pub struct Header {
    #[yaserde(rename = "Security", prefix = "wsse")]
    pub security: Option<Security>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Security",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct Security {
    #[yaserde(rename = "UsernameToken", prefix = "wsse")]
    pub username_token: Option<UsernameToken>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "UsernameToken",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct UsernameToken {
    #[yaserde(rename = "Username", prefix = "wsse")]
    pub username: String,
    #[yaserde(rename = "Password", prefix = "wsse")]
    pub password: Option<Password>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Password",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct Password {
    /// `…#PasswordText` (or absent, which means the same); digests are refused.
    #[yaserde(attribute = true, rename = "Type")]
    pub kind: Option<String>,
    #[yaserde(text = true)]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Body",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "op" = "urn:outfit:operator:1" }
)]
pub struct OperatorBody {
    #[yaserde(rename = "SetParameter", prefix = "op")]
    pub set_parameter: Option<SetParameter>,
    #[yaserde(rename = "SetParameterResponse", prefix = "op")]
    pub set_parameter_response: Option<SetParameterResponse>,
    #[yaserde(rename = "Provision", prefix = "op")]
    pub provision: Option<Provision>,
    #[yaserde(rename = "ProvisionResponse", prefix = "op")]
    pub provision_response: Option<ProvisionResponse>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "SetParameter", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
pub struct SetParameter {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub category: String,
    #[yaserde(prefix = "op")]
    pub component: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub value: String,
}

impl SetParameter {
    /// Every field but `value` (which may be empty) is required.
    pub fn validate(&self) -> Result<(), &'static str> {
        for (value, name) in [
            (&self.site, "site"),
            (&self.model, "model"),
            (&self.category, "category"),
            (&self.component, "component"),
            (&self.name, "name"),
        ] {
            if value.trim().is_empty() {
                return Err(name);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "SetParameterResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
pub struct SetParameterResponse {
    #[yaserde(rename = "modelVersion", prefix = "op")]
    pub model_version: i32,
    #[yaserde(prefix = "op")]
    pub created: bool,
}

/// Builds one device of a site to its model's current version (queues the
/// commands and pokes the agent). Needs the `deploy` right for that site and
/// every role category of the model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Provision", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
pub struct Provision {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub device: String,
}

impl Provision {
    pub fn validate(&self) -> Result<(), &'static str> {
        for (value, name) in [(&self.site, "site"), (&self.device, "device")] {
            if value.trim().is_empty() {
                return Err(name);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "ProvisionResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
pub struct ProvisionResponse {
    /// How many commands were queued.
    #[yaserde(prefix = "op")]
    pub commands: i32,
}

/// The claimed identity of an operator request (checked by the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// An operator request as the gateway's operator endpoint sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorRequest {
    SetParameter(SetParameter),
    Provision(Provision),
}

impl OperatorRequest {
    pub fn operation(&self) -> &'static str {
        match self {
            Self::SetParameter(_) => "SetParameter",
            Self::Provision(_) => "Provision",
        }
    }
}

/// A response of the operator service.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorResponse {
    SetParameter(SetParameterResponse),
    Provision(ProvisionResponse),
}

/// Decodes an operator request. The operation is decoded even when the
/// credentials are missing, so the audit log can say what was attempted.
pub fn decode_operator_request(xml: &[u8]) -> Result<(OperatorRequest, Result<Credentials, SoapFault>), SoapFault> {
    let envelope: OperatorEnvelope = parse_document(xml)?;
    let body = envelope.body;
    let found = usize::from(body.set_parameter.is_some()) + usize::from(body.provision.is_some());
    ensure_single(found, crate::OPERATOR_NS)?;
    let request = if let Some(m) = body.set_parameter {
        m.validate().map_err(SoapFault::missing)?;
        OperatorRequest::SetParameter(m)
    } else if let Some(m) = body.provision {
        m.validate().map_err(SoapFault::missing)?;
        OperatorRequest::Provision(m)
    } else {
        unreachable!("ensure_single checked that one operation is present")
    };
    Ok((request, credentials(envelope.header)))
}

fn credentials(header: Option<Header>) -> Result<Credentials, SoapFault> {
    let unauthenticated = |why: &str| SoapFault::new(FaultCode::Unauthenticated, why.to_owned());
    let token = header
        .and_then(|h| h.security)
        .and_then(|s| s.username_token)
        .ok_or_else(|| unauthenticated("a WS-Security UsernameToken is required in the SOAP Header"))?;
    let password = token.password.ok_or_else(|| unauthenticated("the UsernameToken has no Password"))?;
    if password.kind.as_deref().is_some_and(|kind| kind != PASSWORD_TEXT) {
        return Err(unauthenticated("only PasswordText UsernameTokens are accepted (the channel is TLS)"));
    }
    if token.username.trim().is_empty() {
        return Err(unauthenticated("the UsernameToken has no Username"));
    }
    Ok(Credentials { username: token.username.trim().to_owned(), password: password.value })
}

impl OperatorRequest {
    /// A request envelope with a PasswordText UsernameToken (what the CLI and tests send).
    pub fn encode(self, credentials: &Credentials) -> String {
        let header = Header {
            security: Some(Security {
                username_token: Some(UsernameToken {
                    username: credentials.username.clone(),
                    password: Some(Password { kind: Some(PASSWORD_TEXT.into()), value: credentials.password.clone() }),
                }),
            }),
        };
        let mut body = OperatorBody::default();
        match self {
            Self::SetParameter(m) => body.set_parameter = Some(m),
            Self::Provision(m) => body.provision = Some(m),
        }
        to_xml(&OperatorEnvelope { header: Some(header), body })
    }
}

/// A response envelope of the operator service (faults use [`crate::envelope::encode_fault`]).
pub fn encode_response(response: OperatorResponse) -> String {
    let mut body = OperatorBody::default();
    match response {
        OperatorResponse::SetParameter(m) => body.set_parameter_response = Some(m),
        OperatorResponse::Provision(m) => body.provision_response = Some(m),
    }
    to_xml(&OperatorEnvelope { header: None, body })
}

fn to_xml(envelope: &OperatorEnvelope) -> String {
    yaserde::ser::to_string(envelope).expect("serializing an in-memory envelope cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SetParameter {
        SetParameter {
            site: "x".into(),
            model: "web".into(),
            category: "CONTENT".into(),
            component: "site".into(),
            name: "greeting".into(),
            value: "hi".into(),
        }
    }

    #[test]
    fn request_and_credentials_round_trip() {
        let credentials = Credentials { username: "ann".into(), password: "s3cret <&>".into() };
        let xml = OperatorRequest::SetParameter(request()).encode(&credentials);
        let (decoded, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(decoded, OperatorRequest::SetParameter(request()));
        assert_eq!(claimed.unwrap(), credentials);
    }

    #[test]
    fn a_request_without_a_token_decodes_but_is_unauthenticated() {
        let xml = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <o:SetParameter xmlns:o="{}"><o:site>x</o:site><o:model>web</o:model><o:category>OS</o:category>
            <o:component>c</o:component><o:name>n</o:name><o:value>v</o:value></o:SetParameter></s:Body></s:Envelope>"#,
            crate::OPERATOR_NS
        );
        let (_, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(claimed.unwrap_err().code, FaultCode::Unauthenticated);
    }

    #[test]
    fn a_digest_token_and_a_missing_field_are_refused() {
        let xml = OperatorRequest::SetParameter(request())
            .encode(&Credentials { username: "ann".into(), password: "p".into() })
            .replace("#PasswordText", "#PasswordDigest");
        let (_, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(claimed.unwrap_err().code, FaultCode::Unauthenticated);
        let missing = OperatorRequest::SetParameter(SetParameter { component: String::new(), ..request() })
            .encode(&Credentials { username: "ann".into(), password: "p".into() });
        let fault = decode_operator_request(missing.as_bytes()).unwrap_err();
        assert_eq!(fault.code, FaultCode::MissingField);
        assert!(fault.message.contains("component"), "{}", fault.message);
    }
}
