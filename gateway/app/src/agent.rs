//! The agent endpoint's use cases: `Hello`, `NextCommand`, `ReportResult`,
//! `Renew`, `Authorise`, `LocatePackage` (a device acting through its client
//! certificate), `Enrol` (a device without one yet), package downloads and the
//! sweep. Each exchange is one transaction on one pooled connection:
//! certificate lookup, the queue change and the exchange's log row commit
//! together, once — the agent path is bound by commits and round trips.
//!
//! **Invariant:** a certificate speaks for exactly one device, checked against
//! the database in the exchange's own transaction, so a revocation takes
//! effect on the next request.

use crate::enrolment::{self, Enrolled};
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::audit::{AuditEntry, Outcome};
use outfit_domain::command::Payload;
use outfit_domain::device::Device;
use outfit_domain::drift;
use outfit_domain::ids::{CommandId, DeviceId, SiteId};
use outfit_domain::inventory::Inventory;
use outfit_domain::model::PackageRef;
use outfit_domain::queue::{Head, QueuedCommand, Reported, Swept};
use outfit_domain::rights::{Action, Principal, Scope};
use outfit_domain::serving::AgentReport;
use outfit_store::{CertificateStatus, ExchangeRecord, Issued, Session, StorageError};

/// The connection an exchange arrived on.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its number in this gateway process, for the exchange log.
    pub serial: u64,
    /// `IP:port` of the agent.
    pub peer: String,
    /// The client certificate (DER), if one was presented.
    pub certificate: Option<Vec<u8>>,
}

/// What a device asks, decoded by the edge.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentRequest {
    Renew {
        csr: String,
    },
    Authorise(AccessQuestion),
    Hello {
        boot_id: String,
        agent_version: String,
        poke_url: Option<String>,
        report: Option<AgentReport>,
    },
    NextCommand,
    /// `command` as the agent sent it (not checked to be a number yet).
    ReportResult {
        command: String,
        reported: Reported,
        message: String,
    },
    LocatePackage {
        name: String,
        version: String,
    },
    ReportInventory(Inventory),
}

impl AgentRequest {
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Renew { .. } => "Renew",
            Self::Authorise(_) => "Authorise",
            Self::Hello { .. } => "Hello",
            Self::NextCommand => "NextCommand",
            Self::ReportResult { .. } => "ReportResult",
            Self::LocatePackage { .. } => "LocatePackage",
            Self::ReportInventory(_) => "ReportInventory",
        }
    }
}

/// A person at a device asks, through its agent, whether they may act there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessQuestion {
    /// Their operator certificate, base64 DER as the agent received it.
    pub operator_certificate: String,
    pub action: String,
    pub category: Option<String>,
    /// For a configuration change: the component and the file it names.
    pub component: Option<String>,
    pub path: Option<String>,
    /// What they asked the agent for (its path), for the audit log.
    pub object: String,
    /// Their address at the agent.
    pub from: String,
}

/// What the agent is told next.
#[derive(Debug, Clone, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "one per exchange, moved once; boxing would allocate every time")]
pub enum Instruction {
    /// The command, what it asks (its payload, read), and for a payload
    /// with a package, the base URL of the file server to download it from
    /// (`None`: this gateway's repository).
    Command(QueuedCommand, Payload, Option<String>),
    /// Nothing to do: `empty`, `halted` or `rebooting`.
    Nothing(&'static str),
}

/// The answer to an [`AgentRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum AgentAnswer {
    /// A new certificate (PEM).
    Renewed(String),
    Authorised {
        allowed: bool,
        operator: String,
        reason: String,
    },
    /// How many commands wait for the agent.
    Hello {
        pending: i64,
    },
    NextCommand(Instruction),
    ReportResult(Instruction),
    /// The package, and the file server to download it from (`None`: this
    /// gateway's repository).
    Package(PackageRef, Option<String>),
    /// How many differences from its model the inventory showed.
    Inventory {
        drift: i32,
    },
}

