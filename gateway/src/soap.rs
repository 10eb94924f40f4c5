//! The gateway's agent endpoint: `Hello`, `NextCommand`, `ReportResult`,
//! `Renew`, `Authorise` and `LocatePackage`.
//! Every operation takes the same steps: decode → authenticate → domain call →
//! encode. Faults are built only here, from typed errors; database text never
//! reaches the wire (it goes to the log).
//!
//! **Boundary:** this is the one place that converts queue rows to SOAP types.

use crate::queue::Payload;
use crate::storage::{
    Action, AuditEntry, CertificateStatus, CommandRow, DeviceRow, ExchangeRecord, Head, Issued, Reported, Session,
    Storage, StorageError,
};
use outfit_wsdl::envelope::{
    FaultCode, GatewayRequest, GatewayResponse, SoapFault, decode_gateway_request, encode_fault,
};
use outfit_wsdl::messages::{
    Authorise, AuthoriseResponse, Command, CommandKind, ConfigFile, Enrol, EnrolResponse, HelloResponse, Instruction,
    LocatePackage, LocatePackageResponse, NetworkConfig, Outcome, Package, Parameter, RenewResponse, ServiceChange,
};
use outfit_wsdl::transport::Connection;

/// Serves the agent operations for one gateway process.
#[derive(Debug, Clone)]
pub struct AgentService {
    pub storage: Storage,
    /// Distinguishes this gateway process in the exchange log.
    pub instance: String,
    /// The CA key (PEM) that signs device certificates at enrolment and renewal.
    pub ca_key_pem: std::sync::Arc<str>,
    /// Days a device certificate is valid.
    pub device_cert_days: u64,
    /// Which device each certificate seen so far was issued to.
    pub certified: std::sync::Arc<Certified>,
}

/// The device each client certificate was issued to, remembered by
/// fingerprint once a full check has passed. That pairing never changes
/// (certificates are not reassigned, devices not renamed); whether the
/// certificate is still valid does (revoked, past its end, cut short by a
/// renewal), and is checked inside each exchange's own transaction by the
/// statement that writes its log row. So a queue exchange of a known
/// certificate costs no lookup of its own.
#[derive(Debug, Default)]
pub struct Certified {
    devices: std::sync::Mutex<std::collections::HashMap<String, (i64, String)>>,
}

impl Certified {
    /// Certificates remembered at most; past that the memory starts afresh
    /// (renewals leave old fingerprints behind).
    const LIMIT: usize = 200_000;

    fn device(&self, fingerprint: &str) -> Option<(i64, String)> {
        self.devices.lock().unwrap_or_else(|e| e.into_inner()).get(fingerprint).cloned()
    }

