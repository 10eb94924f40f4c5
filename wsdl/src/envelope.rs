//! The SOAP 1.1 envelope codec: one `Body` type that can hold any message of the
//! agent protocol or a Fault, plus encode/decode helpers and the typed fault codes.
//!
//! **Invariant:** decoding never trusts yaserde's silence. A body with no known
//! operation, more than one, or a missing required field is an error with a
//! stable [`FaultCode`], never a half-empty message.

use crate::inventory::{ReportInventory, ReportInventoryResponse};
use crate::messages::*;
use yaserde::{YaDeserialize, YaSerialize};

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Envelope",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "o" = "urn:outfit:agent:1" }
)]
pub struct Envelope {
    #[yaserde(rename = "Body", prefix = "soapenv")]
    pub body: Body,
}

/// Every element that may appear in a Body of this protocol.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Body",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "o" = "urn:outfit:agent:1" }
)]
pub struct Body {
    #[yaserde(rename = "Enrol", prefix = "o")]
    pub enrol: Option<Enrol>,
    #[yaserde(rename = "EnrolResponse", prefix = "o")]
    pub enrol_response: Option<EnrolResponse>,
    #[yaserde(rename = "Renew", prefix = "o")]
    pub renew: Option<Renew>,
    #[yaserde(rename = "RenewResponse", prefix = "o")]
    pub renew_response: Option<RenewResponse>,
    #[yaserde(rename = "Authorise", prefix = "o")]
    pub authorise: Option<Authorise>,
    #[yaserde(rename = "AuthoriseResponse", prefix = "o")]
    pub authorise_response: Option<AuthoriseResponse>,
    #[yaserde(rename = "Hello", prefix = "o")]
    pub hello: Option<Hello>,
    #[yaserde(rename = "HelloResponse", prefix = "o")]
    pub hello_response: Option<HelloResponse>,
    #[yaserde(rename = "NextCommand", prefix = "o")]
    pub next_command: Option<NextCommand>,
    #[yaserde(rename = "NextCommandResponse", prefix = "o")]
    pub next_command_response: Option<NextCommandResponse>,
    #[yaserde(rename = "ReportResult", prefix = "o")]
    pub report_result: Option<ReportResult>,
    #[yaserde(rename = "ReportResultResponse", prefix = "o")]
    pub report_result_response: Option<ReportResultResponse>,
    #[yaserde(rename = "Poke", prefix = "o")]
    pub poke: Option<Poke>,
    #[yaserde(rename = "LocatePackage", prefix = "o")]
    pub locate_package: Option<LocatePackage>,
    #[yaserde(rename = "LocatePackageResponse", prefix = "o")]
    pub locate_package_response: Option<LocatePackageResponse>,
    #[yaserde(rename = "ReportInventory", prefix = "o")]
    pub report_inventory: Option<ReportInventory>,
    #[yaserde(rename = "ReportInventoryResponse", prefix = "o")]
    pub report_inventory_response: Option<ReportInventoryResponse>,
    #[yaserde(rename = "PokeResponse", prefix = "o")]
    pub poke_response: Option<PokeResponse>,
    #[yaserde(rename = "Fault", prefix = "soapenv")]
    pub fault: Option<Fault>,
}

/// A SOAP 1.1 Fault. `faultcode` is `soapenv:Client` (the caller must change the
/// request) or `soapenv:Server`; the stable Outfit code is in `detail`.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Fault",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "o" = "urn:outfit:agent:1" }
)]
pub struct Fault {
    pub faultcode: String,
    pub faultstring: String,
    pub detail: Option<FaultDetailHolder>,
}

