//! What an Outfit certificate says about its holder. The gateway's CA writes
//! a role into the subject of every certificate it signs (organizational
//! unit `outfit-gateway`, `outfit-device`, `outfit-operator`, `outfit-peer` or `outfit-file-server`); a device's signing request
//! cannot choose it, because the gateway replaces the whole subject. So the
//! agent's poke listener can tell its gateway from another device of the same
//! CA, and both sides can read names and validity for renewal.

use std::net::IpAddr;
use x509_parser::extensions::GeneralName;

/// Who a certificate of the gateway's CA was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    Device,
    /// A person or enterprise system calling the operator services, or an
    /// agent's access endpoint.
    Operator,
    /// Another data centre's gateway calling the peer service.
    Peer,
    /// A package repository near the devices: it serves them packages and
    /// asks a gateway, as a client, whether each download is allowed.
    FileServer,
}

impl Role {
    /// The organizational unit that names the role in the subject.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Gateway => "outfit-gateway",
            Self::Device => "outfit-device",
            Self::Operator => "outfit-operator",
            Self::Peer => "outfit-peer",
            Self::FileServer => "outfit-file-server",
        }
    }
}

/// The facts of one certificate that Outfit acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub common_name: String,
    /// `None` for a certificate without an Outfit role (made elsewhere, or
    /// before roles existed).
    pub role: Option<Role>,
    /// Subject alternative names: IP addresses and DNS names, as text.
    pub names: Vec<String>,
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

impl Facts {
    /// Reads a DER certificate.
    pub fn read(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("unreadable certificate: {e}"))?;
        let subject = cert.subject();
        let text = |attribute: Option<&x509_parser::x509::AttributeTypeAndValue>| {
            attribute.and_then(|a| a.as_str().ok()).unwrap_or_default().to_owned()
        };
        let unit = text(subject.iter_organizational_unit().next());
        let role = [Role::Gateway, Role::Device, Role::Operator, Role::Peer, Role::FileServer]
            .into_iter()
            .find(|r| r.unit() == unit);
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                    GeneralName::IPAddress(bytes) => {
                        let ip = match bytes.len() {
                            4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                            16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                            _ => None,
                        };
                        names.extend(ip.map(|ip| ip.to_string()));
                    }
                    _ => {}
                }
            }
        }
        let validity = cert.validity();
        Ok(Self {
            common_name: text(subject.iter_common_name().next()),
            role,
            names,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }

    /// Reads the first certificate of a PEM file.
    pub fn read_pem_file(path: &std::path::Path) -> Result<Self, String> {
        let certs = crate::transport::load_certs(path).map_err(|e| e.to_string())?;
        Self::read(&certs[0])
    }
}