    fn remember(&self, fingerprint: &str, device: &DeviceRow) {
        let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        if devices.len() >= Self::LIMIT {
            devices.clear();
        }
        devices.insert(fingerprint.to_owned(), (device.id, device.name.clone()));
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

fn internal(e: StorageError) -> SoapFault {
    tracing::error!(error = %e, "storage failed while serving an agent");
    internal_fault()
}

/// What the agent learns of a failure inside the gateway (the cause is logged).
fn internal_fault() -> SoapFault {
    SoapFault::new(FaultCode::Internal, "the gateway could not complete the request; see its log")
}

/// The queue row as the agent sees it.
fn to_wire(row: &CommandRow) -> Result<Command, StorageError> {
    let mut command = Command { id: row.id.to_string(), sequence: row.sequence, run: row.run, ..Command::default() };
    match Payload::of(row)? {
        Payload::Install { package_name, version, format, sha256, size, storage_key, plugin, .. } => {
            command.kind = Some(CommandKind::Install);
            command.plugin = plugin;
            command.install = Some(Package {
                name: package_name,
                version,
                format,
                sha256,
                size,
                location: format!("/repository/{storage_key}"),
            });
        }
        Payload::Configure { component, path, template, parameters, attributes, plugin } => {
            command.kind = Some(CommandKind::Configure);
            command.plugin = plugin;
            let parameters = parameters.into_iter().map(|(name, value)| Parameter { name, value }).collect();
            let file = ConfigFile::new(&component, &path, &template, parameters);
            let (mode, owner, group) = (attributes.mode, attributes.owner, attributes.group);
            command.configure = Some(ConfigFile { mode, owner, group, ..file });
        }
        Payload::Reboot => command.kind = Some(CommandKind::Reboot),
        Payload::InstallPlugin { name, version, sha256, size, storage_key, .. } => {
            command.kind = Some(CommandKind::InstallPlugin);
            command.install = Some(Package {
                name,
                version,
                format: crate::plugin::FORMAT.to_owned(),
                sha256,
                size,
                location: format!("/repository/{storage_key}"),
            });
        }
        Payload::RollbackPlugin { name } => {
            command.kind = Some(CommandKind::RollbackPlugin);
            command.plugin = Some(name);
        }
        Payload::Network { interface, address, gateway, dns } => {
            command.kind = Some(CommandKind::Network);
            command.network = Some(NetworkConfig { interface, address, gateway, dns });
        }
        Payload::Service { name, action } => {
            command.kind = Some(CommandKind::Service);
            command.service = Some(ServiceChange { name, action });
        }
    }
    Ok(command)
}

/// Why an operation did not produce a response: a refusal the agent is told
/// about (the exchange still commits, with its log row), or a storage error
/// (the exchange rolls back; the agent gets an `Internal` fault).
enum Failure {
    Fault(SoapFault),
    Storage(StorageError),
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<SoapFault> for Failure {
    fn from(f: SoapFault) -> Self {
        Self::Fault(f)
    }
}

impl AgentService {
    /// Handles one request body; returns the response envelope and whether it is a fault.
    pub fn handle(&self, connection: Connection, body: &[u8]) -> (String, bool) {
        let peer = connection.peer.to_string();
        let log = |device: Option<i64>, operation: &'static str, answer: &str| ExchangeRecord {
            device,
            operation,
            connection_serial: connection.serial,
            gateway_instance: self.instance.clone(),
            peer: peer.clone(),
            answer: answer.to_owned(),
        };
        let request = match decode_gateway_request(body) {
            Ok(GatewayRequest::Enrol(enrol)) => {
                let (envelope, answer, is_fault) = self.enrol(&enrol, &peer);
                self.log_apart(&log(None, "Enrol", &answer));
                return (envelope, is_fault);
            }
            Ok(request) => request,
            // Decoding needs no database: a malformed request gets its own fault
            // even while the database is down.
            Err(fault) => {
                self.log_apart(&log(None, "invalid", fault.code.as_str()));
                return (respond_fault("invalid", &fault), true);
            }
        };
        let operation = request.operation();
        let span =
            tracing::info_span!("soap", operation, device = tracing::field::Empty, command = tracing::field::Empty);
        let _entered = span.enter();
        let failed = |e: StorageError| {
            let fault = internal(e);
            self.log_apart(&log(None, operation, fault.code.as_str()));
            (respond_fault(operation, &fault), true)
        };
        let presented = connection.certificate.as_deref();
        let certificate = presented.map(crate::pki::fingerprint);
        // A queue exchange of a certificate already checked once: one
        // transaction of queue change and log row, the latter written only if
        // the certificate still holds.
        if let Some(fingerprint) = certificate.as_deref()
            && let Some((id, name)) = self.certified.device(fingerprint)
            && name == request.device()
            && matches!(request, GatewayRequest::NextCommand(_) | GatewayRequest::ReportResult(_))
        {
            span.record("device", name.as_str());
            let served = self.storage.exchange(|session| -> Result<(String, bool), Undone> {
                let (envelope, answer, is_fault) =
                    encode(operation, self.queue_exchange(session, id, &name, &request))?;
                if !session.record_exchange_if_certified(&log(Some(id), operation, &answer), fingerprint)? {
                    return Err(Undone::NotCertified);
                }
                Ok((envelope, is_fault))
            });
            match served {
                Ok(served) => return served,
                Err(Undone::Storage(e)) => return failed(e),
                // Rolled back; the full check below says why.
                Err(Undone::NotCertified) => {
                    tracing::info!("certificate no longer valid; exchange undone");
                    self.certified.forget(fingerprint);
                }
            }
        }
        // The whole exchange is one transaction: lookup, queue change, log row.
        let served = self.storage.exchange(|session| -> Result<(String, bool), StorageError> {
            let (device, result) = match authenticate(session, &request, certificate.as_deref()) {
                Ok(device) => {
                    span.record("device", device.name.as_str());
                    if let Some(fingerprint) = certificate.as_deref() {
                        self.certified.remember(fingerprint, &device);
                    }
                    let result = self.dispatch(session, &device, &request, presented.unwrap_or_default());
                    (Some(device.id), result)
                }
                Err(failure) => (None, Err(failure)),
            };
            let (envelope, answer, is_fault) = encode(operation, result)?;
            session.record_exchange(&log(device, operation, &answer))?;
            Ok((envelope, is_fault))
        });
        served.unwrap_or_else(failed)
    }

    /// `Enrol`, the one operation served without a client certificate:
    /// returns the envelope, the exchange log's answer and whether it is a fault.
    fn enrol(&self, request: &Enrol, peer: &str) -> (String, String, bool) {
        use crate::enrol::{Enrolled, Refusal};
        let span = tracing::info_span!("soap", operation = "Enrol", device = %request.device, site = %request.site);
        let _entered = span.enter();
        match crate::enrol::enrol(&self.storage, &self.ca_key_pem, self.device_cert_days, request, peer) {
            Ok(Ok(Enrolled::Certificate(certificate))) => {
                tracing::info!("device enrolled; certificate issued");
                let response = GatewayResponse::Enrol(EnrolResponse { certificate: Some(certificate), waiting: None });
                (response.encode(), "enrolled".to_owned(), false)
            }
            Ok(Ok(Enrolled::Waiting(message))) => {
                let response = GatewayResponse::Enrol(EnrolResponse { certificate: None, waiting: Some(message) });
                (response.encode(), "waiting".to_owned(), false)
            }
            Ok(Err(refusal)) => {
                let code = match refusal {
                    Refusal::Token(_) => FaultCode::TokenRefused,
                    Refusal::Csr(_) => FaultCode::BadCsr,
                    Refusal::Request(_) => FaultCode::EnrolmentRefused,
                };
                let fault = SoapFault::new(code, refusal.to_string());
                (respond_fault("Enrol", &fault), code.as_str().to_owned(), true)
            }
            Err(e) => {
                tracing::error!(error = %e, "enrolment failed inside the gateway");
                let fault = internal_fault();
                (respond_fault("Enrol", &fault), fault.code.as_str().to_owned(), true)
            }
        }
    }

    /// Logs an exchange that has no transaction of its own to join.
    fn log_apart(&self, record: &ExchangeRecord) {
        if let Err(e) = self.storage.record_exchange(record) {
            tracing::warn!(error = %e, "could not log the exchange");
        }
    }
}

/// An operation's outcome as (envelope, the exchange log's answer, is it a
/// fault); a storage error is passed on, to roll the exchange back.
fn encode(
    operation: &str,
    result: Result<(GatewayResponse, String), Failure>,
) -> Result<(String, String, bool), StorageError> {
    match result {
        Ok((response, answer)) => Ok((response.encode(), answer, false)),
        Err(Failure::Fault(fault)) => Ok((respond_fault(operation, &fault), fault.code.as_str().to_owned(), true)),
        Err(Failure::Storage(e)) => Err(e),
    }
}

fn respond_fault(operation: &str, fault: &SoapFault) -> String {
    tracing::info!(operation, code = fault.code.as_str(), message = %fault.message, "answered with a fault");
    encode_fault(fault)
}

/// Finds the device a request speaks for: the one its client certificate was
/// issued to (checked against the database on every request, so a revocation
/// takes effect at once), which must be the device the request names.
fn authenticate(
    session: &mut Session,
    request: &GatewayRequest,
    certificate: Option<&str>,
) -> Result<DeviceRow, Failure> {
    let name = request.device();
    let refuse = |code, message: String| -> Result<DeviceRow, Failure> { Err(SoapFault::new(code, message).into()) };
    let Some(fingerprint) = certificate else {
        return refuse(
            FaultCode::Unauthenticated,
            "this operation needs the device's client certificate; enrol the agent first (--enrol-token)".into(),
        );
    };
    match session.certificate(fingerprint)? {
        CertificateStatus::Valid(device) if device.name == name => Ok(device),
        CertificateStatus::Valid(device) => {
            tracing::warn!(certificate_of = %device.name, asked_for = %name, "refused: certificate of another device");
            refuse(
                FaultCode::Forbidden,
                format!("the client certificate belongs to device `{}`, which may not act for `{name}`", device.name),
            )
        }
        other => refuse(FaultCode::Unauthenticated, other.refusal()),
    }
}

impl AgentService {
    fn dispatch(
        &self,
        session: &mut Session,
        device: &DeviceRow,
        request: &GatewayRequest,
        presented: &[u8],
    ) -> Result<(GatewayResponse, String), Failure> {
        match request {
            // Served by `AgentService::enrol` before any authentication.
            GatewayRequest::Enrol(_) => Err(SoapFault::new(
                FaultCode::UnknownOperation,
                "Enrol needs no client certificate; it is served apart",
            )
            .into()),
            GatewayRequest::Renew(renew) => {
                let days = self.device_cert_days;
                let cert = match crate::enrol::renew(&self.ca_key_pem, days, &renew.csr, &device.name, presented) {
                    Ok(Ok(cert)) => cert,
                    Ok(Err(refusal)) => return Err(SoapFault::new(FaultCode::BadCsr, refusal.to_string()).into()),
                    Err(e) => {
                        tracing::error!(error = %e, "renewal failed inside the gateway");
                        return Err(internal_fault().into());
                    }
                };
                session.renew(
                    device.id,
                    &Issued { fingerprint: cert.fingerprint.clone(), not_after_ms: cert.not_after_ms },
                )?;
                tracing::info!(fingerprint = %cert.fingerprint, "certificate renewed");
                Ok((GatewayResponse::Renew(RenewResponse { certificate: cert.pem }), "renewed".into()))
            }
            GatewayRequest::Authorise(ask) => {
                Ok((GatewayResponse::Authorise(authorise(session, device, ask)?), "authorise".into()))
            }
            GatewayRequest::Hello(hello) => {
                let report = crate::serving::AgentReport::of(hello).map(|r| r.to_column());
                let (rebooted, waiting) = session.record_hello(
                    device,
                    &hello.boot_id,
                    &hello.agent_version,
                    hello.poke_url.as_deref(),
                    report.as_deref(),
                )?;
                if let Some(command) = rebooted {
                    tracing::info!(command, boot_id = %hello.boot_id, "device is back from its reboot; queue resumes");
                }
                Ok((GatewayResponse::Hello(HelloResponse { pending_commands: waiting }), "hello".into()))
            }
            GatewayRequest::NextCommand(_) | GatewayRequest::ReportResult(_) => {
                self.queue_exchange(session, device.id, &device.name, request)
            }
            GatewayRequest::LocatePackage(ask) => {
                let package = locate(session, device, ask)?;
                let answer = format!("package:{}", package.location);
                Ok((GatewayResponse::LocatePackage(LocatePackageResponse { package }), answer))
            }
        }
    }

    /// `NextCommand` and `ReportResult` of an authenticated device.
    fn queue_exchange(
        &self,
        session: &mut Session,
        device: i64,
        name: &str,
        request: &GatewayRequest,
    ) -> Result<(GatewayResponse, String), Failure> {
        match request {
            GatewayRequest::NextCommand(_) => {
                let (instruction, answer) = instruct(session.next_command(device)?)?;
                Ok((GatewayResponse::NextCommand(instruction.into()), answer))
            }
            GatewayRequest::ReportResult(report) => {
                let id: i64 = report.command_id.parse().map_err(|_| {
                    SoapFault::new(FaultCode::UnknownCommand, format!("`{}` is not a command id", report.command_id))
                })?;
                tracing::Span::current().record("command", id);
                let outcome = report.outcome.expect("validated");
                let reported = match outcome {
                    Outcome::Succeeded => Reported::Succeeded,
                    Outcome::Failed => Reported::Failed,
                    Outcome::RebootUnderway => Reported::RebootUnderway,
                };
                let head = match session.report_and_next(device, id, reported, &report.message) {
                    Ok((recorded, head)) => {
                        tracing::info!(command = id, ?reported, ?recorded, "result recorded");
                        head
                    }
                    Err(StorageError::NotFound { .. } | StorageError::Invalid(_)) => {
                        return Err(SoapFault::new(
                            FaultCode::UnknownCommand,
                            format!(
                                "command {id} was not handed out to device `{}` (or cannot answer {})",
                                name,
                                outcome.as_str()
                            ),
                        )
                        .into());
                    }
                    Err(e) => return Err(e.into()),
                };
                let (instruction, answer) = instruct(head)?;
                Ok((GatewayResponse::ReportResult(instruction.into()), answer))
            }
            other => {
                Err(SoapFault::new(FaultCode::UnknownOperation, format!("{} is no queue operation", other.operation()))
                    .into())
            }
        }
    }
}

/// Where a package a plug-in asked for is, if the device is entitled to it:
/// a component of the model version it is provisioned to. Anything else,
/// another site's package included, gets the same refusal, so a device
/// learns nothing of packages outside its model.
fn locate(session: &mut Session, device: &DeviceRow, ask: &LocatePackage) -> Result<Package, Failure> {
    match session.model_package(device.id, &ask.name, &ask.version)? {
        Some(found) => Ok(Package {
            name: ask.name.clone(),
            version: ask.version.clone(),
            format: found.format,
            sha256: found.sha256,
            size: found.size,
            location: format!("/repository/{}", found.storage_key),
        }),
        None => {
            tracing::warn!(device = %device.name, package = %ask.name, version = %ask.version, "refused a package outside the device's model");
            Err(SoapFault::new(
                FaultCode::NotEntitled,
                format!("package {} {} is no component of the model of `{}`", ask.name, ask.version, device.name),
            )
            .into())
        }
    }
}

/// Decides whether the person whose operator certificate reached `device`'s
/// access endpoint may do what they asked, from the trust hierarchy, and
/// audits the question with the answer (who, what, where, from where).
fn authorise(session: &mut Session, device: &DeviceRow, ask: &Authorise) -> Result<AuthoriseResponse, Failure> {
    let action = Action::parse(&ask.action)
        .ok_or_else(|| SoapFault::new(FaultCode::Invalid, format!("`{}` is not read, change or deploy", ask.action)))?;
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(ask.operator.trim())
        .map_err(|e| SoapFault::new(FaultCode::Invalid, format!("the operator certificate is not base64 DER: {e}")))?;
    let site = session.site_name(device.site_id)?;
    let category = ask.category.as_deref().filter(|c| !c.is_empty());
    let scope = format!("{} on site `{site}`", category.map_or("any role".to_owned(), |c| format!("{c} roles")));
    let (allowed, operator, reason) = match session.operator_by_certificate(&crate::pki::fingerprint(&der))? {
        None => (false, String::new(), "the certificate is no valid operator certificate of this gateway".to_owned()),
        Some(o) if !session.allowed(o.id, &site, category, action)? => {
            let reason = format!("`{}` has no right to {} {scope}", o.name, action.as_str());
            (false, o.name, reason)
        }
        Some(o) => match configured_file(session, device, category, ask)? {
            Some(refusal) => (false, o.name, refusal),
            None => (true, o.name, String::new()),
        },
    };
    tracing::info!(operator = %operator, action = action.as_str(), allowed, "agent access");
    session.audit(&AuditEntry {
        principal: if operator.is_empty() { "-".into() } else { operator.clone() },
        action: format!("AgentAccess:{}", action.as_str()),
        site: Some(site),
        object: format!("{} {}", device.name, ask.object),
        peer: ask.from.clone(),
        outcome: if allowed { "allowed" } else { "refused" }.into(),
        detail: if allowed { format!("at agent {} ({scope})", device.name) } else { reason.clone() },
        created_at: crate::storage::now_ms(),
    })?;
    Ok(AuthoriseResponse { allowed, operator, reason })
}

/// A configuration change may touch only the file of a component of the
/// named category in the device's model: `Some(why not)` otherwise.
fn configured_file(
    session: &mut Session,
    device: &DeviceRow,
    category: Option<&str>,
    ask: &Authorise,
) -> Result<Option<String>, Failure> {
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

/// The head of a queue as the answer to the agent, and its line in the exchange log.
fn instruct(head: Head) -> Result<(Instruction, String), Failure> {
    match head {
        Head::Command(row) => {
            tracing::info!(command = row.id, sequence = row.sequence, kind = %row.kind, "handing out command");
            Ok((Instruction::command(to_wire(&row)?), format!("command:{}", row.id)))
        }
        Head::Empty => Ok((Instruction::nothing("empty"), "noCommand".into())),
        Head::Halted => Ok((Instruction::nothing("halted"), "noCommand:halted".into())),
        Head::Rebooting => Ok((Instruction::nothing("rebooting"), "noCommand:rebooting".into())),
    }
}