/// A Fault a client received, by its stable code (`Internal` when it has none).
impl From<Fault> for SoapFault {
    fn from(fault: Fault) -> Self {
        let code = fault.detail.as_ref().and_then(|d| FaultCode::parse(&d.detail.code)).unwrap_or(FaultCode::Internal);
        SoapFault::new(code, fault.faultstring)
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "detail", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct FaultDetailHolder {
    #[yaserde(rename = "FaultDetail", prefix = "o")]
    pub detail: FaultDetail,
}

/// Stable fault codes: clients branch on these, so a code is never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// The request is not a well-formed SOAP 1.1 envelope.
    MalformedEnvelope,
    /// The Body holds no operation this endpoint serves (or more than one).
    UnknownOperation,
    /// A required element is missing or empty.
    MissingField,
    /// The device named in the request is not registered.
    UnknownDevice,
    /// The command id in a report is not one this device was given.
    UnknownCommand,
    /// The request is larger than the endpoint accepts.
    TooLarge,
    /// The request carries a document type declaration (DTD). None is ever
    /// needed; refusing them all rules out external entities and entity bombs.
    DoctypeRefused,
    /// Elements nest deeper than any message of the contract does.
    TooDeep,
    /// The operation needs a valid client certificate (none was presented,
    /// or it is revoked, expired or unknown).
    Unauthenticated,
    /// The client certificate belongs to another device than the one the
    /// request speaks for.
    Forbidden,
    /// The enrolment token is unknown, already used, expired, or bound to
    /// another site or device; the message says which.
    TokenRefused,
    /// The certificate signing request cannot be parsed or its signature is wrong.
    BadCsr,
    /// An enrolment without a token cannot wait for approval (unknown
    /// device, too many requests waiting) or was rejected by an operator.
    EnrolmentRefused,
    /// The request contradicts what is stored (it exists already, the
    /// queue is not halted, …).
    Conflict,
    /// An operator request names a site, model, role category or component
    /// that does not exist.
    UnknownObject,
    /// An operator request cannot be carried out as asked; the message says why.
    Invalid,
    /// The device asked for a package that is no component of its model.
    NotEntitled,
    /// Something failed inside the gateway; details are in its log only.
    Internal,
}

impl FaultCode {
    pub const ALL: [FaultCode; 18] = [
        Self::MalformedEnvelope,
        Self::UnknownOperation,
        Self::MissingField,
        Self::UnknownDevice,
        Self::UnknownCommand,
        Self::TooLarge,
        Self::DoctypeRefused,
        Self::TooDeep,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::TokenRefused,
        Self::BadCsr,
        Self::EnrolmentRefused,
        Self::Conflict,
        Self::UnknownObject,
        Self::Invalid,
        Self::NotEntitled,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedEnvelope => "MalformedEnvelope",
            Self::UnknownOperation => "UnknownOperation",
            Self::MissingField => "MissingField",
            Self::UnknownDevice => "UnknownDevice",
            Self::UnknownCommand => "UnknownCommand",
            Self::TooLarge => "TooLarge",
            Self::DoctypeRefused => "DoctypeRefused",
            Self::TooDeep => "TooDeep",
            Self::Unauthenticated => "Unauthenticated",
            Self::Forbidden => "Forbidden",
            Self::TokenRefused => "TokenRefused",
            Self::BadCsr => "BadCsr",
            Self::EnrolmentRefused => "EnrolmentRefused",
            Self::Conflict => "Conflict",
            Self::UnknownObject => "UnknownObject",
            Self::Invalid => "Invalid",
            Self::NotEntitled => "NotEntitled",
            Self::Internal => "Internal",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// Whether the caller (rather than the server) must change something.
    pub fn is_client(self) -> bool {
        !matches!(self, Self::Internal)
    }
}

/// A fault ready to be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct SoapFault {
    pub code: FaultCode,
    pub message: String,
}

impl SoapFault {
    pub fn new(code: FaultCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub(crate) fn missing(field: &str) -> Self {
        Self::new(FaultCode::MissingField, format!("required element `{field}` is missing or empty"))
    }
}

/// A request as the gateway's agent endpoint sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayRequest {
    Enrol(Enrol),
    Renew(Renew),
    Authorise(Authorise),
    Hello(Hello),
    NextCommand(NextCommand),
    ReportResult(ReportResult),
    LocatePackage(LocatePackage),
    ReportInventory(ReportInventory),
}

impl GatewayRequest {
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Enrol(_) => "Enrol",
            Self::Renew(_) => "Renew",
            Self::Authorise(_) => "Authorise",
            Self::Hello(_) => "Hello",
            Self::NextCommand(_) => "NextCommand",
            Self::ReportResult(_) => "ReportResult",
            Self::LocatePackage(_) => "LocatePackage",
            Self::ReportInventory(_) => "ReportInventory",
        }
    }

    /// The device the request speaks for.
    pub fn device(&self) -> &str {
        match self {
            Self::Enrol(m) => &m.device,
            Self::Renew(m) => &m.device,
            Self::Authorise(m) => &m.device,
            Self::Hello(m) => &m.device,
            Self::NextCommand(m) => &m.device,
            Self::ReportResult(m) => &m.device,
            Self::LocatePackage(m) => &m.device,
            Self::ReportInventory(m) => &m.device,
        }
    }
}