/// What an `Enrol` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolRequest {
    pub device: String,
    pub site: String,
    pub token: Option<String>,
    pub csr: String,
}

/// The device each client certificate seen so far was issued to, remembered
/// by fingerprint once a full check has passed. That pairing never changes
/// (certificates are not reassigned, devices not renamed); whether the
/// certificate is still valid does (revoked, past its end, cut short by a
/// renewal), and is checked inside each exchange's own transaction by the
/// statement that writes its log row. So a queue exchange of a known
/// certificate costs no lookup of its own.
#[derive(Debug, Default)]
pub struct Certified {
    devices: std::sync::Mutex<std::collections::HashMap<String, (DeviceId, String, SiteId)>>,
}

impl Certified {
    /// Certificates remembered at most; past that the memory starts afresh
    /// (renewals leave old fingerprints behind).
    const LIMIT: usize = 200_000;

    fn device(&self, fingerprint: &str) -> Option<(DeviceId, String, SiteId)> {
        self.devices.lock().unwrap_or_else(|e| e.into_inner()).get(fingerprint).cloned()
    }

    fn remember(&self, fingerprint: &str, device: &Device) {
        let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        if devices.len() >= Self::LIMIT {
            devices.clear();
        }
        devices.insert(fingerprint.to_owned(), (device.id, device.name.clone(), device.site));
    }

    /// After a refusal: the certificate's later requests take the full check
    /// at once, instead of undoing their work first.
    fn forget(&self, fingerprint: &str) {
        self.devices.lock().unwrap_or_else(|e| e.into_inner()).remove(fingerprint);
    }
}

/// Why a queue exchange of a remembered certificate was undone.
enum Undone {
    /// The certificate is no longer valid: the full check answers instead.
    NotCertified,
    Storage(StorageError),
}

impl From<StorageError> for Undone {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

/// An exchange's outcome inside its transaction: the answer or a refusal
/// (both commit, with the log row), or a storage error (rolls back).
#[expect(clippy::large_enum_variant, reason = "one per exchange, moved once; boxing would allocate every time")]
enum Served {
    Answer(AgentAnswer, String),
    Refused(Refusal),
    /// Failed inside the gateway but nothing to undo (the cause is logged).
    Failed(String),
}

impl Served {
    /// The exchange log's word for it.
    fn log_answer(&self) -> &str {
        match self {
            Self::Answer(_, answer) => answer,
            Self::Refused(r) => r.kind.code(),
            Self::Failed(_) => "Internal",
        }
    }

    fn into_result(self) -> Result<AgentAnswer, Failure> {
        match self {
            Self::Answer(answer, _) => Ok(answer),
            Self::Refused(r) => Err(r.into()),
            Self::Failed(cause) => Err(Failure::Internal(cause)),
        }
    }
}

type Step<T> = Result<Result<T, Refusal>, StorageError>;

impl Services {
    /// Serves one request of the device named `device`, on `connection`.
    pub fn agent_exchange(
        &self,
        connection: &Connection,
        device: &str,
        request: &AgentRequest,
    ) -> Result<AgentAnswer, Failure> {
        let answer = self.serve_agent(connection, device, request);
        // Changes people asked to promote, once their inventory is stored.
        if let (Ok(AgentAnswer::Inventory { .. }), AgentRequest::ReportInventory(inventory)) = (&answer, request)
            && inventory.changes.iter().any(|c| c.promote)
        {
            self.promote_requested(device, &connection.peer);
        }
        answer
    }

