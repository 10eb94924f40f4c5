//! The agent endpoint: `Enrol`, `Hello`, `NextCommand`, `ReportResult`,
//! `ReportInventory`, `Renew`, `Authorise` and `LocatePackage`. Each request is decoded here,
//! served by one use case (`outfit_app::agent`), and its answer encoded.
//!
//! **Boundary:** the one place queue rows, as the domain's commands, become
//! SOAP types for agents.

use super::{Answered, fault, respond_fault};
use outfit_app::Services;
use outfit_app::agent::{AccessQuestion, AgentAnswer, AgentRequest, Connection, EnrolRequest, Instruction};
use outfit_app::enrolment::Enrolled;
use outfit_domain::command::Payload;
use outfit_domain::queue::{QueuedCommand, Reported};
use outfit_domain::serving::{AgentReport, ReportedPlugin};
use outfit_wsdl::envelope::{GatewayRequest, GatewayResponse, SoapFault, decode_gateway_request};
use outfit_wsdl::messages::{
    AuthoriseResponse, Command, CommandKind, ConfigFile, EnrolResponse, Hello, HelloResponse, LocatePackageResponse,
    NetworkConfig, Outcome, Package, Parameter, RemovedPackage, RenewResponse, ServiceChange,
};

/// Serves the agent operations for one gateway process.
#[derive(Debug, Clone)]
pub struct AgentEndpoint {
    pub services: Services,
    /// Rung when a device reports a result or an inventory: the rollout
    /// driver then looks at once whether a stage is done, instead of at its
    /// next tick.
    pub reported: std::sync::Arc<tokio::sync::Notify>,
}

impl AgentEndpoint {
    /// Handles one request body; returns the response envelope and whether it is a fault.
    pub fn handle(&self, connection: outfit_wsdl::transport::Connection, body: &[u8]) -> Answered {
        let connection = Connection {
            serial: connection.serial,
            peer: connection.peer.to_string(),
            certificate: connection.certificate.map(|c| c.to_vec()),
        };
        let request = match decode_gateway_request(body) {
            Ok(request) => request,
            // Decoding needs no database: a malformed request gets its own fault
            // even while the database is down.
            Err(fault) => {
                self.services.log_undecoded(&connection, fault.code.as_str());
                return respond_fault("invalid", &fault);
            }
        };
        if let GatewayRequest::Enrol(enrol) = request {
            let span = tracing::info_span!("soap", operation = "Enrol", device = %enrol.device, site = %enrol.site);
            let _entered = span.enter();
            let ask = EnrolRequest { device: enrol.device, site: enrol.site, token: enrol.token, csr: enrol.csr };
            let response = self.services.enrol(&connection, &ask).map(|enrolled| {
                GatewayResponse::Enrol(match enrolled {
                    Enrolled::Certificate(pem) => EnrolResponse { certificate: Some(pem), waiting: None },
                    Enrolled::Waiting(message) => EnrolResponse { certificate: None, waiting: Some(message) },
                })
            });
            return encode("Enrol", response.map_err(|f| fault(&f)));
        }
        let operation = request.operation();
        let span =
            tracing::info_span!("soap", operation, device = tracing::field::Empty, command = tracing::field::Empty);
        let _entered = span.enter();
        let device = request.device().to_owned();
        let reports = matches!(request, GatewayRequest::ReportResult(_) | GatewayRequest::ReportInventory(_));
        let answer = self.services.agent_exchange(&connection, &device, &from_wire(request));
        if reports && answer.is_ok() {
            self.reported.notify_one();
        }
        encode(operation, answer.map(to_wire).map_err(|f| fault(&f)))
    }
}

fn encode(operation: &'static str, response: Result<GatewayResponse, SoapFault>) -> Answered {
    match response {
        Ok(response) => Answered::ok(operation, response.encode()),
        Err(fault) => respond_fault(operation, &fault),
    }
}

/// The request as the use case takes it (decoding checked every required field).
fn from_wire(request: GatewayRequest) -> AgentRequest {
    match request {
        GatewayRequest::Enrol(_) => unreachable!("Enrol is served apart, before any certificate is looked at"),
        GatewayRequest::Renew(m) => AgentRequest::Renew { csr: m.csr },
        GatewayRequest::Authorise(m) => AgentRequest::Authorise(AccessQuestion {
            operator_certificate: m.operator,
            action: m.action,
            category: m.category,
            component: m.component,
            path: m.path,
            object: m.object,
            from: m.from,
        }),
        GatewayRequest::Hello(m) => AgentRequest::Hello {
            report: report_of(&m),
            boot_id: m.boot_id,
            agent_version: m.agent_version,
            poke_url: m.poke_url,
        },
        GatewayRequest::NextCommand(_) => AgentRequest::NextCommand,
        GatewayRequest::ReportResult(m) => AgentRequest::ReportResult {
            command: m.command_id,
            reported: match m.outcome.expect("validated when decoded") {
                Outcome::Succeeded => Reported::Succeeded,
                Outcome::Failed => Reported::Failed,
                Outcome::RebootUnderway => Reported::RebootUnderway,
            },
            message: m.message,
        },
        GatewayRequest::LocatePackage(m) => AgentRequest::LocatePackage { name: m.name, version: m.version },
        GatewayRequest::ReportInventory(m) => AgentRequest::ReportInventory(super::inventory::inventory_of(m)),
    }
}

