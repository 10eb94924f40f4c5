//! The file-server service's messages (mirroring `outfit-file-server.xsd`):
//! a file server asks a gateway whether a device may download a package.
//! The caller is authenticated by its client certificate alone, so the
//! envelope has no Header.

use crate::envelope::{Answer, FaultCode, SoapFault, parse_document};
use base64::Engine as _;
use yaserde::{YaDeserialize, YaSerialize};

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "CheckRelease", prefix = "fs", namespaces = { "fs" = "urn:outfit:file-server:1" })]
pub struct CheckRelease {
    /// The device's client certificate, DER in base64.
    #[yaserde(rename = "deviceCertificate", prefix = "fs")]
    pub device_certificate: String,
    #[yaserde(rename = "deviceAddress", prefix = "fs")]
    pub device_address: String,
    #[yaserde(prefix = "fs")]
    pub sha256: String,
}

impl CheckRelease {
    pub fn new(device_certificate: &[u8], device_address: &str, sha256: &str) -> Self {
        Self {
            device_certificate: base64::engine::general_purpose::STANDARD.encode(device_certificate),
            device_address: device_address.to_owned(),
            sha256: sha256.to_owned(),
        }
    }

    /// The device's certificate (DER).
    pub fn certificate(&self) -> Result<Vec<u8>, SoapFault> {
        base64::engine::general_purpose::STANDARD
            .decode(self.device_certificate.trim())
            .map_err(|e| SoapFault::new(FaultCode::Invalid, format!("deviceCertificate is not base64: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "CheckReleaseResponse", prefix = "fs", namespaces = { "fs" = "urn:outfit:file-server:1" })]
pub struct CheckReleaseResponse {
    #[yaserde(prefix = "fs")]
    pub allowed: bool,
    #[yaserde(prefix = "fs")]
    pub reason: Option<String>,
    #[yaserde(rename = "validSeconds", prefix = "fs")]
    pub valid_seconds: i32,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Envelope",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "fs" = "urn:outfit:file-server:1" }
)]
pub struct FileServerEnvelope {
    #[yaserde(rename = "Body", prefix = "soapenv")]
    pub body: FileServerBody,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Body",
    prefix = "soapenv",
    namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "fs" = "urn:outfit:file-server:1" }
)]
pub struct FileServerBody {
    #[yaserde(rename = "Fault", prefix = "soapenv")]
    pub fault: Option<crate::envelope::Fault>,
    #[yaserde(rename = "CheckRelease", prefix = "fs")]
    pub check_release: Option<CheckRelease>,
    #[yaserde(rename = "CheckReleaseResponse", prefix = "fs")]
    pub check_release_response: Option<CheckReleaseResponse>,
}

impl CheckRelease {
    pub fn encode(self) -> String {
        to_xml(&FileServerEnvelope { body: FileServerBody { check_release: Some(self), ..Default::default() } })
    }
}

impl CheckReleaseResponse {
    pub fn encode(self) -> String {
        to_xml(&FileServerEnvelope {
            body: FileServerBody { check_release_response: Some(self), ..Default::default() },
        })
    }
}

/// Decodes a request to the file-server endpoint (its one operation).
pub fn decode_file_server_request(xml: &[u8]) -> Result<CheckRelease, SoapFault> {
    let body = parse_document::<FileServerEnvelope>(xml)?.body;
    let m = body.check_release.ok_or_else(|| {
        SoapFault::new(FaultCode::UnknownOperation, format!("the Body holds no operation of {}", crate::FILE_SERVER_NS))
    })?;
    for (field, value) in [("deviceCertificate", &m.device_certificate), ("sha256", &m.sha256)] {
        if value.trim().is_empty() {
            return Err(SoapFault::missing(field));
        }
    }
    Ok(m)
}

/// What the calling file server reads back: the answer, or a Fault.
pub fn decode_file_server_response(xml: &[u8]) -> Result<Answer<CheckReleaseResponse>, SoapFault> {
    let mut body = parse_document::<FileServerEnvelope>(xml)?.body;
    if let Some(fault) = body.fault.take() {
        return Ok(Answer::Fault(fault.into()));
    }
    body.check_release_response
        .map(Answer::Ok)
        .ok_or_else(|| SoapFault::new(FaultCode::UnknownOperation, "the response Body holds no CheckReleaseResponse"))
}

fn to_xml(envelope: &FileServerEnvelope) -> String {
    yaserde::ser::to_string(envelope).expect("serializing an in-memory envelope cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_and_its_answer_round_trip() {
        let request = CheckRelease::new(&[0x30, 0x82, 0x01], "10.0.0.7:51234", &"ab".repeat(32));
        let decoded = decode_file_server_request(request.clone().encode().as_bytes()).unwrap();
        assert_eq!((decoded.certificate().unwrap(), &decoded), (vec![0x30, 0x82, 0x01], &request));
        let answer = CheckReleaseResponse { allowed: false, reason: Some("not in its model".into()), valid_seconds: 0 };
        let Answer::Ok(read) = decode_file_server_response(answer.clone().encode().as_bytes()).unwrap() else {
            panic!("a fault")
        };
        assert_eq!(read, answer);
        let empty = CheckRelease { sha256: " ".into(), ..request }.encode();
        assert_eq!(decode_file_server_request(empty.as_bytes()).unwrap_err().code, FaultCode::MissingField);
        let bad = CheckRelease { device_certificate: "%%".into(), ..CheckRelease::new(b"x", "a", "b") };
        assert_eq!(bad.certificate().unwrap_err().code, FaultCode::Invalid);
    }
}
