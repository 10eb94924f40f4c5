//! The gateway's HTTPS listeners: the SOAP agent endpoint, the package
//! repository and the WSDL on one; the operator services, uploads, the
//! console and `/metrics` on the other; plain HTTP only for
//! `/metrics`, on an address of its own, when the settings ask for it.

use crate::home::{Home, HomeError, Settings};
use crate::metrics::{self, Endpoint, Metrics};
use crate::poke::Pokes;
use crate::soap::Answered;
use crate::soap::agent::AgentEndpoint;
use crate::soap::file_server::FileServerEndpoint;
use crate::soap::operator::OperatorEndpoint;
use crate::soap::peer::PeerEndpoint;
use bytes::Bytes;
use http_body_util::Either;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode, body::Incoming};
use outfit_app::agent::Release;
use outfit_app::operators::Credentials;
use outfit_app::repository::Repository;
use outfit_app::{Ca, Failure, RefusalKind, Services};
use outfit_domain::rights::{Caller, Principal};
use outfit_wsdl::envelope::{FaultCode, SoapFault, encode_fault};
use outfit_wsdl::transport::{self, Body, Connection, Handler, MAX_SOAP_BYTES, TransportError};
use std::sync::Arc;
use std::time::Instant;

/// The least time between two rounds of the rollout driver.
const DRIVE_GAP: std::time::Duration = std::time::Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error("open the database: {0}")]
    Database(Failure),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("bind {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Everything one gateway process serves from.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub home: Home,
    pub settings: Settings,
    /// The use cases, poking agents in the background.
    pub services: Services,
    pub agent: AgentEndpoint,
    pub operator: OperatorEndpoint,
    pub peer: PeerEndpoint,
    pub file_server: FileServerEndpoint,
    pub metrics: Arc<Metrics>,
    pub console: outfit_console::Console,
    /// Admits as many database-bound requests at once as the pool has
    /// connections; more would only queue on the pool's lock in blocking
    /// threads and cost the machine context switches.
    db_slots: Arc<tokio::sync::Semaphore>,
}

impl Gateway {
    /// Opens a gateway directory and its database (running migrations).
    pub fn open(home: Home) -> Result<Self, ServeError> {
        let settings = home.settings()?;
        let repository = Repository::new(home.repository());
        let instance = format!("{}-{}", settings.name, std::process::id());
        let ca = Ca { key_pem: home.ca_key_pem()?.into(), device_cert_days: settings.device_cert_days };
        let pokes = Arc::new(Pokes::background(home.clone(), settings.name.clone()));
        let services = Services::open(&home.database_url(&settings), repository, ca, pokes, instance)
            .map_err(ServeError::Database)?;
        let agent = AgentEndpoint { services: services.clone(), reported: Default::default() };
        let reboot_deadline_ms = settings.reboot_deadline_secs as i64 * 1000;
        let operator = OperatorEndpoint { services: services.clone(), reboot_deadline_ms };
        let db_slots = Arc::new(tokio::sync::Semaphore::new(services.max_connections()));
        let console = outfit_console::Console::new(services.clone());
        let peer = PeerEndpoint { services: services.clone() };
        let file_server = FileServerEndpoint { services: services.clone() };
        let metrics = Default::default();
        Ok(Self { home, settings, services, agent, operator, peer, file_server, metrics, console, db_slots })
    }

    /// Binds the listener, writes `gateway.url` and serves until the process ends.
    pub async fn serve(self: Arc<Self>) -> Result<(), ServeError> {
        let url = self.clone().start().await?;
        tracing::info!(%url, "gateway serving");
        std::future::pending::<()>().await;
        Ok(())
    }