/// A response the gateway sends (and the agent decodes).
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayResponse {
    Enrol(EnrolResponse),
    Renew(RenewResponse),
    Authorise(AuthoriseResponse),
    Hello(HelloResponse),
    NextCommand(NextCommandResponse),
    ReportResult(ReportResultResponse),
    LocatePackage(LocatePackageResponse),
    ReportInventory(ReportInventoryResponse),
}

fn parse_envelope(xml: &[u8]) -> Result<Envelope, SoapFault> {
    parse_document(xml)
}

/// Screens and decodes a SOAP envelope into `T` (this protocol's envelope or
/// the operator service's, see `operator.rs`).
pub(crate) fn parse_document<T: YaDeserialize>(xml: &[u8]) -> Result<T, SoapFault> {
    let text = std::str::from_utf8(xml)
        .map_err(|_| SoapFault::new(FaultCode::MalformedEnvelope, "request body is not UTF-8"))?;
    // yaserde accepts a document whose root is not a SOAP Envelope and
    // returns defaults, so the root is checked first.
    screen(text)?;
    yaserde::de::from_str::<T>(text).map_err(|e| {
        let message = e.to_string();
        // yaserde reports an absent non-optional element this way.
        if message.contains("is a required field") {
            SoapFault::new(FaultCode::MissingField, message)
        } else {
            SoapFault::new(FaultCode::MalformedEnvelope, format!("request is not well-formed XML: {message}"))
        }
    })
}

/// Elements may nest this deep; the contract's deepest message needs 6.
pub const MAX_DEPTH: usize = 32;

/// Reads the whole document once with a streaming XML reader before yaserde
/// builds anything: refuses any DTD (so no external entity is ever resolved
/// and no entity bomb expanded), nesting deeper than [`MAX_DEPTH`], a second
/// root, and any root other than a SOAP 1.1 `Envelope` (yaserde would accept
/// any root and return defaults). Memory stays bounded by the body cap: the
/// reader keeps only the open elements' names. quick-xml rather than a
/// second xml-rs pass: it reads these envelopes several times faster, and this
/// runs on every exchange of both sides (yaserde's own pass still checks the
/// rest of well-formedness).
fn screen(text: &str) -> Result<(), SoapFault> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let malformed = |e: &dyn std::fmt::Display| {
        SoapFault::new(FaultCode::MalformedEnvelope, format!("request is not well-formed XML: {e}"))
    };
    let mut reader = quick_xml::NsReader::from_str(text);
    let (mut depth, mut rooted) = (0usize, false);
    loop {
        let (namespace, element, opens) = match reader.read_resolved_event().map_err(|e| malformed(&e))? {
            (_, Event::DocType(_)) => {
                return Err(SoapFault::new(FaultCode::DoctypeRefused, "document type declarations are not accepted"));
            }
            (_, Event::End(_)) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            (_, Event::Eof) => return Ok(()),
            (namespace, Event::Start(e)) => (namespace, e, true),
            (namespace, Event::Empty(e)) => (namespace, e, false),
            _ => continue,
        };
        if depth == 0 {
            if std::mem::replace(&mut rooted, true) {
                return Err(malformed(&"more than one root element"));
            }
            let envelope = element.local_name().as_ref() == b"Envelope"
                && matches!(namespace, ResolveResult::Bound(ns) if ns.as_ref() == crate::SOAP_ENV.as_bytes());
            if !envelope {
                return Err(SoapFault::new(
                    FaultCode::MalformedEnvelope,
                    "request is not a SOAP 1.1 Envelope (namespace http://schemas.xmlsoap.org/soap/envelope/)",
                ));
            }
        }
        if depth + 1 > MAX_DEPTH {
            return Err(SoapFault::new(FaultCode::TooDeep, format!("elements nest deeper than {MAX_DEPTH} levels")));
        }
        if opens {
            depth += 1;
        }
    }
}

pub(crate) fn ensure_single(count: usize, namespace: &str) -> Result<(), SoapFault> {
    match count {
        1 => Ok(()),
        0 => Err(SoapFault::new(
            FaultCode::UnknownOperation,
            format!("the SOAP Body holds no operation of namespace {namespace} served here"),
        )),
        _ => Err(SoapFault::new(FaultCode::UnknownOperation, "the SOAP Body holds more than one operation")),
    }
}

