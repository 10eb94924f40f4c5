//! The agent's access endpoint (seed: IT personnel reach the agent with a
//! browser to test a configuration on that device in isolation), under
//! `/access/` on the agent's HTTPS listener. The person presents an operator
//! certificate of the gateway's CA (`outfit operator cert`); the
//! agent decides nothing itself: every request asks the gateway (`Authorise`),
//! which checks its trust hierarchy and audits the question. What the person
//! changes is recorded on the device with their identity, in
//! `STATE/local-changes.jsonl`, for drift promotion to find.
//!
//! - `GET /access/` (right `read`): the same as a page for a browser, with a
//!   form that posts a trial to `/access/configure` (`access_page`).
//! - `GET /access/status` (right `read` on the device's site): the device, its
//!   plug-ins and how many local changes it holds.
//! - `POST /access/configure` (right `change` on the named role category),
//!   JSON `{"category", "component", "path", "template", "parameters": {…}}`:
//!   renders the file through the OS plug-in, as a configure command would.
//!   Only the configuration file of a component of that category in the
//!   device's model may be tried (the gateway checks), so a right on CONTENT
//!   never writes an arbitrary file the OS plug-in could reach.

use crate::client::GatewayClient;
use crate::execute::{Execution, Executor};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use outfit_wsdl::identity::{Facts, Role};
use outfit_wsdl::messages::{Authorise, Command, CommandKind, ConfigFile, Outcome, Parameter};
use outfit_wsdl::transport::{self, Connection, MAX_SOAP_BYTES};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

pub const PREFIX: &str = "/access/";
/// The id prefix of the commands a person's trial runs as.
pub const LOCAL_PREFIX: &str = "local-";

/// A configuration a person tries out on this device.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub(crate) struct LocalConfigure {
    pub category: String,
    pub component: String,
    pub path: String,
    pub template: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Ask for the change to become the model's standard (a promotion,
    /// decided by the gateway on the person's rights when it sees the
    /// device's next inventory).
    #[serde(default)]
    pub promote: bool,
}

impl LocalConfigure {
    /// What the gateway is asked before the trial runs: `change` on its
    /// category, for this component's configuration file.
    pub(crate) fn question(&self) -> Authorise {
        Authorise {
            action: "change".into(),
            category: Some(self.category.clone()),
            component: Some(self.component.clone()),
            path: Some(self.path.clone()),
            object: format!("configure {} {}", self.component, self.path),
            ..Authorise::default()
        }
    }
}

/// One line of `local-changes.jsonl`: who changed what on this device, when.
#[derive(Debug, serde::Serialize)]
struct LocalChange<'a> {
    at_ms: u128,
    operator: &'a str,
    from: &'a str,
    #[serde(flatten)]
    change: &'a LocalConfigure,
    outcome: &'a str,
    message: &'a str,
}

/// A plug-in serving on this device, as the status shows it.
#[derive(Debug, Clone)]
pub(crate) struct ServingPlugin {
    pub name: String,
    pub version: String,
    pub origin: String,
    pub formats: Vec<String>,
}

/// What trying a configuration gave.
#[derive(Debug, Clone)]
pub(crate) struct Tried {
    pub status: StatusCode,
    pub outcome: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Access {
    pub client: GatewayClient,
    pub executor: Executor,
    pub changes: PathBuf,
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(format!("{body}\n"))))
        .expect("a response built from valid parts")
}

pub(crate) fn refuse(status: StatusCode, reason: impl Into<String>) -> Response<Full<Bytes>> {
    answer(status, serde_json::json!({ "error": reason.into() }))
}