    /// Binds the listener and serves in the background; returns the base URL.
    pub async fn start(self: Arc<Self>) -> Result<String, ServeError> {
        let me = transport::Identity { cert: &self.home.server_cert(), key: &self.home.server_key() };
        // Enrolment needs no certificate; everything else checks the one presented.
        let tls = transport::server_config(me, transport::Clients::Optional(&self.home.ca_cert()))?;
        let gateway = self.clone();
        let agents: Handler<Body> = Arc::new(move |connection, request| {
            let gateway = gateway.clone();
            Box::pin(async move { gateway.route(connection, request).await })
        });
        let gateway = self.clone();
        let operators: Handler<Body> = Arc::new(move |connection, request| {
            let gateway = gateway.clone();
            Box::pin(async move { gateway.route_operator(connection, request).await })
        });
        // The operator listener first: `gateway.url` appearing means all is up.
        let operator_url = listen(&self.settings.operator_listen, tls.clone(), operators).await?;
        write(&self.home.operator_url_file(), &operator_url)?;
        let url = listen(&self.settings.listen, tls, agents).await?;
        if let Some(addr) = &self.settings.metrics_listen {
            let bind = |source| ServeError::Bind { addr: addr.clone(), source };
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind)?;
            let local = listener.local_addr().map_err(bind)?;
            tokio::spawn(self.clone().serve_plain_metrics(listener));
            write(&self.home.metrics_url_file(), &format!("http://{local}/metrics"))?;
        }
        tokio::spawn(self.clone().sweep_forever());
        tokio::spawn(self.clone().drive_rollouts());
        let federation = crate::federation::Federation::new(self.home.clone(), self.services.clone());
        tokio::spawn(Arc::new(federation).pull_forever());
        write(&self.home.url_file(), &url)?;
        Ok(url)
    }

    /// The operator listener: the packages copied to peers and file servers
    /// (streamed), and everything else [`Self::operator_services`] answers.
    async fn route_operator(self: Arc<Self>, connection: Connection, request: Request<Incoming>) -> Response<Body> {
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        match (method, path.as_str()) {
            (Method::GET, p) if p.starts_with(outfit_wsdl::PEER_PACKAGES) => {
                let key = p[outfit_wsdl::PEER_PACKAGES.len()..].to_owned();
                self.package_copy(Endpoint::Peer, connection, key).await
            }
            (Method::GET, p) if p.starts_with(outfit_wsdl::FILE_SERVER_PACKAGES) => {
                let key = p[outfit_wsdl::FILE_SERVER_PACKAGES.len()..].to_owned();
                self.package_copy(Endpoint::FileServer, connection, key).await
            }
            _ => self.operator_services(connection, request).await.map(Either::Left),
        }
    }

    /// The operator listener's services: SOAP operator, peer and file-server
    /// services and their WSDL, uploads, the console, metrics. Callers
    /// authenticate per request: an operator certificate, or a UsernameToken.
    async fn operator_services(
        self: Arc<Self>,
        connection: Connection,
        request: Request<Incoming>,
    ) -> Response<Full<Bytes>> {
        match (request.method(), request.uri().path()) {
            (&Method::POST, outfit_wsdl::OPERATOR_PATH) => {
                let operator = self.operator.clone();
                let handle =
                    move |from: &str, certificate: Option<&[u8]>, body: &[u8]| operator.handle(from, certificate, body);
                self.certified_exchange(Endpoint::Operator, connection, request, handle).await
            }
            (&Method::POST, outfit_wsdl::PEER_PATH) => {
                let peer = self.peer.clone();
                let handle =
                    move |from: &str, certificate: Option<&[u8]>, body: &[u8]| peer.handle(from, certificate, body);
                self.certified_exchange(Endpoint::Peer, connection, request, handle).await
            }
            (&Method::POST, outfit_wsdl::FILE_SERVER_PATH) => {
                let files = self.file_server.clone();
                let handle =
                    move |from: &str, certificate: Option<&[u8]>, body: &[u8]| files.handle(from, certificate, body);
                self.certified_exchange(Endpoint::FileServer, connection, request, handle).await
            }
            (&Method::GET, "/outfit-peer.wsdl") => plain(StatusCode::OK, "text/xml", outfit_wsdl::PEER_WSDL),
            (&Method::GET, "/outfit-peer.xsd") => plain(StatusCode::OK, "text/xml", outfit_wsdl::PEER_XSD),
            (&Method::GET, "/outfit-file-server.wsdl") => {
                plain(StatusCode::OK, "text/xml", outfit_wsdl::FILE_SERVER_WSDL)
            }
            (&Method::GET, "/outfit-file-server.xsd") => {
                plain(StatusCode::OK, "text/xml", outfit_wsdl::FILE_SERVER_XSD)
            }
            // No database slot for the whole upload (it may take minutes):
            // only its short authentication and audit steps use the pool.
            (&Method::PUT, p) if p.starts_with(crate::upload::PREFIX) => {
                crate::upload::put(self.services.clone(), connection, request).await
            }
            (&Method::GET, "/wsdl") => plain(StatusCode::OK, "text/xml", outfit_wsdl::OPERATOR_WSDL),
            (&Method::GET, "/outfit-operator.xsd") => plain(StatusCode::OK, "text/xml", outfit_wsdl::OPERATOR_XSD),
            (&Method::GET, "/outfit-agent.xsd") => plain(StatusCode::OK, "text/xml", outfit_wsdl::XSD),
            (&Method::GET, "/metrics") => self.metrics_page(connection).await,
            (_, p) if p == outfit_console::PREFIX || p.starts_with("/console/") => {
                crate::console::serve(self, connection, request).await
            }
            (&Method::GET, "/") => see_other("/console/"),
            _ => plain(StatusCode::NOT_FOUND, "text/plain", "no such resource\n"),
        }
    }

    /// A SOAP request of the operator listener (operator or peer service):
    /// the body read within the cap, then `handle` — given the caller's
    /// address and certificate — run off the async threads with a database
    /// slot, and its answer counted.
    async fn certified_exchange(
        &self,
        endpoint: Endpoint,
        connection: Connection,
        request: Request<Incoming>,
        handle: impl FnOnce(&str, Option<&[u8]>, &[u8]) -> Answered + Send + 'static,
    ) -> Response<Full<Bytes>> {
        let from = connection.peer.to_string();
        let body = match self.soap_body(request, &from).await {
            Ok(body) => body,
            Err(response) => return response,
        };
        let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
        let (certificate, started) = (connection.certificate, Instant::now());
        let handled = tokio::task::spawn_blocking(move || handle(&from, certificate.as_deref(), &body)).await;
        self.respond(endpoint, handled, started)
    }

    /// A package copied to a peer data centre (when a site shared with it
    /// uses it) or to a file server (when a site it serves does), as the
    /// path the caller asked on (`to`) says.
    async fn package_copy(self: Arc<Self>, to: Endpoint, connection: Connection, key: String) -> Response<Body> {
        let Ok(path) = self.services.repository().path(&key) else {
            return plain(StatusCode::BAD_REQUEST, "text/plain", "not a sha256 key\n").map(Either::Left);
        };
        let (gateway, from) = (self.clone(), connection.peer.to_string());
        let checked = {
            let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
            let certificate = connection.certificate;
            tokio::task::spawn_blocking(move || {
                let caller = match to {
                    Endpoint::Peer => gateway.peer.caller(&from, certificate.as_deref())?,
                    _ => gateway.file_server.caller(&from, certificate.as_deref())?,
                };
                gateway.services.release_copy(&caller, &key)
            })
            .await
        };
        match checked {
            Ok(Ok(())) => package_file(&path).await,
            Ok(Err(failure)) => metrics_refused(failure).map(Either::Left),
            Err(e) => {
                tracing::error!(error = %e, "checking a package copy panicked");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "could not check the download\n")
                    .map(Either::Left)
            }
        }
    }

    /// Holds one of the database slots while it lives.
    pub(crate) async fn db_slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.db_slots.acquire().await.expect("the semaphore is never closed")
    }

    /// The plain-HTTP metrics listener the settings asked for: `GET /metrics`
    /// to whoever connects, read as the local administrator who configured it.
    async fn serve_plain_metrics(self: Arc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // Out of file descriptors, say: wait rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let gateway = self.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let gateway = gateway.clone();
                async move {
                    let response = match (request.method(), request.uri().path()) {
                        (&Method::GET, "/metrics") => {
                            let principal = Principal::LocalAdministrator { user: "metrics_listen".into() };
                            gateway.metrics_for(principal, "metrics listener".into()).await
                        }
                        _ => plain(StatusCode::NOT_FOUND, "text/plain", "only /metrics here\n"),
                    };
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(tcp);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    }

    /// `GET /metrics`: for an operator certificate whose holder may read
    /// every site (Prometheus' `tls_config` presents one).
    async fn metrics_page(self: Arc<Self>, connection: Connection) -> Response<Full<Bytes>> {
        let Some(certificate) = connection.certificate else {
            return plain(
                StatusCode::UNAUTHORIZED,
                "text/plain",
                "the metrics need an operator certificate (`outfit operator cert NAME`), or a plain address set with `outfit-gateway init --metrics-listen`\n",
            );
        };
        let services = self.services.clone();
        let principal = {
            let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
            tokio::task::spawn_blocking(move || {
                services.authenticate(Credentials { certificate: Some(&certificate), password: None })
            })
            .await
        };
        match principal {
            Ok(Ok(principal)) => self.metrics_for(principal, connection.peer.to_string()).await,
            Ok(Err(failure)) => metrics_refused(failure),
            Err(e) => {
                tracing::error!(error = %e, "authenticating a metrics scrape panicked");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "could not read the metrics\n")
            }
        }
    }

    /// The metrics text as `principal` may read it.
    async fn metrics_for(&self, principal: Principal, from: String) -> Response<Full<Bytes>> {
        let services = self.services.clone();
        let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
        let read = tokio::task::spawn_blocking(move || services.fleet_gauges(&Caller { principal, from })).await;
        match read {
            Ok(Ok(fleet)) => plain(StatusCode::OK, metrics::CONTENT_TYPE, self.metrics.render(&fleet)),
            Ok(Err(failure)) => metrics_refused(failure),
            Err(e) => {
                tracing::error!(error = %e, "reading the metrics panicked");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "could not read the metrics\n")
            }
        }
    }

    /// Once a second, closes expired commands and marks unanswered ones timed
    /// out. Every gateway on a database sweeps; each move is a
    /// compare-and-set, so two sweeps never close a row twice.
    async fn sweep_forever(self: Arc<Self>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let gateway = self.clone();
            let swept = tokio::task::spawn_blocking(move || gateway.services.sweep(&gateway.settings.timeouts)).await;
            match swept {
                Ok(Ok(swept)) => {
                    if swept.expired > 0 {
                        tracing::info!(count = swept.expired, "commands expired before they could be handed out");
                    }
                    for (command, device, kind) in swept.timed_out {
                        tracing::warn!(%command, %device, kind, "command timed out; its queue is halted");
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "could not sweep the queues"),
                Err(e) => tracing::error!(error = %e, "the queue sweep panicked"),
            }
        }
    }

    /// Moves the rollouts on: while any is unfinished, when agents report (a
    /// stage may just have finished), at most every [`DRIVE_GAP`] so a stream
    /// of reports costs one round per gap; and at least once a second
    /// (offline devices expire, another gateway's agents report, a rollout
    /// is started elsewhere). Every gateway drives; a stage starts by a
    /// compare-and-set, so two gateways never queue it twice.
    async fn drive_rollouts(self: Arc<Self>) {
        let second = std::time::Duration::from_secs(1);
        let mut unfinished = 1;
        loop {
            if unfinished > 0 {
                let _ = tokio::time::timeout(second, self.agent.reported.notified()).await;
            } else {
                tokio::time::sleep(second).await;
            }
            let services = self.services.clone();
            unfinished = tokio::task::spawn_blocking(move || services.advance_rollouts()).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "the rollout driver panicked");
                1
            });
            tokio::time::sleep(DRIVE_GAP).await;
        }
    }

    /// Without a client certificate only the SOAP endpoint answers (and there
    /// only `Enrol`); the WSDL and the repository need one.
    async fn route(self: Arc<Self>, connection: Connection, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        if connection.certificate.is_none()
            && !(request.method() == Method::POST && path == outfit_wsdl::GATEWAY_AGENT_PATH)
        {
            let refused =
                plain(StatusCode::UNAUTHORIZED, "text/plain", "a client certificate is required (enrol first)\n");
            return refused.map(Either::Left);
        }
        if request.method() == Method::GET
            && let Some(key) = path.strip_prefix("/repository/")
        {
            return self.package(&connection, key).await;
        }
        let answer = match (request.method(), path.as_str()) {
            (&Method::POST, outfit_wsdl::GATEWAY_AGENT_PATH) => self.agent_exchange(connection, request).await,
            (&Method::GET, "/wsdl") => plain(StatusCode::OK, "text/xml", outfit_wsdl::WSDL),
            (&Method::GET, "/wsdl/outfit-agent.xsd" | "/outfit-agent.xsd") => {
                plain(StatusCode::OK, "text/xml", outfit_wsdl::XSD)
            }
            _ => plain(StatusCode::NOT_FOUND, "text/plain", "no such resource\n"),
        };
        answer.map(Either::Left)
    }

    async fn agent_exchange(
        self: Arc<Self>,
        connection: Connection,
        request: Request<Incoming>,
    ) -> Response<Full<Bytes>> {
        let peer = connection.peer.to_string();
        let body = match self.soap_body(request, &peer).await {
            Ok(body) => body,
            Err(response) => return response,
        };
        let (agent, started) = (self.agent.clone(), Instant::now());
        let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
        let handled = tokio::task::spawn_blocking(move || agent.handle(connection, &body)).await;
        self.respond(Endpoint::Agent, handled, started)
    }

    /// The HTTP response to a SOAP request, counted in the metrics.
    fn respond(
        &self,
        endpoint: Endpoint,
        handled: Result<Answered, tokio::task::JoinError>,
        started: Instant,
    ) -> Response<Full<Bytes>> {
        match handled {
            Ok(answered) => {
                self.metrics.answered(endpoint, answered.operation, answered.fault, started);
                let status = if answered.fault.is_some() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                transport::soap_response(status, answered.envelope)
            }
            Err(e) => {
                tracing::error!(error = %e, "a SOAP request handler panicked");
                let fault = SoapFault::new(FaultCode::Internal, "the gateway failed; see its log");
                self.metrics.answered(endpoint, "unknown", Some(fault.code.as_str()), started);
                transport::soap_response(StatusCode::INTERNAL_SERVER_ERROR, encode_fault(&fault))
            }
        }
    }

    /// A SOAP request body within the size cap, or the response refusing it.
    async fn soap_body(&self, request: Request<Incoming>, peer: &str) -> Result<Bytes, Response<Full<Bytes>>> {
        match transport::read_body(request.into_body(), MAX_SOAP_BYTES, peer).await {
            Ok(body) => Ok(body),
            Err(TransportError::TooLarge { limit, .. }) => {
                let fault = SoapFault::new(FaultCode::TooLarge, format!("requests are limited to {limit} bytes"));
                Err(transport::soap_response(StatusCode::INTERNAL_SERVER_ERROR, encode_fault(&fault)))
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read a request body");
                Err(plain(StatusCode::BAD_REQUEST, "text/plain", "unreadable request body\n"))
            }
        }
    }

    /// A package download, released only to a device entitled to it.
    async fn package(self: Arc<Self>, connection: &Connection, key: &str) -> Response<Body> {
        let Ok(path) = self.services.repository().path(key) else {
            return plain(StatusCode::BAD_REQUEST, "text/plain", "not a sha256 key\n").map(Either::Left);
        };
        let refused = match self.clone().release(connection, key.to_owned()).await {
            Ok(Release::Allowed) => return package_file(&path).await,
            Ok(Release::Refused(why)) => plain(StatusCode::FORBIDDEN, "text/plain", format!("{why}\n")),
            Err(e) => {
                tracing::error!(error = %e, key, "could not check a download's entitlement");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "could not check the entitlement\n")
            }
        };
        refused.map(Either::Left)
    }

    /// Decides a download in one exchange: the certificate's device, its
    /// entitlement, and the log row of a refusal.
    async fn release(self: Arc<Self>, connection: &Connection, key: String) -> Result<Release, Failure> {
        let connection = outfit_app::agent::Connection {
            serial: connection.serial,
            peer: connection.peer.to_string(),
            certificate: connection.certificate.as_ref().map(|c| c.to_vec()),
        };
        let gateway = self.clone();
        let _slot = self.db_slots.acquire().await.expect("the semaphore is never closed");
        tokio::task::spawn_blocking(move || gateway.services.release_package(&connection, &key))
            .await
            .unwrap_or_else(|e| Err(Failure::internal(format!("download check panicked: {e}"))))
    }
}