    fn serve_agent(
        &self,
        connection: &Connection,
        device: &str,
        request: &AgentRequest,
    ) -> Result<AgentAnswer, Failure> {
        let operation = request.operation();
        let log = |id: Option<DeviceId>, answer: &str| ExchangeRecord {
            device: id,
            operation,
            connection_serial: connection.serial,
            gateway_instance: self.instance.clone(),
            peer: connection.peer.clone(),
            answer: answer.to_owned(),
        };
        let presented = connection.certificate.as_deref();
        let certificate = presented.map(crate::pki::fingerprint);
        // A queue exchange of a certificate already checked once: one
        // transaction of queue change and log row, the latter written only if
        // the certificate still holds.
        if let Some(fingerprint) = certificate.as_deref()
            && let Some((id, name, site)) = self.certified.device(fingerprint)
            && name == device
            && matches!(
                request,
                AgentRequest::NextCommand | AgentRequest::ReportResult { .. } | AgentRequest::ReportInventory(_)
            )
        {
            tracing::Span::current().record("device", name.as_str());
            let served = self.storage.exchange(|session| -> Result<Served, Undone> {
                let served = match queue_exchange(session, id, &name, request)? {
                    Ok(served) => served,
                    Err(refusal) => Served::Refused(refusal),
                };
                if !session.record_exchange_if_certified(&log(Some(id), served.log_answer()), fingerprint)? {
                    return Err(Undone::NotCertified);
                }
                Ok(served)
            });
            match served {
                Ok(served) => return self.reported(id, request, served).map(|a| self.direct(a, site, &name)),
                Err(Undone::Storage(e)) => return Err(self.failed(&log(None, "Internal"), e)),
                // Rolled back; the full check below says why.
                Err(Undone::NotCertified) => {
                    tracing::info!("certificate no longer valid; exchange undone");
                    self.certified.forget(fingerprint);
                }
            }
        }
        // The whole exchange is one transaction: lookup, queue change, log row.
        // A Hello may complete a reboot another gateway recorded: it must see
        // that record (causal reads on Galera; see the store's transactions).
        let exchange = |session: &mut Session<'_>| -> Result<(Option<Device>, Served), StorageError> {
            let (id, served) = match authenticate(session, device, certificate.as_deref())? {
                Ok(found) => {
                    tracing::Span::current().record("device", found.name.as_str());
                    if let Some(fingerprint) = certificate.as_deref() {
                        self.certified.remember(fingerprint, &found);
                    }
                    let served = match self.dispatch(session, &found, request, presented.unwrap_or_default())? {
                        Ok(served) => served,
                        Err(refusal) => Served::Refused(refusal),
                    };
                    (Some(found), served)
                }
                Err(refusal) => (None, Served::Refused(refusal)),
            };
            session.record_exchange(&log(id.as_ref().map(|d| d.id), served.log_answer()))?;
            Ok((id, served))
        };
        let served = match request {
            AgentRequest::Hello { .. } => self.storage.exchange_causal(exchange),
            _ => self.storage.exchange(exchange),
        };
        match served {
            Ok((Some(device), served)) => {
                self.reported(device.id, request, served).map(|a| self.direct(a, device.site, &device.name))
            }
            Ok((None, served)) => served.into_result(),
            Err(e) => Err(self.failed(&log(None, "Internal"), e)),
        }
    }

    /// Tells the rollout driver of a stored result or inventory (it looks
    /// at that device in its next round).
    fn reported(&self, device: DeviceId, request: &AgentRequest, served: Served) -> Result<AgentAnswer, Failure> {
        if matches!(served, Served::Answer(..))
            && matches!(request, AgentRequest::ReportResult { .. } | AgentRequest::ReportInventory(_))
        {
            self.reports.note(device);
        }
        served.into_result()
    }

    /// Tells the device which file server to download an answer's package
    /// from, when one serves its site.
    fn direct(&self, answer: AgentAnswer, site: SiteId, device: &str) -> AgentAnswer {
        let carries_package = |p: &Payload| {
            matches!(p, Payload::Install { .. } | Payload::Upgrade { .. } | Payload::InstallPlugin { .. })
        };
        match answer {
            AgentAnswer::NextCommand(Instruction::Command(c, p, _)) if carries_package(&p) => {
                AgentAnswer::NextCommand(Instruction::Command(c, p, self.package_source(site, device)))
            }
            AgentAnswer::ReportResult(Instruction::Command(c, p, _)) if carries_package(&p) => {
                AgentAnswer::ReportResult(Instruction::Command(c, p, self.package_source(site, device)))
            }
            AgentAnswer::Package(p, _) => AgentAnswer::Package(p, self.package_source(site, device)),
            other => other,
        }
    }

