//! The operator endpoint: SOAP services for people and enterprise systems, on
//! a listener of their own (apart from the agent endpoint). Every operation
//! takes the same steps: decode → authenticate (an operator client
//! certificate, or a WS-Security UsernameToken) → one use case of
//! `outfit-app` (which authorises, acts and audits) → encode. A request
//! refused before any use case runs (undecodable, unauthenticated) is audited
//! here. The operations live by aggregate, as the use cases do: `devices`,
//! `queue`, `models`, `versions` (history, categories), `rollouts`, `drift`
//! (inventory, drift, remediation, promotion), `scripts`,
//! `trust` (operators, groups, rights), `audit`.

mod audit;
mod devices;
mod drift;
mod models;
mod queue;
mod rollouts;
mod scripts;
mod trust;
mod versions;

use super::{Answered, fault, respond_fault};
use outfit_app::audit::RefusedRequest;
use outfit_app::operators::Credentials;
use outfit_app::{Failure, RefusalKind, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::envelope::SoapFault;
use outfit_wsdl::operator::{OperatorRequest, OperatorResponse, decode_operator_request, encode_response};

/// Serves the operator operations for one gateway process.
#[derive(Debug, Clone)]
pub struct OperatorEndpoint {
    pub services: Services,
    /// How long a reboot may take before `ListDevices` calls it overdue.
    pub reboot_deadline_ms: i64,
}

impl OperatorEndpoint {
    /// Handles one request body from `peer`, who presented `certificate`
    /// (DER) or none; returns the response. Blocking (argon2, database):
    /// run it off the async threads.
    pub fn handle(&self, peer: &str, certificate: Option<&[u8]>, body: &[u8]) -> Answered {
        let (request, credentials) = match decode_operator_request(body) {
            Ok(decoded) => decoded,
            Err(fault) => {
                let code = fault.code.as_str();
                let request = RefusedRequest {
                    claimed: "-",
                    operation: "invalid",
                    site: None,
                    object: "-",
                    from: peer,
                    code,
                    message: "",
                };
                self.services.audit_refused_request(&request);
                return Answered::fault("invalid", &fault);
            }
        };
        let operation = request.operation();
        let (site, object) = subject(&request);
        let claimed = credentials.as_ref().map_or("-".to_owned(), |c| c.username.clone());
        let span = tracing::info_span!(
            "operator",
            operation,
            operator = tracing::field::Empty,
            site = site.as_deref().unwrap_or("-")
        );
        let _entered = span.enter();
        let password = credentials.as_ref().ok().map(|c| (c.username.as_str(), c.password.as_str()));
        let principal = match self.services.authenticate(Credentials { certificate, password }) {
            Ok(principal) => principal,
            Err(failure) => {
                let fault = match (&failure, credentials) {
                    // No operator certificate: why the UsernameToken would not do.
                    (Failure::Refused(r), Err(decoded)) if r.kind == RefusalKind::Unauthenticated => decoded,
                    _ => fault(&failure),
                };
                tracing::warn!(code = fault.code.as_str(), reason = %fault.message, "operator request refused");
                let code = fault.code.as_str();
                let (site, message) = (site.as_deref(), fault.message.as_str());
                let request =
                    RefusedRequest { claimed: &claimed, operation, site, object: &object, from: peer, code, message };
                self.services.audit_refused_request(&request);
                return Answered::fault(operation, &fault);
            }
        };
        span.record("operator", principal.name().as_str());
        let caller = Caller { principal, from: peer.to_owned() };
        // One line per call, in the span (operation, operator, site): the API's access log.
        match self.serve(&caller, request) {
            Ok(response) => {
                tracing::info!(outcome = "ok", "operator request served");
                Answered::ok(operation, encode_response(response))
            }
            Err(fault) => {
                tracing::info!(outcome = fault.code.as_str(), "operator request served");
                respond_fault(operation, &fault)
            }
        }
    }

    fn serve(&self, caller: &Caller, request: OperatorRequest) -> Result<OperatorResponse, SoapFault> {
        use OperatorRequest as Q;
        use OperatorResponse as R;
        let s = &self.services;
        let answer = match request {
            Q::SetParameter(m) => models::set_parameter(s, caller, m).map(R::SetParameter),
            Q::Provision(m) => queue::provision(s, caller, m).map(R::Provision),
            Q::ProvisionMany(m) => queue::provision_many(s, caller, m).map(R::ProvisionMany),
            Q::ListDevices(m) => devices::list(s, caller, m, self.reboot_deadline_ms).map(R::ListDevices),
            Q::ShowDevice(m) => devices::show(s, caller, m).map(R::ShowDevice),
            Q::AddDevice(m) => devices::add(s, caller, m).map(R::AddDevice),
            Q::IssueToken(m) => devices::issue_token(s, caller, m).map(R::IssueToken),
            Q::RevokeDevice(m) => devices::revoke(s, caller, m).map(R::RevokeDevice),
            Q::ListEnrolmentRequests(m) => devices::requests(s, caller, m).map(R::ListEnrolmentRequests),
            Q::ApproveEnrolment(m) => devices::approve(s, caller, m).map(R::ApproveEnrolment),
            Q::RejectEnrolment(m) => devices::reject(s, caller, m).map(R::RejectEnrolment),
            Q::ShowQueue(m) => queue::show(s, caller, m).map(R::ShowQueue),
            Q::Retry(m) => queue::retry(s, caller, m).map(R::Retry),
            Q::Skip(m) => queue::skip(s, caller, m).map(R::Skip),
            Q::Abort(m) => queue::abort(s, caller, m).map(R::Abort),
            Q::Reboot(m) => queue::reboot(s, caller, m).map(R::Reboot),
            Q::ListScripts(m) => scripts::list(s, caller, m).map(R::ListScripts),
            Q::RunScript(m) => scripts::run(s, caller, m).map(R::RunScript),
            Q::RollbackPlugin(m) => scripts::rollback_plugin(s, caller, m).map(R::RollbackPlugin),
            Q::SaveOperator(m) => trust::save_operator(s, caller, m).map(R::SaveOperator),
            Q::IssueOperatorCertificate(m) => trust::issue_certificate(s, caller, m).map(R::IssueOperatorCertificate),
            Q::RevokeOperatorCertificates(m) => {
                trust::revoke_certificates(s, caller, m).map(R::RevokeOperatorCertificates)
            }
            Q::AddGroup(m) => trust::add_group(s, caller, m).map(R::AddGroup),
            Q::JoinGroup(m) => trust::join_group(s, caller, m).map(R::JoinGroup),
            Q::Grant(m) => trust::grant(s, caller, m).map(R::Grant),
            Q::ListAudit(m) => audit::list(s, caller, m).map(R::ListAudit),
            Q::ImportModel(m) => models::import(s, caller, m).map(R::ImportModel),
            Q::ListModels(m) => models::list(s, caller, m).map(R::ListModels),
            Q::ShowModel(m) => models::show(s, caller, m).map(R::ShowModel),
            Q::ListPackages(m) => models::packages(s, caller, m).map(R::ListPackages),
            Q::ImportScript(m) => models::import_script(s, caller, m).map(R::ImportScript),
            Q::InstallPlugin(m) => scripts::install_plugin(s, caller, m).map(R::InstallPlugin),
            Q::ListModelVersions(m) => versions::list(s, caller, m).map(R::ListModelVersions),
            Q::ListProposals(m) => versions::proposals(s, caller, m).map(R::ListProposals),
            Q::DiffModel(m) => versions::diff(s, caller, m).map(R::DiffModel),
            Q::RollbackModel(m) => versions::rollback(s, caller, m).map(R::RollbackModel),
            Q::ListCategories(m) => versions::categories(s, caller, m).map(R::ListCategories),
            Q::AddCategory(m) => versions::add_category(s, caller, m).map(R::AddCategory),
            Q::PlanRollout(m) => rollouts::plan(s, caller, m).map(R::PlanRollout),
            Q::StartRollout(m) => rollouts::start(s, caller, m).map(R::StartRollout),
            Q::ListRollouts(m) => rollouts::list(s, caller, m).map(R::ListRollouts),
            Q::ShowRollout(m) => rollouts::show(s, caller, m).map(R::ShowRollout),
            Q::SteerRollout(m) => rollouts::steer(s, caller, m).map(R::SteerRollout),
            Q::ShowInventory(m) => drift::show(s, caller, m).map(R::ShowInventory),
            Q::ListDrift(m) => drift::list(s, caller, m).map(R::ListDrift),
            Q::RequestInventory(m) => drift::request(s, caller, m).map(R::RequestInventory),
            Q::Remediate(m) => drift::remediate(s, caller, m).map(R::Remediate),
            Q::PromoteDrift(m) => drift::promote(s, caller, m).map(R::PromoteDrift),
        };
        answer.map_err(|f| fault(&f))
    }
}

/// The site and object an audit line names for a request refused before
/// its use case ran.
fn subject(request: &OperatorRequest) -> (Option<String>, String) {
    use OperatorRequest as Q;
    let site = |s: &str| Some(s.to_owned());
    match request {
        Q::SetParameter(m) => (site(&m.site), format!("{}/{} {}.{}", m.model, m.category, m.component, m.name)),
        Q::Provision(m) => (site(&m.site), m.device.clone()),
        Q::ProvisionMany(m) => (m.site.clone(), targets_object(&m.device, m.model.as_deref())),
        Q::AddDevice(m) => (site(&m.site), m.device.clone()),
        Q::IssueToken(m) => (site(&m.site), m.device.clone()),
        Q::RunScript(m) => {
            (site(&m.site), format!("{} on {}", m.script, targets_object(&m.device, m.model.as_deref())))
        }
        Q::RollbackPlugin(m) => {
            (site(&m.site), format!("{} on {}", m.plugin, targets_object(&m.device, m.model.as_deref())))
        }
        Q::ShowDevice(m) => (None, m.device.clone()),
        Q::RevokeDevice(m) => (None, m.device.clone()),
        Q::ApproveEnrolment(m) => (None, m.device.clone()),
        Q::RejectEnrolment(m) => (None, m.device.clone()),
        Q::ShowQueue(m) => (None, m.device.clone()),
        Q::Retry(m) => (None, m.device.clone()),
        Q::Skip(m) => (None, m.device.clone()),
        Q::Abort(m) => (None, m.device.clone()),
        Q::Reboot(m) => (None, m.device.clone()),
        Q::SaveOperator(m) => (None, m.operator.clone()),
        Q::IssueOperatorCertificate(m) => (None, m.operator.clone()),
        Q::RevokeOperatorCertificates(m) => (None, m.operator.clone()),
        Q::AddGroup(m) => (None, m.group.clone()),
        Q::JoinGroup(m) => (None, m.group.clone()),
        Q::Grant(m) => (m.site.clone(), m.operator.clone().or_else(|| m.group.clone()).unwrap_or_default()),
        Q::ListDevices(m) => (m.site.clone(), "-".into()),
        Q::ListAudit(m) => (m.site.clone(), "-".into()),
        Q::ImportModel(m) => (site(&m.site), m.name.clone()),
        Q::ShowModel(m) => (site(&m.site), m.model.clone()),
        Q::ListModels(m) => (m.site.clone(), "-".into()),
        Q::ImportScript(m) => (site(&m.site), m.name.clone()),
        Q::InstallPlugin(m) => (site(&m.site), targets_object(&m.device, m.model.as_deref())),
        Q::ListModelVersions(m) => (site(&m.site), m.model.clone()),
        Q::ListProposals(m) => (site(&m.site), m.model.clone().unwrap_or_else(|| "-".into())),
        Q::DiffModel(m) => (site(&m.site), m.model.clone()),
        Q::RollbackModel(m) => (site(&m.site), format!("{} to version {}", m.model, m.version)),
        Q::AddCategory(m) => (None, m.name.clone()),
        Q::PlanRollout(m) => (site(&m.site), m.model.clone()),
        Q::StartRollout(m) => (site(&m.site), m.model.clone()),
        Q::ListRollouts(m) => (site(&m.site), m.model.clone().unwrap_or_else(|| "-".into())),
        Q::ShowRollout(m) => (None, format!("rollout {}", m.rollout)),
        Q::SteerRollout(m) => (None, format!("rollout {}", m.rollout)),
        Q::ShowInventory(m) => (None, m.device.clone()),
        Q::ListDrift(m) => (m.site.clone(), m.device.clone().or_else(|| m.model.clone()).unwrap_or_else(|| "-".into())),
        Q::RequestInventory(m) => (site(&m.site), targets_object(&m.device, m.model.as_deref())),
        Q::Remediate(m) => (None, m.device.clone()),
        Q::PromoteDrift(m) => (None, format!("drift {}", m.drift)),
        Q::ListEnrolmentRequests(_) | Q::ListScripts(_) | Q::ListPackages(_) | Q::ListCategories(_) => {
            (None, "-".into())
        }
    }
}

/// How the audit log names the devices a request targets.
fn targets_object(devices: &[String], model: Option<&str>) -> String {
    outfit_app::provisioning::Targets::of(devices, model).map_or_else(|_| "-".into(), |t| t.describe())
}

/// A request's input the edge could not make into a use case's: refused and
/// audited here, since no use case ran.
fn input<T>(
    s: &Services,
    caller: &Caller,
    action: &str,
    site: Option<&str>,
    object: &str,
    checked: Result<T, outfit_app::Refusal>,
) -> Result<T, Failure> {
    checked.map_err(|refusal| s.refuse_input(caller, action, site, object, refusal))
}

/// Seconds from now as a deadline in Unix ms.
fn deadline(expires_in: Option<i64>) -> Option<i64> {
    expires_in.map(|secs| outfit_domain::now_ms() + secs.max(0) * 1000)
}

/// Unix ms as ISO-8601 UTC with milliseconds (`2026-12-05T08:00:00.000Z`).
fn iso8601(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time.format(&format).unwrap_or_else(|_| ms.to_string())
}