/// A package file from the repository, streamed (never whole in memory),
/// or the status saying why not.
async fn package_file(path: &std::path::Path) -> Response<Body> {
    match transport::file_response(path).await {
        Ok(response) => response,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            plain(StatusCode::NOT_FOUND, "text/plain", "no such package\n").map(Either::Left)
        }
        Err(e) => {
            tracing::error!(error = %e, path = %path.display(), "could not read a package");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "could not read the package\n").map(Either::Left)
        }
    }
}

/// Binds `addr` and serves `handler` on it over TLS; returns the base URL.
async fn listen(addr: &str, tls: Arc<rustls::ServerConfig>, handler: Handler<Body>) -> Result<String, ServeError> {
    let bind = |source| ServeError::Bind { addr: addr.to_owned(), source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind)?;
    let local = listener.local_addr().map_err(bind)?;
    tokio::spawn(transport::serve(listener, tls, handler));
    Ok(format!("https://{local}"))
}

fn write(path: &std::path::Path, text: &str) -> Result<(), ServeError> {
    std::fs::write(path, text).map_err(|source| ServeError::Write { path: path.display().to_string(), source })
}

/// Why the metrics (or a peer's package) were not given: 401 or 403 with
/// the refusal, 500 for a failure inside the gateway (its cause logged).
fn metrics_refused(failure: Failure) -> Response<Full<Bytes>> {
    match failure {
        Failure::Refused(refusal) => {
            let status = match refusal.kind {
                RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            plain(status, "text/plain", format!("{}\n", refusal.message))
        }
        Failure::Internal(cause) => {
            tracing::error!(%cause, "could not read the metrics");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "could not read the metrics; see the gateway's log\n",
            )
        }
    }
}

/// Sends a browser on to `location`.
fn see_other(location: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(hyper::header::LOCATION, location)
        .body(Full::new(Bytes::new()))
        .expect("valid response")
}

/// A response of `content_type` (plain text, XML, the metrics) with `status`.
fn plain(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .expect("valid response")
}
