//! Who a request comes from: one-time enrolment tokens, the certificates
//! issued to devices, and which packages a device may download.
//!
//! **Invariant:** a token is redeemed at most once (a compare-and-set on
//! `used_at`, in the same transaction that records the certificate it paid
//! for); a certificate speaks for exactly one device, and only while it is
//! unexpired and not revoked.

use super::devices::DeviceRow;
use super::schema::*;
use super::{Result, Session, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::device::Device;
use outfit_domain::ids::DeviceId;

/// What a client certificate is, as far as this gateway knows.
#[derive(Debug, Clone, PartialEq)]
pub enum CertificateStatus {
    /// Issued at enrolment, unexpired, not revoked: the device it speaks for.
    Valid(Device),
    Revoked {
        device: String,
    },
    Expired {
        device: String,
    },
    /// Signed by our CA but never recorded (e.g. from another gateway
    /// database sharing the CA, or issued before a database reset).
    Unknown,
}

/// A package of a device's model, as [`Session::model_package`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPackage {
    pub format: String,
    pub sha256: String,
    pub size: i64,
    pub storage_key: String,
}

/// The components of one model version, across all its roles.
#[diesel::dsl::auto_type]
fn model_components(model_version: i64) -> _ {
    model_version_roles::table
        .inner_join(role_versions::table.inner_join(role_version_components::table.inner_join(components::table)))
        .filter(model_version_roles::model_version_id.eq(model_version))
}

/// A token the gateway would not redeem, in words the agent's operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenRefused(pub String);

/// A redeemed token: who the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub device_id: DeviceId,
    pub device: String,
    pub address: String,
}

/// A stored token with what it is bound to.
#[derive(Debug, Queryable)]
struct TokenRow {
    id: i64,
    device_id: i64,
    device: String,
    expires_at: i64,
    used_at: Option<i64>,
    address: String,
    site: String,
}

/// A certificate as recorded at enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub fingerprint: String,
    pub not_after_ms: i64,
}