    /// A failure inside the gateway: logged, and the exchange logged apart.
    fn failed(&self, record: &ExchangeRecord, e: StorageError) -> Failure {
        tracing::error!(error = %e, "storage failed while serving an agent");
        self.log_exchange(record);
        Failure::internal(e)
    }

    /// Logs an exchange that has no transaction of its own to join: a
    /// request that could not be decoded (`answer` is its fault code).
    pub fn log_undecoded(&self, connection: &Connection, answer: &str) {
        self.log_exchange(&ExchangeRecord {
            device: None,
            operation: "invalid",
            connection_serial: connection.serial,
            gateway_instance: self.instance.clone(),
            peer: connection.peer.clone(),
            answer: answer.to_owned(),
        });
    }

    fn log_exchange(&self, record: &ExchangeRecord) {
        if let Err(e) = self.storage.record_exchange(record) {
            tracing::warn!(error = %e, "could not log the exchange");
        }
    }

    /// `Enrol`, the one operation served without a client certificate.
    pub fn enrol(&self, connection: &Connection, request: &EnrolRequest) -> Result<Enrolled, Failure> {
        let result =
            enrolment::enrol(&self.storage, &self.ca.key_pem, self.ca.device_cert_days, request, &connection.peer);
        let answer = match &result {
            Ok(Enrolled::Certificate(_)) => "enrolled",
            Ok(Enrolled::Waiting(_)) => "waiting",
            Err(Failure::Refused(r)) => r.kind.code(),
            Err(Failure::Internal(cause)) => {
                tracing::error!(error = %cause, "enrolment failed inside the gateway");
                "Internal"
            }
        };
        if let Ok(Enrolled::Certificate(_)) = result {
            tracing::info!("device enrolled; certificate issued");
        }
        self.log_exchange(&ExchangeRecord {
            device: None,
            operation: "Enrol",
            connection_serial: connection.serial,
            gateway_instance: self.instance.clone(),
            peer: connection.peer.clone(),
            answer: answer.to_owned(),
        });
        result
    }

    fn dispatch(
        &self,
        session: &mut Session,
        device: &Device,
        request: &AgentRequest,
        presented: &[u8],
    ) -> Step<Served> {
        match request {
            AgentRequest::Renew { csr } => {
                let cert =
                    match enrolment::renew(&self.ca.key_pem, self.ca.device_cert_days, csr, &device.name, presented) {
                        Ok(cert) => cert,
                        Err(Failure::Refused(refusal)) => return Ok(Err(refusal)),
                        Err(Failure::Internal(cause)) => {
                            tracing::error!(error = %cause, "renewal failed inside the gateway");
                            return Ok(Ok(Served::Failed(cause)));
                        }
                    };
                session.renew(
                    device.id,
                    &Issued { fingerprint: cert.fingerprint.clone(), not_after_ms: cert.not_after_ms },
                )?;
                tracing::info!(fingerprint = %cert.fingerprint, "certificate renewed");
                Ok(Ok(Served::Answer(AgentAnswer::Renewed(cert.pem), "renewed".into())))
            }
            AgentRequest::Authorise(ask) => {
                Ok(authorise(session, device, ask)?.map(|answer| Served::Answer(answer, "authorise".into())))
            }
            AgentRequest::Hello { boot_id, agent_version, poke_url, report } => {
                let (rebooted, pending) =
                    session.record_hello(device, boot_id, agent_version, poke_url.as_deref(), report.as_ref())?;
                if let Some(command) = rebooted {
                    tracing::info!(%command, %boot_id, "device is back from its reboot; queue resumes");
                }
                Ok(Ok(Served::Answer(AgentAnswer::Hello { pending }, "hello".into())))
            }
            AgentRequest::NextCommand | AgentRequest::ReportResult { .. } | AgentRequest::ReportInventory(_) => {
                queue_exchange(session, device.id, &device.name, request)
            }
            AgentRequest::LocatePackage { name, version } => {
                Ok(locate(session, device, name, version)?.map(|package| {
                    let answer = format!("package:/repository/{}", package.storage_key);
                    Served::Answer(AgentAnswer::Package(package, None), answer)
                }))
            }
        }
    }
}

