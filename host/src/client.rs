//! The agent's side of the gateway protocol. Every call opens a NEW TLS
//! connection (patent figure 10), so a poke can never carry or steer a command.

use outfit_wsdl::envelope::{Answer, Body, FaultCode, GatewayRequest, SoapFault, decode_answer};
use outfit_wsdl::messages::{
    Authorise, AuthoriseResponse, Enrol, EnrolResponse, Hello, Instruction, LocatePackage, NextCommand, Outcome,
    Package, PluginReport, Renew, ReportResult,
};
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("gateway refused {operation}: {fault}")]
    Fault { operation: &'static str, fault: SoapFault },
    #[error("gateway answered {operation} with an unreadable message: {}", .fault.message)]
    Garbled { operation: &'static str, fault: SoapFault },
}

impl ClientError {
    pub fn fault_code(&self) -> Option<FaultCode> {
        match self {
            Self::Fault { fault, .. } => Some(fault.code),
            _ => None,
        }
    }

    /// Whether asking again later may succeed: the gateway was unreachable,
    /// or it failed inside (`Internal`, e.g. its database was away), rather
    /// than refusing the request.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transport(_)) || self.fault_code() == Some(FaultCode::Internal)
    }
}

/// The OS family and architecture this agent was built for, as `Hello`
/// reports them (`linux-x86_64`, `windows-x86_64`, `illumos-x86_64`).
pub fn platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// The gateways this agent may talk to (`--gateway`, several for failover;
/// they share one database, so any of them serves any call). Every call goes
/// to the one that answered last; when it cannot be reached or fails inside
/// (its database away), the call goes to the next one. Repeating a call on
/// another gateway is as safe as repeating it on the same one: handing out
/// a command again and reporting a result again are both idempotent.
#[derive(Debug)]
pub struct Gateways {
    list: Vec<Endpoint>,
    current: AtomicUsize,
}

