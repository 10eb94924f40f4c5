//! The gateway's certificate authority: created by `init`, it signs the
//! gateway's own certificate (server, and client when it pokes agents) and,
//! at enrolment, each device's certificate from the device's own signing
//! request: the device's private key never leaves the device.

use outfit_wsdl::identity::Role;
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
    #[error("certificate signing request: {0}")]
    Csr(rcgen::Error),
}

/// How long a device certificate is valid unless `gateway.toml` says
/// otherwise; agents renew well before the end.
pub const DEVICE_CERT_DAYS: u64 = 90;

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

/// A leaf that serves TLS and also authenticates as a client (the gateway
/// pokes agents; an agent calls the gateway), named `common_name`, holding
/// `role`, and valid for `names` (IP addresses or DNS names).
fn leaf_params(role: Role, common_name: &str, names: &[String]) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::OrganizationalUnitName, role.unit());
    params.distinguished_name.push(DnType::CommonName, common_name);
    for name in names {
        params.subject_alt_names.push(match name.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into().map_err(|_| PkiError::Name(name.clone()))?),
        });
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    Ok(params)
}

/// Checks that `name` can go into a certificate (an IP address or DNS name).
pub fn check_name(name: &str) -> Result<(), PkiError> {
    leaf_params(Role::Device, "check", &[name.to_owned()]).map(drop)
}

/// Signs a new key pair and certificate for the gateway itself.
pub fn issue_gateway(ca_key_pem: &str, common_name: &str, names: &[String]) -> Result<Issued, PkiError> {
    let issuer = Issuer::new(ca_params(), KeyPair::from_pem(ca_key_pem)?);
    let key = KeyPair::generate()?;
    let cert = leaf_params(Role::Gateway, common_name, names)?.signed_by(&key, &issuer)?;
    Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// A certificate the CA signed, as the database records it.
#[derive(Debug, Clone)]
pub struct Signed {
    pub pem: String,
    /// sha256 of the DER, lowercase hex: how the gateway recognises it.
    pub fingerprint: String,
    pub not_after_ms: i64,
}

/// A device certificate: the public key comes from the device's signing
/// request (whose signature proves it holds the key); everything else — the
/// name, the role, the addresses, the validity — is the gateway's decision,
/// not the request's.
pub fn issue_device(
    ca_key_pem: &str,
    csr_pem: &str,
    device: &str,
    addresses: &[String],
    days: u64,
) -> Result<Signed, PkiError> {
    let mut request = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).map_err(PkiError::Csr)?;
    let now = time::OffsetDateTime::now_utc();
    let mut params = leaf_params(Role::Device, device, addresses)?;
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days as i64);
    request.params = params;
    let issuer = Issuer::new(ca_params(), KeyPair::from_pem(ca_key_pem)?);
    let cert = request.signed_by(&issuer)?;
    Ok(Signed {
        pem: cert.pem(),
        fingerprint: fingerprint(cert.der()),
        not_after_ms: (request.params.not_after.unix_timestamp_nanos() / 1_000_000) as i64,
    })
}

/// A key pair and client certificate for operator `name`, valid `days`:
/// it authenticates on the operator listener and at agents' access
/// endpoints (client authentication only; it can serve nothing).
pub fn issue_operator(ca_key_pem: &str, name: &str, days: u64) -> Result<(Issued, Signed), PkiError> {
    issue_client(ca_key_pem, Role::Operator, name, days)
}

/// A key pair and client certificate for another data centre's gateway,
/// named after it: it authenticates on the operator listener's peer service.
pub fn issue_peer(ca_key_pem: &str, name: &str, days: u64) -> Result<(Issued, Signed), PkiError> {
    issue_client(ca_key_pem, Role::Peer, name, days)
}

/// A key pair and certificate for file server `name`, valid `days` and for
/// `host` (its URL's host): it serves devices TLS and calls the gateway's
/// file-server service as a client.
pub fn issue_file_server(ca_key_pem: &str, name: &str, host: &str, days: u64) -> Result<(Issued, Signed), PkiError> {
    issue_new(ca_key_pem, leaf_params(Role::FileServer, name, &[host.to_owned()])?, days)
}

/// A client-only certificate (it can serve nothing) holding `role`.
fn issue_client(ca_key_pem: &str, role: Role, name: &str, days: u64) -> Result<(Issued, Signed), PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::OrganizationalUnitName, role.unit());
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    issue_new(ca_key_pem, params, days)
}

/// A new key pair and the CA's certificate of `params` for it, valid from an
/// hour ago (clocks differ) for `days`.
fn issue_new(ca_key_pem: &str, mut params: CertificateParams, days: u64) -> Result<(Issued, Signed), PkiError> {
    let issuer = Issuer::new(ca_params(), KeyPair::from_pem(ca_key_pem)?);
    let key = KeyPair::generate()?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days as i64);
    let cert = params.signed_by(&key, &issuer)?;
    let recorded = Signed {
        pem: cert.pem(),
        fingerprint: fingerprint(cert.der()),
        not_after_ms: (params.not_after.unix_timestamp_nanos() / 1_000_000) as i64,
    };
    Ok((Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() }, recorded))
}

/// sha256 of the public key (SubjectPublicKeyInfo DER) a signing request is
/// for, lowercase hex: what an operator compares with the agent's own line
/// before approving an enrolment.
pub fn csr_key_fingerprint(csr_pem: &str) -> Result<String, PkiError> {
    use rcgen::PublicKeyData;
    let request = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).map_err(PkiError::Csr)?;
    Ok(fingerprint(&request.public_key.subject_public_key_info()))
}

/// sha256 of a certificate's DER encoding, lowercase hex.
/// 32 random bytes as 64 hex digits: an enrolment token, a console session
/// or CSRF token.
pub fn random_token() -> Result<String, crate::Failure> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::Failure::internal(format!("draw random bytes for a token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// What is stored of a secret token: its sha256, hex.
pub fn token_digest(token: &str) -> String {
    fingerprint(token.as_bytes())
}

pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}
