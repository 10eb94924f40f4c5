//! The gateway's certificate authority: created by `init`, it signs the
//! gateway's server certificate and each agent's poke-listener certificate.
//! (Client certificates for agents and enrolment tokens come with the trust
//! work; the CA here is the one they will hang off.)

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generate certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("`{0}` is neither an IP address nor a DNS name")]
    Name(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io { path: path.display().to_string(), source }
}

/// The CA's parameters. Rebuilt identically whenever the CA signs, so the
/// issuer name in every leaf matches the CA certificate's subject.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Outfit");
    dn.push(DnType::CommonName, "Outfit gateway CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// A PEM certificate and its PEM private key.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    pub fn write(&self, cert: &Path, key: &Path) -> Result<(), PkiError> {
        std::fs::write(cert, &self.cert_pem).map_err(io(cert))?;
        write_private(key, &self.key_pem)
    }
}

fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).and_then(|mut f| f.write_all(contents.as_bytes())).map_err(io(path))
}

/// Creates a new CA key and self-signed certificate.
pub fn create_ca() -> Result<Issued, PkiError> {
    let key = KeyPair::generate()?;
    let cert = ca_params().self_signed(&key)?;
    Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// Signs a new leaf certificate for `names` (IP addresses or DNS names).
pub fn issue_leaf(ca_key_pem: &str, common_name: &str, names: &[String], server: bool) -> Result<Issued, PkiError> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::new(ca_params(), ca_key);
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, common_name);
    for name in names {
        params.subject_alt_names.push(match name.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into().map_err(|_| PkiError::Name(name.clone()))?),
        });
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages =
        if server { vec![ExtendedKeyUsagePurpose::ServerAuth] } else { vec![ExtendedKeyUsagePurpose::ClientAuth] };
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}