impl Gateways {
    /// Parses the URLs given; at least one.
    pub fn parse(urls: &[String]) -> Result<Self, TransportError> {
        let list = urls.iter().map(|url| Endpoint::parse(url)).collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err(TransportError::Url("no gateway URL".into()));
        }
        Ok(Self { list, current: AtomicUsize::new(0) })
    }

    /// The gateway the next call goes to first.
    pub fn current(&self) -> &Endpoint {
        &self.list[self.current.load(Ordering::Relaxed) % self.list.len()]
    }

    /// Runs `call` against the current gateway and, while it fails in a way
    /// another gateway might not, against each of the others once.
    pub async fn call_any<T, F, Fut>(&self, mut call: F) -> Result<T, ClientError>
    where
        F: FnMut(Endpoint) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let first = self.current.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..self.list.len() {
            let at = (first + i) % self.list.len();
            match call(self.list[at].clone()).await {
                Ok(value) => {
                    if at != first % self.list.len() {
                        tracing::warn!(gateway = %self.list[at].addr(), "now talking to this gateway");
                        self.current.store(at, Ordering::Relaxed);
                    }
                    return Ok(value);
                }
                Err(e) if e.is_transient() && self.list.len() > 1 => {
                    tracing::info!(gateway = %self.list[at].addr(), error = %e, "gateway unavailable; trying the next one");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one gateway was tried"))
    }
}

#[derive(Debug, Clone)]
pub struct GatewayClient {
    /// Replaced when the device's certificate is renewed: a new configuration
    /// also starts without the old certificate's resumable sessions.
    tls: Arc<RwLock<Arc<rustls::ClientConfig>>>,
    pub gateways: Arc<Gateways>,
    pub device: String,
}

/// One SOAP exchange with the gateway's agent endpoint over a new connection.
async fn call<T>(
    tls: &Arc<rustls::ClientConfig>,
    gateway: &Endpoint,
    request: GatewayRequest,
    pick: impl Fn(Body) -> Option<T>,
) -> Result<T, ClientError> {
    let operation = request.operation();
    let endpoint = gateway.join(outfit_wsdl::GATEWAY_AGENT_PATH);
    let reply = transport::soap_call(tls, &endpoint, operation, request.encode()).await?;
    match decode_answer(&reply, pick) {
        Ok(Answer::Ok(value)) => Ok(value),
        Ok(Answer::Fault(fault)) => Err(ClientError::Fault { operation, fault }),
        Err(fault) => Err(ClientError::Garbled { operation, fault }),
    }
}

/// `Enrol`: the one call made without a client certificate. Returns the
/// device's certificate (PEM) for the key that signed `csr`, or, without a
/// token, word that the request waits for approval.
pub async fn enrol(
    ca: &Path,
    gateways: &Gateways,
    device: &str,
    site: &str,
    token: Option<&str>,
    csr: String,
) -> Result<EnrolResponse, ClientError> {
    let anonymous = transport::client_config(ca, None)?;
    let token = token.map(str::to_owned);
    let request = GatewayRequest::Enrol(Enrol { device: device.to_owned(), site: site.to_owned(), token, csr });
    gateways
        .call_any(|gateway| {
            let (tls, request) = (anonymous.clone(), request.clone());
            async move { call(&tls, &gateway, request, |b| b.enrol_response).await }
        })
        .await
}

impl GatewayClient {
    pub fn new(tls: Arc<rustls::ClientConfig>, gateways: Arc<Gateways>, device: String) -> Self {
        Self { tls: Arc::new(RwLock::new(tls)), gateways, device }
    }

    /// The gateway that answered last (where packages are fetched from).
    pub fn endpoint(&self) -> &Endpoint {
        self.gateways.current()
    }

    /// The TLS configuration of the next connection.
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set_tls(&self, tls: Arc<rustls::ClientConfig>) {
        *self.tls.write().unwrap_or_else(PoisonError::into_inner) = tls;
    }

    async fn call<T>(&self, request: GatewayRequest, pick: impl Fn(Body) -> Option<T>) -> Result<T, ClientError> {
        let (tls, pick) = (self.tls(), &pick);
        self.gateways
            .call_any(|gateway| {
                let (tls, request) = (tls.clone(), request.clone());
                async move { call(&tls, &gateway, request, pick).await }
            })
            .await
    }

    /// `Authorise`: may the person who presented an operator certificate do
    /// what `ask` says here? (`ask.device` is filled in.)
    pub async fn authorise(&self, ask: Authorise) -> Result<AuthoriseResponse, ClientError> {
        let request = GatewayRequest::Authorise(Authorise { device: self.device.clone(), ..ask });
        self.call(request, |b| b.authorise_response).await
    }

    /// `Renew`: a certificate for the key that signed `csr`, asked for with the current one.
    pub async fn renew(&self, csr: String) -> Result<String, ClientError> {
        let request = GatewayRequest::Renew(Renew { device: self.device.clone(), csr });
        Ok(self.call(request, |b| b.renew_response).await?.certificate)
    }

    /// `Hello`, with what this agent can run (`plugins`) so the gateway
    /// queues only commands one of them serves.
    pub async fn hello(
        &self,
        boot_id: &str,
        poke_url: Option<&str>,
        plugins: Vec<PluginReport>,
        precompiled_only: Option<&str>,
    ) -> Result<i64, ClientError> {
        let hello = Hello {
            device: self.device.clone(),
            boot_id: boot_id.to_owned(),
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            poke_url: poke_url.map(str::to_owned),
            platform: Some(platform()),
            plugins,
            precompiled_only: precompiled_only.map(str::to_owned),
        };
        Ok(self.call(GatewayRequest::Hello(hello), |b| b.hello_response).await?.pending_commands)
    }

    /// `LocatePackage`: where package `name` at `version` is, if it is a
    /// component of this device's model (a plug-in's `fetch`).
    pub async fn locate_package(&self, name: &str, version: &str) -> Result<Package, ClientError> {
        let request = GatewayRequest::LocatePackage(LocatePackage {
            device: self.device.clone(),
            name: name.to_owned(),
            version: version.to_owned(),
        });
        Ok(self.call(request, |b| b.locate_package_response).await?.package)
    }

    /// `ReportInventory`: returns how many differences from its model the gateway found.
    pub async fn report_inventory(&self, report: outfit_wsdl::inventory::ReportInventory) -> Result<i32, ClientError> {
        Ok(self.call(GatewayRequest::ReportInventory(report), |b| b.report_inventory_response).await?.drift)
    }

    pub async fn next_command(&self) -> Result<Instruction, ClientError> {
        let request = GatewayRequest::NextCommand(NextCommand { device: self.device.clone() });
        Ok(self.call(request, |b| b.next_command_response).await?.into())
    }

    /// Reports a result and receives the next instruction in the same exchange.
    pub async fn report(&self, command_id: &str, outcome: Outcome, message: &str) -> Result<Instruction, ClientError> {
        let request = GatewayRequest::ReportResult(ReportResult {
            device: self.device.clone(),
            command_id: command_id.to_owned(),
            outcome: Some(outcome),
            message: message.to_owned(),
        });
        Ok(self.call(request, |b| b.report_result_response).await?.into())
    }
}