/// Compares a report with the version the device is supposed to hold and
/// stores both; returns how many differences it showed.
fn record_inventory(session: &mut Session, device: DeviceId, inventory: &Inventory) -> Result<i32, StorageError> {
    let (version, found) = match session.supposed(device)? {
        Some(s) => (Some(s.version), drift::compare(&s.components, &s.managed, inventory)),
        None => (None, Vec::new()),
    };
    // A file changed through the access endpoint names who changed it.
    let changed_by = |path: &str| {
        let mut by_path = inventory.changes.iter().filter(|c| c.path == path && c.outcome == "succeeded");
        by_path.next_back().map(|c| c.operator.clone())
    };
    session.record_inventory(device, inventory, version, &found, changed_by)?;
    Ok(found.len() as i32)
}

/// Finds the device a request speaks for: the one its client certificate was
/// issued to (checked against the database on every request, so a revocation
/// takes effect at once), which must be the device the request names.
fn authenticate(session: &mut Session, name: &str, certificate: Option<&str>) -> Step<Device> {
    let Some(fingerprint) = certificate else {
        return Ok(Err(Refusal::new(
            RefusalKind::Unauthenticated,
            "this operation needs the device's client certificate; enrol the agent first (--enrol-token)",
        )));
    };
    Ok(match session.certificate(fingerprint)? {
        CertificateStatus::Valid(device) if device.name == name => Ok(device),
        CertificateStatus::Valid(device) => {
            tracing::warn!(certificate_of = %device.name, asked_for = %name, "refused: certificate of another device");
            Err(Refusal::new(
                RefusalKind::Forbidden,
                format!("the client certificate belongs to device `{}`, which may not act for `{name}`", device.name),
            ))
        }
        other => Err(Refusal::new(RefusalKind::Unauthenticated, other.refusal())),
    })
}

/// `NextCommand`, `ReportResult` and `ReportInventory` of an authenticated device: its own
/// queue and inventory, served on the fast path once its certificate is known.
fn queue_exchange(session: &mut Session, device: DeviceId, name: &str, request: &AgentRequest) -> Step<Served> {
    match request {
        AgentRequest::NextCommand => {
            let (instruction, answer) = instruct(session.next_command(device)?)?;
            Ok(Ok(Served::Answer(AgentAnswer::NextCommand(instruction), answer)))
        }
        AgentRequest::ReportResult { command, reported, message } => {
            let Ok(id) = command.parse::<i64>() else {
                return Ok(Err(Refusal::new(RefusalKind::UnknownCommand, format!("`{command}` is not a command id"))));
            };
            tracing::Span::current().record("command", id);
            let head = match session.report_and_next(device, CommandId(id), *reported, message) {
                Ok((recorded, head)) => {
                    tracing::info!(command = id, ?reported, ?recorded, "result recorded");
                    head
                }
                Err(StorageError::NotFound { .. } | StorageError::Invalid(_)) => {
                    let outcome = match reported {
                        Reported::Succeeded => "succeeded",
                        Reported::Failed => "failed",
                        Reported::RebootUnderway => "rebootUnderway",
                    };
                    return Ok(Err(Refusal::new(
                        RefusalKind::UnknownCommand,
                        format!("command {id} was not handed out to device `{name}` (or cannot answer {outcome})"),
                    )));
                }
                Err(e) => return Err(e),
            };
            let (instruction, answer) = instruct(head)?;
            Ok(Ok(Served::Answer(AgentAnswer::ReportResult(instruction), answer)))
        }
        AgentRequest::ReportInventory(inventory) => {
            let drift = record_inventory(session, device, inventory)?;
            Ok(Ok(Served::Answer(AgentAnswer::Inventory { drift }, format!("inventory:{drift}"))))
        }
        other => Ok(Err(Refusal::new(RefusalKind::Invalid, format!("{} is no queue operation", other.operation())))),
    }
}