impl Access {
    pub async fn handle(&self, connection: Connection, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let from = connection.peer.to_string();
        let Some(der) =
            connection.certificate.filter(|der| Facts::read(der).ok().and_then(|f| f.role) == Some(Role::Operator))
        else {
            return refuse(StatusCode::UNAUTHORIZED, "present an operator certificate (`outfit operator cert`)");
        };
        let route = (request.method().clone(), request.uri().path().to_owned());
        let span = tracing::info_span!("access", device = %self.client.device, path = %route.1, %from);
        let _entered = span.enter();
        let form = crate::access_page::is_form(&request);
        match (route.0, route.1.trim_start_matches(PREFIX)) {
            (Method::GET, "") => self.page(&der, &from).await,
            (Method::POST, "configure") if form => self.configure_form(&der, &from, request).await,
            (Method::GET, "status") => {
                let ask = Authorise { action: "read".into(), object: "status".into(), ..Authorise::default() };
                let operator = match self.authorise(&der, ask, &from).await {
                    Ok(operator) => operator,
                    Err(refused) => return refused,
                };
                tracing::info!(%operator, "status shown");
                let (plugins, changes) = self.status();
                let plugins: Vec<_> = plugins
                    .iter()
                    .map(|p| serde_json::json!({ "name": p.name, "version": p.version, "origin": p.origin, "formats": p.formats }))
                    .collect();
                answer(
                    StatusCode::OK,
                    serde_json::json!({
                        "device": self.client.device,
                        "operator": operator,
                        "plugins": plugins,
                        "local_changes": changes,
                    }),
                )
            }
            (Method::POST, "configure") => {
                let body = match transport::read_body(request.into_body(), MAX_SOAP_BYTES, &from).await {
                    Ok(body) => body,
                    Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("unreadable request: {e}")),
                };
                let change: LocalConfigure = match serde_json::from_slice(&body) {
                    Ok(change) => change,
                    Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("expected a configuration as JSON: {e}")),
                };
                let operator = match self.authorise(&der, change.question(), &from).await {
                    Ok(operator) => operator,
                    Err(refused) => return refused,
                };
                match self.configure(&operator, &from, &change).await {
                    Ok(tried) => answer(
                        tried.status,
                        serde_json::json!({ "outcome": tried.outcome, "message": tried.message, "operator": operator }),
                    ),
                    Err(reason) => refuse(StatusCode::INTERNAL_SERVER_ERROR, reason),
                }
            }
            _ => refuse(
                StatusCode::NOT_FOUND,
                "served here: GET /access/ (a page), GET /access/status, POST /access/configure",
            ),
        }
    }

    /// Asks the gateway; `Ok` is the operator's name, `Err` the response
    /// refusing the request.
    pub(crate) async fn authorise(
        &self,
        der: &[u8],
        ask: Authorise,
        from: &str,
    ) -> Result<String, Response<Full<Bytes>>> {
        use base64::Engine as _;
        let operator = base64::engine::general_purpose::STANDARD.encode(der);
        match self.client.authorise(Authorise { operator, from: from.to_owned(), ..ask }).await {
            Ok(decision) if decision.allowed => Ok(decision.operator),
            Ok(decision) => {
                tracing::warn!(operator = %decision.operator, reason = %decision.reason, "access refused");
                Err(refuse(StatusCode::FORBIDDEN, decision.reason))
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not ask the gateway; access refused");
                Err(refuse(StatusCode::SERVICE_UNAVAILABLE, format!("could not ask the gateway, nothing done: {e}")))
            }
        }
    }

    /// The plug-ins serving, and how many local changes the device holds.
    pub(crate) fn status(&self) -> (Vec<ServingPlugin>, usize) {
        let plugins = self
            .executor
            .plugins
            .current()
            .iter()
            .map(|l| ServingPlugin {
                name: l.plugin.name().to_owned(),
                version: l.version.clone(),
                origin: l.origin.clone(),
                formats: l.formats.clone(),
            })
            .collect();
        let changes = std::fs::read_to_string(&self.changes).map_or(0, |text| text.lines().count());
        (plugins, changes)
    }

    /// Renders the file through the OS plug-in and records who did it; `Err`:
    /// it ran but could not be recorded (why).
    pub(crate) async fn configure(&self, operator: &str, from: &str, change: &LocalConfigure) -> Result<Tried, String> {
        let parameters = change.parameters.iter().map(|(n, v)| Parameter { name: n.clone(), value: v.clone() });
        let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let command = Command {
            id: format!("{LOCAL_PREFIX}{at_ms}"),
            sequence: 0,
            run: 1,
            kind: Some(CommandKind::Configure),
            install: None,
            configure: Some(ConfigFile::new(&change.component, &change.path, &change.template, parameters.collect())),
            ..Command::default()
        };
        let (outcome, message) = match self.executor.execute(&self.client, &command).await {
            Execution::Done(outcome, message) => (outcome, message),
            Execution::Unavailable(message) => (Outcome::Failed, message),
        };
        let line = LocalChange { at_ms, operator, from, change, outcome: outcome.as_str(), message: &message };
        if let Err(e) = self.record(&line) {
            tracing::error!(error = %e, "could not record a local change");
            return Err(format!("the change ran ({}) but could not be recorded: {e}", outcome.as_str()));
        }
        tracing::info!(%operator, outcome = outcome.as_str(), "local configuration applied");
        let status = if outcome == Outcome::Succeeded { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        Ok(Tried { status, outcome: outcome.as_str(), message })
    }

    fn record(&self, change: &LocalChange) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.changes)?;
        let line = serde_json::to_string(change).map_err(std::io::Error::other)?;
        writeln!(file, "{line}")?;
        file.sync_data()
    }
}
