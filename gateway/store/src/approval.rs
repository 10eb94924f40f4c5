//! Manual approval of enrolments, the default path: an agent without a token
//! leaves its signing request here; an operator approves (the certificate is
//! kept until the agent asks again with the same key) or rejects it.
//!
//! **Invariant:** a request is bound to one device and one public key; only
//! a `waiting` request can be decided, once; approving records the
//! certificate in `device_certificates` in the same transaction.

use super::schema::*;
use super::trust::{Issued, record_certificate};
use super::{Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::enrolment::{EnrolmentRequest, RequestState};
use outfit_domain::ids::DeviceId;

/// How many requests may wait for one device at once; more are refused, so
/// an anonymous caller cannot fill the table.
pub const MAX_WAITING: i64 = 5;

pub mod request_state {
    pub const WAITING: &str = "waiting";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
}

/// A request as read, with its device and site.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
struct RequestRow {
    id: i64,
    device_id: i64,
    device: String,
    site: String,
    key_sha256: String,
    csr: String,
    peer: String,
    created_at: i64,
}

impl From<RequestRow> for EnrolmentRequest {
    fn from(r: RequestRow) -> Self {
        Self {
            id: r.id,
            device_id: DeviceId(r.device_id),
            device: r.device,
            site: r.site,
            key_sha256: r.key_sha256,
            csr: r.csr,
            peer: r.peer,
            created_at: r.created_at,
        }
    }
}

/// Waiting requests with their device and site, selected as [`RequestRow`].
macro_rules! waiting {
    () => {
        enrolment_requests::table
            .inner_join(devices::table.inner_join(sites::table))
            .filter(enrolment_requests::state.eq(request_state::WAITING))
            .select((
                enrolment_requests::id,
                enrolment_requests::device_id,
                devices::name,
                sites::name,
                enrolment_requests::key_sha256,
                enrolment_requests::csr,
                enrolment_requests::peer,
                enrolment_requests::created_at,
            ))
    };
}

impl Storage {
    /// Files (or finds again) the request of `device` of `site` for the key
    /// `key_sha256`. The outer `Result` is the database, the inner one a
    /// refusal in words the agent's operator can act on.
    pub fn request_enrolment(
        &self,
        site: &str,
        device: &str,
        key_sha256: &str,
        csr: &str,
        peer: &str,
    ) -> Result<Result<RequestState, String>> {
        self.transaction(|conn| {
            let device_id: Option<i64> = devices::table
                .inner_join(sites::table)
                .filter(sites::name.eq(site))
                .filter(devices::name.eq(device))
                .select(devices::id)
                .first(conn)
                .optional()?;
            let Some(device_id) = device_id else {
                return Ok(Err(format!(
                    "no device `{device}` of site `{site}` is registered; add it with `outfit device add`"
                )));
            };
            let found: Option<(String, Option<String>, Option<String>)> = enrolment_requests::table
                .filter(enrolment_requests::device_id.eq(device_id))
                .filter(enrolment_requests::key_sha256.eq(key_sha256))
                .select((enrolment_requests::state, enrolment_requests::certificate, enrolment_requests::decided_by))
                .first(conn)
                .optional()?;
            match found {
                Some((state, Some(certificate), _)) if state == request_state::APPROVED => {
                    return Ok(Ok(RequestState::Approved(certificate)));
                }
                Some((state, _, by)) if state == request_state::REJECTED => {
                    return Ok(Ok(RequestState::Rejected { by: by.unwrap_or_default() }));
                }
                Some(_) => return Ok(Ok(RequestState::Waiting { new: false })),
                None => {}
            }
            let already: i64 = enrolment_requests::table
                .filter(enrolment_requests::device_id.eq(device_id))
                .filter(enrolment_requests::state.eq(request_state::WAITING))
                .count()
                .get_result(conn)?;
            if already >= MAX_WAITING {
                return Ok(Err(format!(
                    "{already} enrolment requests for `{device}` already wait; an operator must decide them first"
                )));
            }
            diesel::insert_into(enrolment_requests::table)
                .values((
                    enrolment_requests::device_id.eq(device_id),
                    enrolment_requests::key_sha256.eq(key_sha256),
                    enrolment_requests::csr.eq(csr),
                    enrolment_requests::peer.eq(peer),
                    enrolment_requests::state.eq(request_state::WAITING),
                    enrolment_requests::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            Ok(Ok(RequestState::Waiting { new: true }))
        })
    }

    /// Every request still waiting, oldest first, each with whether its
    /// device already holds a valid certificate (approving would give it a
    /// second key: the operator should know why).
    pub fn waiting_requests(&self) -> Result<Vec<(EnrolmentRequest, bool)>> {
        let mut conn = self.conn()?;
        let requests: Vec<RequestRow> = waiting!().order(enrolment_requests::id).load(&mut conn)?;
        let requests: Vec<EnrolmentRequest> = requests.into_iter().map(EnrolmentRequest::from).collect();
        let mut listed = Vec::with_capacity(requests.len());
        for request in requests {
            let valid: i64 = device_certificates::table
                .filter(device_certificates::device_id.eq(request.device_id.0))
                .filter(device_certificates::revoked_at.is_null())
                .filter(device_certificates::not_after.gt(now_ms()))
                .count()
                .get_result(&mut conn)?;
            listed.push((request, valid > 0));
        }
        Ok(listed)
    }

    /// Approves the waiting request of `device` whose key fingerprint starts
    /// with `key` (needed only when several wait): `sign` makes the
    /// certificate, recorded with the decision in one transaction.
    pub fn approve_enrolment<E: From<StorageError>>(
        &self,
        device: &str,
        key: Option<&str>,
        by: &str,
        mut sign: impl FnMut(&EnrolmentRequest) -> std::result::Result<(Issued, String), E>,
    ) -> std::result::Result<EnrolmentRequest, E> {
        self.transaction(|conn| {
            let request = pick(conn, device, key)?;
            let (issued, certificate) = sign(&request)?;
            record_certificate(conn, request.device_id.0, &issued)?;
            decide(conn, request.id, request_state::APPROVED, Some(&certificate), by)?;
            Ok(request)
        })
    }

    /// Rejects the waiting request of `device` (see [`Self::approve_enrolment`]).
    pub fn reject_enrolment(&self, device: &str, key: Option<&str>, by: &str) -> Result<EnrolmentRequest> {
        self.transaction(|conn| {
            let request = pick(conn, device, key)?;
            decide(conn, request.id, request_state::REJECTED, None, by)?;
            Ok(request)
        })
    }
}

/// The one waiting request of `device` matching `key` (a fingerprint prefix).
fn pick(conn: &mut super::DbConnection, device: &str, key: Option<&str>) -> Result<EnrolmentRequest> {
    let found: Vec<RequestRow> = waiting!().filter(devices::name.eq(device)).load(conn)?;
    let mut found: Vec<EnrolmentRequest> = found.into_iter().map(EnrolmentRequest::from).collect();
    if let Some(key) = key {
        found.retain(|r| r.key_sha256.starts_with(&key.to_ascii_lowercase()));
    }
    match found.len() {
        0 => Err(StorageError::NotFound { what: "waiting enrolment request for device", name: device.to_owned() }),
        1 => Ok(found.remove(0)),
        n => Err(StorageError::Invalid(format!(
            "{n} enrolment requests wait for `{device}`; name one with --fingerprint (see `outfit device requests`)"
        ))),
    }
}

/// Moves a waiting request to its decision, once (compare-and-set).
fn decide(conn: &mut super::DbConnection, id: i64, to: &str, certificate: Option<&str>, by: &str) -> Result<()> {
    let moved = diesel::update(
        enrolment_requests::table
            .filter(enrolment_requests::id.eq(id))
            .filter(enrolment_requests::state.eq(request_state::WAITING)),
    )
    .set((
        enrolment_requests::state.eq(to),
        enrolment_requests::certificate.eq(certificate),
        enrolment_requests::decided_by.eq(by),
        enrolment_requests::decided_at.eq(now_ms()),
    ))
    .execute(conn)?;
    if moved == 0 {
        return Err(StorageError::Conflict(format!("enrolment request {id} was decided meanwhile")));
    }
    Ok(())
}