/// The head of a queue as the answer to the agent, and its line in the
/// exchange log. A payload that does not read (a row edited by hand) fails
/// the exchange, which rolls back.
fn instruct(head: Head) -> Result<(Instruction, String), StorageError> {
    Ok(match head {
        Head::Command(command) => {
            tracing::info!(command = %command.id, sequence = command.sequence, kind = %command.kind, "handing out command");
            let payload = Payload::from_json(&command.payload)
                .map_err(|e| StorageError::Invalid(format!("command {}: {e}", command.id)))?;
            let answer = format!("command:{}", command.id);
            (Instruction::Command(command, payload, None), answer)
        }
        Head::Empty => (Instruction::Nothing("empty"), "noCommand".into()),
        Head::Halted => (Instruction::Nothing("halted"), "noCommand:halted".into()),
        Head::Rebooting => (Instruction::Nothing("rebooting"), "noCommand:rebooting".into()),
    })
}

/// Where a package a plug-in asked for is, if the device is entitled to it:
/// a component of the model version it is provisioned to. Anything else,
/// another site's package included, gets the same refusal, so a device
/// learns nothing of packages outside its model.
fn locate(session: &mut Session, device: &Device, name: &str, version: &str) -> Step<PackageRef> {
    Ok(match session.model_package(device.id, name, version)? {
        Some(found) => Ok(PackageRef {
            name: name.to_owned(),
            version: version.to_owned(),
            format: found.format,
            sha256: found.sha256,
            size: found.size,
            storage_key: found.storage_key,
        }),
        None => {
            tracing::warn!(device = %device.name, package = %name, %version, "refused a package outside the device's model");
            Err(Refusal::new(
                RefusalKind::NotEntitled,
                format!("package {name} {version} is no component of the model of `{}`", device.name),
            ))
        }
    })
}

/// Decides whether the person whose operator certificate reached `device`'s
/// access endpoint may do what they asked, from the trust hierarchy, and
/// audits the question with the answer (who, what, where, from where).
fn authorise(session: &mut Session, device: &Device, ask: &AccessQuestion) -> Step<AgentAnswer> {
    let Some(action) = Action::parse(&ask.action).filter(|a| *a != Action::Admin) else {
        return Ok(Err(Refusal::invalid(format!("`{}` is not read, change or deploy", ask.action))));
    };
    use base64::Engine as _;
    let der = match base64::engine::general_purpose::STANDARD.decode(ask.operator_certificate.trim()) {
        Ok(der) => der,
        Err(e) => return Ok(Err(Refusal::invalid(format!("the operator certificate is not base64 DER: {e}")))),
    };
    let site = session.site_name(device.site)?;
    let category = ask.category.as_deref().filter(|c| !c.is_empty());
    let scope = category.map_or(Scope::SomeCategory, Scope::Category);
    let (allowed, operator, reason) = match session.operator_by_certificate(&crate::pki::fingerprint(&der))? {
        None => (false, String::new(), "the certificate is no valid operator certificate of this gateway".to_owned()),
        Some(o) => {
            let rights = session.rights_of(o.id)?;
            let principal = Principal::Operator { id: o.id, name: o.name.clone(), rights };
            if !principal.may(&site, scope, action) {
                let reason = format!("`{}` has no right to {} {scope} on site `{site}`", o.name, action.as_str());
                (false, o.name, reason)
            } else {
                match configured_file(session, device, category, ask)? {
                    Some(refusal) => (false, o.name, refusal),
                    None => (true, o.name, String::new()),
                }
            }
        }
    };
    tracing::info!(operator = %operator, action = action.as_str(), allowed, "agent access");
    session.audit(&AuditEntry {
        principal: if operator.is_empty() { "-".into() } else { operator.clone() },
        action: format!("AgentAccess:{}", action.as_str()),
        site: Some(site.clone()),
        object: format!("{} {}", device.name, ask.object),
        peer: ask.from.clone(),
        outcome: if allowed { Outcome::Allowed } else { Outcome::Refused },
        detail: if allowed { format!("at agent {} ({scope} on site `{site}`)", device.name) } else { reason.clone() },
        created_at: outfit_domain::now_ms(),
    })?;
    Ok(Ok(AgentAnswer::Authorised { allowed, operator, reason }))
}

