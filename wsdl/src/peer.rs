//! The peer service's messages (mirroring `outfit-peer.xsd`): what one data
//! centre's gateway pulls from another's. Model content travels as the
//! operator contract's [`RoleSpec`]. The caller is authenticated by its
//! client certificate alone, so the envelope has no Header.

use crate::envelope::{Answer, FaultCode, SoapFault, ensure_single, parse_document};
pub use crate::operator::RoleSpec;
use yaserde::{YaDeserialize, YaSerialize};

/// The last entry the caller holds of one origin.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Known", prefix = "pr", namespaces = { "pr" = "urn:outfit:peer:1" })]
pub struct Known {
    #[yaserde(prefix = "pr")]
    pub origin: String,
    #[yaserde(prefix = "pr")]
    pub seq: i64,
}

/// One entry of the replicated log; its kind says which parts it has.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "LogEntry",
    prefix = "pr",
    namespaces = { "pr" = "urn:outfit:peer:1", "op" = "urn:outfit:operator:1" }
)]
pub struct LogEntry {
    #[yaserde(prefix = "pr")]
    pub origin: String,
    #[yaserde(prefix = "pr")]
    pub seq: i64,
    #[yaserde(prefix = "pr")]
    pub hlc: i64,
    #[yaserde(prefix = "pr")]
    pub site: String,
    #[yaserde(prefix = "pr")]
    pub model: String,
    /// version, proposal or decision.
    #[yaserde(prefix = "pr")]
    pub kind: String,
    #[yaserde(prefix = "pr")]
    pub version: Option<i32>,
    #[yaserde(prefix = "pr")]
    pub base: Option<i32>,
    #[yaserde(prefix = "pr")]
    pub author: Option<String>,
    #[yaserde(prefix = "pr")]
    pub reason: Option<String>,
    #[yaserde(prefix = "pr")]
    pub restores: Option<i32>,
    #[yaserde(rename = "proposalOrigin", prefix = "pr")]
    pub proposal_origin: Option<String>,
    #[yaserde(rename = "proposalSeq", prefix = "pr")]
    pub proposal_seq: Option<i64>,
    #[yaserde(prefix = "pr")]
    pub outcome: Option<String>,
    #[yaserde(rename = "outcomeVersion", prefix = "pr")]
    pub outcome_version: Option<i32>,
    #[yaserde(rename = "outcomeReason", prefix = "pr")]
    pub outcome_reason: Option<String>,
    #[yaserde(prefix = "pr")]
    pub role: Vec<RoleSpec>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "PullLog", prefix = "pr", namespaces = { "pr" = "urn:outfit:peer:1" })]
pub struct PullLog {
    #[yaserde(prefix = "pr")]
    pub known: Vec<Known>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "PullLogResponse",
    prefix = "pr",
    namespaces = { "pr" = "urn:outfit:peer:1", "op" = "urn:outfit:operator:1" }
)]
pub struct PullLogResponse {
    #[yaserde(prefix = "pr")]
    pub entry: Vec<LogEntry>,
    #[yaserde(prefix = "pr")]
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "SiteDigest", prefix = "pr", namespaces = { "pr" = "urn:outfit:peer:1" })]
pub struct SiteDigest {
    #[yaserde(prefix = "pr")]
    pub site: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "SiteDigestResponse", prefix = "pr", namespaces = { "pr" = "urn:outfit:peer:1" })]
pub struct SiteDigestResponse {
    #[yaserde(prefix = "pr")]
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Envelope",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "pr" = "urn:outfit:peer:1",
        "op" = "urn:outfit:operator:1"
    }
)]
pub struct PeerEnvelope {
    #[yaserde(rename = "Body", prefix = "soapenv")]
    pub body: PeerBody,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Body",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "pr" = "urn:outfit:peer:1",
        "op" = "urn:outfit:operator:1"
    }
)]
pub struct PeerBody {
    #[yaserde(rename = "Fault", prefix = "soapenv")]
    pub fault: Option<crate::envelope::Fault>,
    #[yaserde(rename = "PullLog", prefix = "pr")]
    pub pull_log: Option<PullLog>,
    #[yaserde(rename = "PullLogResponse", prefix = "pr")]
    pub pull_log_response: Option<PullLogResponse>,
    #[yaserde(rename = "SiteDigest", prefix = "pr")]
    pub site_digest: Option<SiteDigest>,
    #[yaserde(rename = "SiteDigestResponse", prefix = "pr")]
    pub site_digest_response: Option<SiteDigestResponse>,
}