/// Decodes a request to the gateway's agent endpoint.
pub fn decode_gateway_request(xml: &[u8]) -> Result<GatewayRequest, SoapFault> {
    let body = parse_envelope(xml)?.body;
    let found = [
        body.enrol.is_some(),
        body.renew.is_some(),
        body.authorise.is_some(),
        body.hello.is_some(),
        body.next_command.is_some(),
        body.report_result.is_some(),
        body.locate_package.is_some(),
        body.report_inventory.is_some(),
    ];
    ensure_single(found.iter().filter(|f| **f).count(), crate::NS)?;
    let request = if let Some(m) = body.enrol {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::Enrol(m)
    } else if let Some(m) = body.renew {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::Renew(m)
    } else if let Some(m) = body.authorise {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::Authorise(m)
    } else if let Some(m) = body.hello {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::Hello(m)
    } else if let Some(m) = body.next_command {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::NextCommand(m)
    } else if let Some(m) = body.report_result {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::ReportResult(m)
    } else if let Some(m) = body.locate_package {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::LocatePackage(m)
    } else if let Some(m) = body.report_inventory {
        m.validate().map_err(SoapFault::missing)?;
        GatewayRequest::ReportInventory(m)
    } else {
        unreachable!("ensure_single checked that one operation is present")
    };
    Ok(request)
}

/// Decodes a request to the agent's poke endpoint.
pub fn decode_poke(xml: &[u8]) -> Result<Poke, SoapFault> {
    let body = parse_envelope(xml)?;
    let poke =
        body.body.poke.ok_or_else(|| SoapFault::new(FaultCode::UnknownOperation, "the SOAP Body holds no Poke"))?;
    poke.validate().map_err(SoapFault::missing)?;
    Ok(poke)
}

/// An answer decoded by a client: the expected response or the server's fault.
#[derive(Debug)]
pub enum Answer<T> {
    Ok(T),
    Fault(SoapFault),
}

/// Decodes any response envelope; a Fault becomes `Answer::Fault`.
pub fn decode_answer<T>(xml: &[u8], pick: impl FnOnce(Body) -> Option<T>) -> Result<Answer<T>, SoapFault> {
    let body = parse_envelope(xml)?.body;
    if let Some(fault) = body.fault {
        return Ok(Answer::Fault(fault.into()));
    }
    pick(body)
        .map(Answer::Ok)
        .ok_or_else(|| SoapFault::new(FaultCode::UnknownOperation, "the response Body holds no expected element"))
}

/// Wraps a body in an envelope and serializes it.
pub fn encode(body: Body) -> String {
    yaserde::ser::to_string(&Envelope { body }).expect("serializing an in-memory envelope cannot fail")
}

pub fn encode_fault(fault: &SoapFault) -> String {
    let side = if fault.code.is_client() { "Client" } else { "Server" };
    encode(Body {
        fault: Some(Fault {
            faultcode: format!("soapenv:{side}"),
            faultstring: fault.message.clone(),
            detail: Some(FaultDetailHolder { detail: FaultDetail { code: fault.code.as_str().to_owned() } }),
        }),
        ..Body::default()
    })
}

impl GatewayRequest {
    pub fn encode(self) -> String {
        let mut body = Body::default();
        match self {
            Self::Enrol(m) => body.enrol = Some(m),
            Self::Renew(m) => body.renew = Some(m),
            Self::Authorise(m) => body.authorise = Some(m),
            Self::Hello(m) => body.hello = Some(m),
            Self::NextCommand(m) => body.next_command = Some(m),
            Self::ReportResult(m) => body.report_result = Some(m),
            Self::LocatePackage(m) => body.locate_package = Some(m),
            Self::ReportInventory(m) => body.report_inventory = Some(m),
        }
        encode(body)
    }
}