/// A configuration change may touch only the file of a component of the
/// named category in the device's model: `Some(why not)` otherwise.
fn configured_file(
    session: &mut Session,
    device: &Device,
    category: Option<&str>,
    ask: &AccessQuestion,
) -> Result<Option<String>, StorageError> {
    let (Some(component), Some(path)) = (ask.component.as_deref(), ask.path.as_deref()) else {
        return Ok(None);
    };
    let Some(category) = category else {
        return Ok(Some("a configuration change must name its role category".into()));
    };
    let found = session.configured_paths(device, category)?.into_iter().any(|(c, p)| c == component && p == path);
    Ok((!found).then(|| {
        format!("no component `{component}` of the {category} roles of `{}` configures `{path}`", device.name)
    }))
}

/// Whether a package download goes out, and if not, why (the agent shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    Allowed,
    Refused(String),
}

impl Services {
    /// Decides a download of the package stored under `key` in one exchange:
    /// the certificate's device, its entitlement, and the log row of a refusal.
    pub fn release_package(&self, connection: &Connection, key: &str) -> Result<Release, Failure> {
        self.release(connection, key, None)
    }

    /// [`Self::release_package`] for a download a file server was asked
    /// for, when the device is of one of `served` (the file server's sites).
    pub(crate) fn release(
        &self,
        connection: &Connection,
        key: &str,
        served: Option<&[String]>,
    ) -> Result<Release, Failure> {
        let Some(certificate) = &connection.certificate else {
            return Ok(Release::Refused("a client certificate is required (enrol first)".into()));
        };
        let fingerprint = crate::pki::fingerprint(certificate);
        let released = self.storage.exchange(|session| {
            let device = match session.certificate(&fingerprint)? {
                CertificateStatus::Valid(device) => device,
                other => return Ok(Release::Refused(other.refusal())),
            };
            let refused = match served {
                Some(sites) => {
                    let site = session.site_name(device.site)?;
                    (!sites.contains(&site)).then(|| {
                        format!("`{}` is a device of site `{site}`, which this file server does not serve", device.name)
                    })
                }
                None => None,
            };
            let refused = match refused {
                Some(refused) => refused,
                None if session.entitled(device.id, key)? => return Ok(Release::Allowed),
                None => format!("neither a command nor the model of `{}` holds this package", device.name),
            };
            tracing::warn!(device = %device.name, key, %refused, "refused a download");
            session.record_exchange(&ExchangeRecord {
                device: Some(device.id),
                operation: "download",
                connection_serial: connection.serial,
                gateway_instance: self.instance.clone(),
                peer: connection.peer.clone(),
                answer: format!("Forbidden:{key}"),
            })?;
            Ok::<_, StorageError>(Release::Refused(refused))
        });
        released.map_err(Failure::internal)
    }

    /// Closes what time has decided: pending commands past their deadline
    /// expire; commands out longer than their kind's timeout (`timeouts`:
    /// kind → seconds) time out, halting their queue.
    pub fn sweep(&self, timeouts: &std::collections::BTreeMap<String, u64>) -> Result<Swept, Failure> {
        self.storage.sweep(timeouts).map_err(Failure::internal)
    }
}