/// The report a `Hello` carries of the agent's platform and plug-ins; `None`
/// from an agent that predates it.
pub fn report_of(hello: &Hello) -> Option<AgentReport> {
    let platform = hello.platform.as_deref().filter(|p| !p.is_empty())?;
    let plugins = hello
        .plugins
        .iter()
        .map(|p| ReportedPlugin {
            name: p.name.clone(),
            version: p.version.clone(),
            world: p.world.clone(),
            formats: p.formats.clone(),
            changes: p.changes.clone(),
        })
        .collect();
    Some(AgentReport {
        platform: platform.to_owned(),
        plugins,
        precompiled_only: hello.precompiled_only.clone().filter(|t| !t.is_empty()),
    })
}

fn to_wire(answer: AgentAnswer) -> GatewayResponse {
    match answer {
        AgentAnswer::Renewed(certificate) => GatewayResponse::Renew(RenewResponse { certificate }),
        AgentAnswer::Authorised { allowed, operator, reason } => {
            GatewayResponse::Authorise(AuthoriseResponse { allowed, operator, reason })
        }
        AgentAnswer::Hello { pending } => GatewayResponse::Hello(HelloResponse { pending_commands: pending }),
        AgentAnswer::NextCommand(instruction) => GatewayResponse::NextCommand(instruct(instruction).into()),
        AgentAnswer::ReportResult(instruction) => GatewayResponse::ReportResult(instruct(instruction).into()),
        AgentAnswer::Package(p, from) => GatewayResponse::LocatePackage(LocatePackageResponse {
            package: Package {
                location: location(from.as_deref(), &p.storage_key),
                name: p.name,
                version: p.version,
                format: p.format,
                sha256: p.sha256,
                size: p.size,
            },
        }),
        AgentAnswer::Inventory { drift } => {
            GatewayResponse::ReportInventory(outfit_wsdl::inventory::ReportInventoryResponse { drift })
        }
    }
}

fn instruct(instruction: Instruction) -> outfit_wsdl::messages::Instruction {
    match instruction {
        Instruction::Command(command, payload, from) => {
            outfit_wsdl::messages::Instruction::command(command_to_wire(&command, payload, from.as_deref()))
        }
        Instruction::Nothing(reason) => outfit_wsdl::messages::Instruction::nothing(reason),
    }
}

/// Where the agent downloads the package stored under `key`: this
/// gateway's repository (a path), or the file server at base URL `from`.
fn location(from: Option<&str>, key: &str) -> String {
    format!("{}/repository/{key}", from.unwrap_or_default())
}

/// A queued command as the agent sees it; `from`: the file server to
/// download its package from.
fn command_to_wire(row: &QueuedCommand, payload: Payload, from: Option<&str>) -> Command {
    let mut command = Command { id: row.id.to_string(), sequence: row.sequence, run: row.run, ..Command::default() };
    let payload_is_upgrade = matches!(payload, Payload::Upgrade { .. });
    match payload {
        Payload::Install { package_name, version, format, sha256, size, storage_key, plugin, .. }
        | Payload::Upgrade { package_name, version, format, sha256, size, storage_key, plugin, .. } => {
            command.kind = Some(if payload_is_upgrade { CommandKind::Upgrade } else { CommandKind::Install });
            command.plugin = plugin;
            command.install = Some(Package {
                name: package_name,
                version,
                format,
                sha256,
                size,
                location: location(from, &storage_key),
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
        Payload::Remove { package_name, format, plugin, .. } => {
            command.kind = Some(CommandKind::Remove);
            command.plugin = plugin;
            command.remove = Some(RemovedPackage { name: package_name, format });
        }
        Payload::Reboot => command.kind = Some(CommandKind::Reboot),
        Payload::Inventory => command.kind = Some(CommandKind::Inventory),
        Payload::InstallPlugin { name, version, sha256, size, storage_key, .. } => {
            command.kind = Some(CommandKind::InstallPlugin);
            command.install = Some(Package {
                name,
                version,
                format: outfit_app::plugin_bundle::FORMAT.to_owned(),
                sha256,
                size,
                location: location(from, &storage_key),
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
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use outfit_wsdl::messages::PluginReport;

    #[test]
    fn a_hello_carries_a_report_and_an_old_hello_none() {
        let hello = Hello {
            device: "web-1".into(),
            boot_id: "b".into(),
            agent_version: "0.1.0".into(),
            platform: Some("linux-x86_64".into()),
            plugins: vec![PluginReport {
                name: "debian".into(),
                version: "0.1.0".into(),
                world: "outfit:plugin/os-plugin-world@0.1.0".into(),
                formats: vec!["deb".into()],
                changes: vec!["configure".into()],
            }],
            ..Hello::default()
        };
        let report = report_of(&hello).unwrap();
        assert_eq!(AgentReport::from_column(Some(&report.to_column())), Some(report));
        assert_eq!(report_of(&Hello { platform: None, ..hello }), None);
        assert_eq!(AgentReport::from_column(Some("not json")), None);
    }
}