impl GatewayResponse {
    pub fn encode(self) -> String {
        let mut body = Body::default();
        match self {
            Self::Enrol(m) => body.enrol_response = Some(m),
            Self::Renew(m) => body.renew_response = Some(m),
            Self::Authorise(m) => body.authorise_response = Some(m),
            Self::Hello(m) => body.hello_response = Some(m),
            Self::NextCommand(m) => body.next_command_response = Some(m),
            Self::ReportResult(m) => body.report_result_response = Some(m),
            Self::LocatePackage(m) => body.locate_package_response = Some(m),
            Self::ReportInventory(m) => body.report_inventory_response = Some(m),
        }
        encode(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let hello = Hello {
            device: "web-1".into(),
            boot_id: "b1".into(),
            agent_version: "0.1.0".into(),
            poke_url: Some("https://127.0.0.1:1/soap/poke".into()),
            platform: Some("linux-x86_64".into()),
            plugins: vec![crate::messages::PluginReport {
                name: "files".into(),
                version: "0.1.0".into(),
                world: "outfit:plugin/os-plugin@1.1.0".into(),
                formats: vec![],
                changes: vec!["configure".into()],
            }],
            precompiled_only: Some("x86_64-unknown-linux-gnu".into()),
        };
        let xml = GatewayRequest::Hello(hello.clone()).encode();
        assert_eq!(decode_gateway_request(xml.as_bytes()).unwrap(), GatewayRequest::Hello(hello));
    }

    #[test]
    fn fault_round_trips_with_its_code() {
        let xml = encode_fault(&SoapFault::new(FaultCode::UnknownDevice, "no device `x`"));
        match decode_answer(xml.as_bytes(), |b| b.hello_response).unwrap() {
            Answer::Fault(f) => {
                assert_eq!(f.code, FaultCode::UnknownDevice);
                assert_eq!(f.message, "no device `x`");
            }
            Answer::Ok(_) => panic!("expected a fault"),
        }
    }

    #[test]
    fn refuses_non_soap_and_empty_bodies() {
        let not_xml = decode_gateway_request(b"hello").unwrap_err();
        assert_eq!(not_xml.code, FaultCode::MalformedEnvelope);
        let wrong_ns = br#"<Envelope xmlns="urn:nope"><Body/></Envelope>"#;
        assert_eq!(decode_gateway_request(wrong_ns).unwrap_err().code, FaultCode::MalformedEnvelope);
        let empty = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
        assert_eq!(decode_gateway_request(empty).unwrap_err().code, FaultCode::UnknownOperation);
    }

    /// Hostile documents: each is refused before yaserde sees it, with its own code.
    #[test]
    fn refuses_dtds_entity_bombs_and_deep_nesting() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:outfit:agent:1"><s:Body>
<o:NextCommand><o:device>&x;</o:device></o:NextCommand></s:Body></s:Envelope>"#;
        let refused = decode_gateway_request(xxe.as_bytes()).unwrap_err();
        assert_eq!(refused.code, FaultCode::DoctypeRefused, "{}", refused.message);
        assert!(!refused.message.contains("root:"), "no file content in the answer");

        let mut laughs = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">"#);
        for i in 1..10 {
            laughs.push_str(&format!(r#"<!ENTITY l{i} "{}">"#, format!("&l{};", i - 1).repeat(10)));
        }
        laughs.push_str(
            r#"]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&l9;</s:Body></s:Envelope>"#,
        );
        assert_eq!(decode_gateway_request(laughs.as_bytes()).unwrap_err().code, FaultCode::DoctypeRefused);

        let deep = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}{}</s:Body></s:Envelope>"#,
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        assert_eq!(decode_gateway_request(deep.as_bytes()).unwrap_err().code, FaultCode::TooDeep);
        // Just inside the limit still decodes as far as the operation check.
        let nested = |n: usize| {
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}{}</s:Body></s:Envelope>"#,
                "<a>".repeat(n),
                "</a>".repeat(n)
            )
        };
        assert_eq!(
            decode_gateway_request(nested(MAX_DEPTH - 2).as_bytes()).unwrap_err().code,
            FaultCode::UnknownOperation
        );
        assert_eq!(decode_gateway_request(nested(MAX_DEPTH - 1).as_bytes()).unwrap_err().code, FaultCode::TooDeep);

        // A declaration without an internal subset is refused too (some parsers let it through).
        let bare = r#"<?xml version="1.0"?><!DOCTYPE s:Envelope><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
        assert_eq!(decode_gateway_request(bare.as_bytes()).unwrap_err().code, FaultCode::DoctypeRefused);

        let two_roots = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope><x/>"#;
        assert_eq!(decode_gateway_request(two_roots.as_bytes()).unwrap_err().code, FaultCode::MalformedEnvelope);
    }

    #[test]
    fn names_the_missing_field() {
        let xml = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <o:ReportResult xmlns:o="urn:outfit:agent:1"><o:device>d</o:device><o:commandId>7</o:commandId>
            <o:message>m</o:message></o:ReportResult></s:Body></s:Envelope>"#;
        let fault = decode_gateway_request(xml).unwrap_err();
        assert_eq!(fault.code, FaultCode::MissingField);
        assert!(fault.message.contains("outcome"), "{}", fault.message);
    }
}