impl Storage {
    /// Stores a token (by its sha256) that lets one agent enrol as `device`
    /// of `site` until `expires_at` (Unix ms), with `address` in its certificate.
    pub fn issue_token(
        &self,
        site: &str,
        device: &str,
        token_sha256: &str,
        address: &str,
        expires_at: i64,
    ) -> Result<Device> {
        self.transaction(|conn| {
            let row: DeviceRow = devices::table
                .inner_join(sites::table)
                .filter(sites::name.eq(site))
                .filter(devices::name.eq(device))
                .select(DeviceRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| StorageError::NotFound { what: "device of that site", name: device.to_owned() })?;
            diesel::insert_into(enrolment_tokens::table)
                .values((
                    enrolment_tokens::device_id.eq(row.id),
                    enrolment_tokens::token_sha256.eq(token_sha256),
                    enrolment_tokens::address.eq(address),
                    enrolment_tokens::expires_at.eq(expires_at),
                    enrolment_tokens::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            Ok(row.into())
        })
    }

    /// Redeems a token for `device` of `site` and records the certificate
    /// `sign` makes for the grant, all in one transaction: a token is spent
    /// only if its certificate is recorded. Returns what `sign` made (the
    /// certificate itself); the outer `Result` is the database, the inner one
    /// the gateway's answer to the agent.
    pub fn enrol<T, E: From<StorageError>>(
        &self,
        site: &str,
        device: &str,
        token_sha256: &str,
        mut sign: impl FnMut(&Grant) -> std::result::Result<(Issued, T), E>,
    ) -> std::result::Result<std::result::Result<T, TokenRefused>, E> {
        self.transaction(|conn| {
            let now = now_ms();
            let found: Option<TokenRow> = enrolment_tokens::table
                .inner_join(devices::table.inner_join(sites::table))
                .filter(enrolment_tokens::token_sha256.eq(token_sha256))
                .select((
                    enrolment_tokens::id,
                    devices::id,
                    devices::name,
                    enrolment_tokens::expires_at,
                    enrolment_tokens::used_at,
                    enrolment_tokens::address,
                    sites::name,
                ))
                .first(conn)
                .optional()
                .map_err(StorageError::from)?;
            let refuse = |why: String| Ok(Err(TokenRefused(why)));
            let Some(token) = found else {
                return refuse("the enrolment token is unknown (issue one with `outfit device token`)".into());
            };
            if token.used_at.is_some() {
                return refuse("the enrolment token was already used; issue a new one".into());
            }
            if token.expires_at <= now {
                return refuse("the enrolment token has expired; issue a new one".into());
            }
            if token.site != site {
                return refuse(format!("the enrolment token is not for site `{site}`"));
            }
            if token.device != device {
                return refuse(format!("the enrolment token is not for device `{device}`"));
            }
            let spent = diesel::update(
                enrolment_tokens::table
                    .filter(enrolment_tokens::id.eq(token.id))
                    .filter(enrolment_tokens::used_at.is_null()),
            )
            .set(enrolment_tokens::used_at.eq(now))
            .execute(conn)
            .map_err(StorageError::from)?;
            if spent == 0 {
                return refuse("the enrolment token was already used; issue a new one".into());
            }
            let grant = Grant { device_id: DeviceId(token.device_id), device: token.device, address: token.address };
            let (issued, certificate) = sign(&grant)?;
            record_certificate(conn, grant.device_id.0, &issued)?;
            Ok(Ok(certificate))
        })
    }

    /// Revokes every certificate of a device; returns how many were valid.
    pub fn revoke_certificates(&self, device: DeviceId) -> Result<usize> {
        let mut conn = self.conn()?;
        Ok(diesel::update(
            device_certificates::table
                .filter(device_certificates::device_id.eq(device.0))
                .filter(device_certificates::revoked_at.is_null()),
        )
        .set(device_certificates::revoked_at.eq(now_ms()))
        .execute(&mut conn)?)
    }
}

/// Records a certificate the CA signed for `device`.
pub(super) fn record_certificate(conn: &mut super::DbConnection, device: i64, issued: &Issued) -> Result<()> {
    diesel::insert_into(device_certificates::table)
        .values((
            device_certificates::device_id.eq(device),
            device_certificates::sha256.eq(&issued.fingerprint),
            device_certificates::not_after.eq(issued.not_after_ms),
            device_certificates::issued_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

/// How long a device's older certificates stay valid after it renewed: long
/// enough for an agent whose renewal answer was lost to ask again with its
/// old certificate, short enough that a stolen old key soon stops working.
pub const RENEWAL_OVERLAP_MS: i64 = 24 * 3600 * 1000;

impl CertificateStatus {
    /// Why a certificate that is not valid speaks for no device, in words its
    /// operator can act on.
    pub fn refusal(&self) -> String {
        match self {
            Self::Valid(device) => format!("the certificate of `{}` is valid", device.name),
            Self::Revoked { device } => format!("the certificate of `{device}` is revoked; enrol again"),
            Self::Expired { device } => format!("the certificate of `{device}` has expired; enrol again"),
            Self::Unknown => "the client certificate was not issued by this gateway's enrolment".into(),
        }
    }
}

impl Session<'_> {
    /// Records the certificate a renewal made for `device` and cuts the
    /// validity of its older ones to [`RENEWAL_OVERLAP_MS`] from now.
    pub fn renew(&mut self, device: DeviceId, issued: &Issued) -> Result<()> {
        let device = device.0;
        record_certificate(self.conn, device, issued)?;
        let cut = now_ms() + RENEWAL_OVERLAP_MS;
        diesel::update(
            device_certificates::table
                .filter(device_certificates::device_id.eq(device))
                .filter(device_certificates::sha256.ne(&issued.fingerprint))
                .filter(device_certificates::not_after.gt(cut)),
        )
        .set(device_certificates::not_after.eq(cut))
        .execute(&mut *self.conn)?;
        Ok(())
    }

    /// Whether `device` may download the package stored under `storage_key`
    /// (64 hex digits, checked by the caller): only if a command of its own
    /// queue installs it, as a package or a plug-in, or it is a component of
    /// the model version the device is provisioned to (what a plug-in may
    /// `fetch`) (seed: the file server asks the central database whether the
    /// agent should have that package). Another site's packages, and this
    /// site's packages meant for other devices, are refused.
    pub fn entitled(&mut self, device: DeviceId, storage_key: &str) -> Result<bool> {
        let device = device.0;
        let n: i64 = commands::table
            .filter(commands::device_id.eq(device))
            .filter(commands::kind.eq_any(["install", "install-plugin"]))
            .filter(commands::payload.like(payload_with(storage_key)))
            .count()
            .get_result(&mut *self.conn)?;
        if n > 0 {
            return Ok(true);
        }
        let Some(version) = self.provisioned_version(device)? else { return Ok(false) };
        let n: i64 = model_components(version)
            .filter(components::storage_key.eq(storage_key))
            .count()
            .get_result(&mut *self.conn)?;
        Ok(n > 0)
    }

    /// The package `name` at `version` if it is a component of the model
    /// version `device` is provisioned to: what a plug-in may fetch in the
    /// middle of a change (WIT 1.2). Components belong to the model's site,
    /// so another site's packages are never found.
    pub fn model_package(&mut self, device: DeviceId, name: &str, version: &str) -> Result<Option<ModelPackage>> {
        let device = device.0;
        let Some(model_version) = self.provisioned_version(device)? else { return Ok(None) };
        Ok(model_components(model_version)
            .filter(components::package_name.eq(name))
            .filter(components::package_version.eq(version))
            .select((components::package_format, components::sha256, components::size, components::storage_key))
            .first::<(String, String, i64, String)>(&mut *self.conn)
            .optional()?
            .map(|(format, sha256, size, storage_key)| ModelPackage { format, sha256, size, storage_key }))
    }

    /// The model version `device` is being brought to: the one it was last
    /// provisioned with, else its model's current version.
    fn provisioned_version(&mut self, device: i64) -> Result<Option<i64>> {
        let (desired, current): (Option<i64>, Option<i64>) = devices::table
            .inner_join(models::table)
            .filter(devices::id.eq(device))
            .select((devices::desired_model_version_id, models::current_version_id))
            .first(&mut *self.conn)?;
        Ok(desired.or(current))
    }

    /// Looks a client certificate up by fingerprint, in the exchange's transaction.
    pub fn certificate(&mut self, fingerprint: &str) -> Result<CertificateStatus> {
        let found: Option<(i64, Option<i64>, DeviceRow)> = device_certificates::table
            .inner_join(devices::table)
            .filter(device_certificates::sha256.eq(fingerprint))
            .select((device_certificates::not_after, device_certificates::revoked_at, DeviceRow::as_select()))
            .first(&mut *self.conn)
            .optional()?;
        Ok(match found {
            None => CertificateStatus::Unknown,
            Some((_, Some(_), device)) => CertificateStatus::Revoked { device: device.name },
            Some((not_after, None, device)) if not_after <= now_ms() => {
                CertificateStatus::Expired { device: device.name }
            }
            Some((_, None, device)) => CertificateStatus::Valid(device.into()),
        })
    }
}

/// A `LIKE` pattern for the install payloads (a package's, a plug-in
/// bundle's) of the package stored under `key`, as serde_json spells them.
pub(crate) fn payload_with(key: &str) -> String {
    format!("%\"storage_key\":\"{key}\"%")
}