/// A request of the peer service.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerRequest {
    PullLog(PullLog),
    SiteDigest(SiteDigest),
}

/// A response of the peer service.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerResponse {
    PullLog(PullLogResponse),
    SiteDigest(SiteDigestResponse),
}

impl PeerRequest {
    pub fn operation(&self) -> &'static str {
        match self {
            Self::PullLog(_) => "PullLog",
            Self::SiteDigest(_) => "SiteDigest",
        }
    }

    pub fn encode(self) -> String {
        let mut body = PeerBody::default();
        match self {
            Self::PullLog(m) => body.pull_log = Some(m),
            Self::SiteDigest(m) => body.site_digest = Some(m),
        }
        to_xml(&PeerEnvelope { body })
    }
}

/// Decodes a request to the peer endpoint.
pub fn decode_peer_request(xml: &[u8]) -> Result<PeerRequest, SoapFault> {
    let body = parse_document::<PeerEnvelope>(xml)?.body;
    ensure_single(usize::from(body.pull_log.is_some()) + usize::from(body.site_digest.is_some()), crate::PEER_NS)?;
    if let Some(m) = body.pull_log {
        return Ok(PeerRequest::PullLog(m));
    }
    let m = body.site_digest.expect("ensure_single saw one operation");
    if m.site.trim().is_empty() {
        return Err(SoapFault::missing("site"));
    }
    Ok(PeerRequest::SiteDigest(m))
}

/// A response envelope of the peer service (faults use [`crate::envelope::encode_fault`]).
pub fn encode_peer_response(response: PeerResponse) -> String {
    let mut body = PeerBody::default();
    match response {
        PeerResponse::PullLog(m) => body.pull_log_response = Some(m),
        PeerResponse::SiteDigest(m) => body.site_digest_response = Some(m),
    }
    to_xml(&PeerEnvelope { body })
}

/// What the calling peer reads back: the response of `operation`, or a Fault.
pub fn decode_peer_response(xml: &[u8], operation: &str) -> Result<Answer<PeerResponse>, SoapFault> {
    let mut body = parse_document::<PeerEnvelope>(xml)?.body;
    if let Some(fault) = body.fault.take() {
        return Ok(Answer::Fault(fault.into()));
    }
    let response = match operation {
        "PullLog" => body.pull_log_response.map(PeerResponse::PullLog),
        "SiteDigest" => body.site_digest_response.map(PeerResponse::SiteDigest),
        _ => None,
    };
    response.map(Answer::Ok).ok_or_else(|| {
        SoapFault::new(FaultCode::UnknownOperation, format!("the response Body holds no {operation}Response"))
    })
}

fn to_xml(envelope: &PeerEnvelope) -> String {
    yaserde::ser::to_string(envelope).expect("serializing an in-memory envelope cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulled_entry_with_its_roles_round_trips() {
        let role = RoleSpec { category: "APP".into(), name: "web".into(), component: Vec::new() };
        let entry = LogEntry {
            origin: "dc-a".into(),
            seq: 3,
            hlc: 1 << 40,
            site: "shop".into(),
            model: "web".into(),
            kind: "version".into(),
            version: Some(2),
            author: Some("ann".into()),
            role: vec![role],
            ..LogEntry::default()
        };
        let response = PullLogResponse { entry: vec![entry], more: true };
        let xml = encode_peer_response(PeerResponse::PullLog(response.clone()));
        let Answer::Ok(decoded) = decode_peer_response(xml.as_bytes(), "PullLog").unwrap() else { panic!("{xml}") };
        assert_eq!(decoded, PeerResponse::PullLog(response));
        let request = PeerRequest::PullLog(PullLog { known: vec![Known { origin: "dc-b".into(), seq: 9 }] });
        assert_eq!(decode_peer_request(request.clone().encode().as_bytes()).unwrap(), request);
        let empty = PeerRequest::SiteDigest(SiteDigest { site: " ".into() }).encode();
        assert_eq!(decode_peer_request(empty.as_bytes()).unwrap_err().code, FaultCode::MissingField);
    }
}
