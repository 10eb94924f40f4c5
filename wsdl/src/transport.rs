//! SOAP over HTTPS, as both sides speak it: rustls configurations from PEM files,
//! a client that opens a NEW TCP + TLS connection for every exchange (patent
//! figure 10: the agent always opens a new connection), and a server accept loop
//! that numbers each connection so an exchange can be tied to the connection it
//! arrived on.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Largest SOAP message either side reads; larger ones are refused unread.
pub const MAX_SOAP_BYTES: usize = 1 << 20;
/// How long connecting, the TLS handshake and the response head may take
/// together, and how long a whole SOAP exchange may take: a stalled peer must
/// not stall its caller forever.
pub const EXCHANGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("read {path}: {source}")]
    ReadPem { path: String, source: std::io::Error },
    #[error("read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("parse PEM in {path}: {message}")]
    Pem { path: String, message: String },
    #[error("build TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("URL `{0}` is not an https://host:port/path URL")]
    Url(String),
    #[error("connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("TLS handshake with {addr}: {source}")]
    Handshake { addr: String, source: std::io::Error },
    #[error("HTTP exchange with {addr}: {source}")]
    Http { addr: String, source: hyper::Error },
    #[error("response from {addr} is larger than {limit} bytes")]
    TooLarge { addr: String, limit: usize },
    #[error("response from {addr}: HTTP {status}")]
    Status { addr: String, status: StatusCode },
    #[error("exchange with {addr} took longer than {limit:?}", limit = EXCHANGE_TIMEOUT)]
    Timeout { addr: String },
}

fn read(path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|source| TransportError::ReadPem { path: path.display().to_string(), source })
}

fn pem_error(path: &Path, e: impl std::fmt::Display) -> TransportError {
    TransportError::Pem { path: path.display().to_string(), message: e.to_string() }
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>().map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, "no certificate found"));
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(|e| pem_error(path, e))
}

/// ring's provider with AES-128-GCM/SHA-256 first: every exchange is a new
/// (resumed) handshake, and the SHA-384 key schedule of the default first
/// suite showed up in the gateway's profile.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|suite| suite.suite() != TLS13_AES_128_GCM_SHA256.suite());
    Arc::new(provider)
}

fn roots(ca_pem: &Path) -> Result<Arc<rustls::RootCertStore>, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_pem)? {
        roots.add(cert)?;
    }
    Ok(Arc::new(roots))
}

/// A certificate (PEM chain) and its private key (PEM): who this side is.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// A client that trusts only the given CA (the gateway's own CA, pinned) and,
/// with an identity, presents it as its client certificate.
pub fn client_config(ca_pem: &Path, identity: Option<Identity>) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let identity = match identity {
        Some(me) => Some((load_certs(me.cert)?, load_key(me.key)?)),
        None => None,
    };
    client_config_with(ca_pem, identity)
}

/// [`client_config`] with an identity already in memory (chain, key).
pub fn client_config_with(
    ca_pem: &Path,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_pem)?);
    let config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Which clients a server lets finish the handshake.
#[derive(Debug, Clone, Copy)]
pub enum Clients<'a> {
    /// Only those presenting a certificate signed by this CA.
    Required(&'a Path),
    /// Those with a certificate signed by this CA, and those with none (the
    /// gateway: enrolment needs no certificate; every other operation checks
    /// `Connection::certificate`). A certificate from another CA is refused.
    Optional(&'a Path),
}

/// The certificate and key a server presents, replaceable while it serves:
/// an agent that renewed its certificate presents the new one from the next
/// handshake on, without restarting its listener.
#[derive(Debug)]
pub struct LiveIdentity(std::sync::RwLock<Arc<rustls::sign::CertifiedKey>>);

impl LiveIdentity {
    pub fn load(me: Identity) -> Result<Arc<Self>, TransportError> {
        Ok(Arc::new(Self(std::sync::RwLock::new(certified_key(me)?))))
    }

    pub fn replace(&self, me: Identity) -> Result<(), TransportError> {
        let key = certified_key(me)?;
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = key;
        Ok(())
    }
}

fn certified_key(me: Identity) -> Result<Arc<rustls::sign::CertifiedKey>, TransportError> {
    Ok(Arc::new(rustls::sign::CertifiedKey::from_der(load_certs(me.cert)?, load_key(me.key)?, &provider())?))
}

impl rustls::server::ResolvesServerCert for LiveIdentity {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
    }
}

/// A server presenting `me`, verifying client certificates as `clients` says.
pub fn server_config(me: Identity, clients: Clients) -> Result<Arc<rustls::ServerConfig>, TransportError> {
    server_config_live(LiveIdentity::load(me)?, clients)
}

/// [`server_config`] presenting whatever `me` holds at each handshake.
pub fn server_config_live(
    me: Arc<LiveIdentity>,
    clients: Clients,
) -> Result<Arc<rustls::ServerConfig>, TransportError> {
    use rustls::server::WebPkiClientVerifier;
    let verifier = match clients {
        Clients::Required(ca) => WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider()).build(),
        Clients::Optional(ca) => {
            WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider()).allow_unauthenticated().build()
        }
    }
    .map_err(|e| TransportError::Tls(rustls::Error::General(e.to_string())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(me);
    // Every exchange is a new connection (figure 10), so most handshakes are
    // resumptions: stateless tickets let any number of agents resume without
    // the server keeping per-client state. One ticket per handshake is enough
    // because each connection uses one. A resumed session carries the client
    // certificate of its first handshake, so authorisation never rests on the
    // handshake alone: every request checks the certificate against the
    // database (which is also how a revocation takes effect at once).
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    config.send_tls13_tickets = 1;
    Ok(Arc::new(config))
}

/// A parsed `https://host:port/path` endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, TransportError> {
        let uri: hyper::Uri = url.parse().map_err(|_| TransportError::Url(url.to_owned()))?;
        if uri.scheme_str() != Some("https") {
            return Err(TransportError::Url(url.to_owned()));
        }
        let host = uri.host().ok_or_else(|| TransportError::Url(url.to_owned()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let path = uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        Ok(Self { host, port: uri.port_u16().unwrap_or(443), path })
    }

    pub fn join(&self, path: &str) -> Self {
        Self { path: path.to_owned(), ..self.clone() }
    }

    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Sends each TLS record at once: an exchange is a few small writes in a row
/// (the handshake's last flight, then the request), which Nagle's algorithm
/// may hold back until the peer's delayed ACK. (No difference was measurable
/// in `bench` at its load; it is the usual setting for request/response.)
fn no_delay(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

/// Opens a new TCP + TLS connection, sends one request and returns the response
/// head and body stream. The connection closes when the body is dropped.
pub async fn send(
    tls: &Arc<rustls::ClientConfig>,
    endpoint: &Endpoint,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, TransportError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, send_now(tls, endpoint, request))
        .await
        .unwrap_or_else(|_| Err(TransportError::Timeout { addr: endpoint.addr() }))
}

async fn send_now<B>(
    tls: &Arc<rustls::ClientConfig>,
    endpoint: &Endpoint,
    request: Request<B>,
) -> Result<Response<Incoming>, TransportError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let addr = endpoint.addr();
    let tcp =
        TcpStream::connect(&addr).await.map_err(|source| TransportError::Connect { addr: addr.clone(), source })?;
    no_delay(&tcp);
    let name = ServerName::try_from(endpoint.host.clone()).map_err(|_| TransportError::Url(addr.clone()))?;
    let stream = TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|source| TransportError::Handshake { addr: addr.clone(), source })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|source| TransportError::Http { addr: addr.clone(), source })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "client connection ended with an error");
        }
    });
    sender.send_request(request).await.map_err(|source| TransportError::Http { addr, source })
}

/// Streams the file at `path` to `endpoint` with a PUT over a new connection
/// (64 KiB at a time, never the whole file in memory), calling `progress`
/// with the bytes sent so far; returns the response status and its body
/// (at most 64 KiB). `authorization` is an `Authorization` header value.
pub async fn put_file(
    tls: &Arc<rustls::ClientConfig>,
    endpoint: &Endpoint,
    path: &std::path::Path,
    authorization: Option<&str>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<(StatusCode, Bytes), TransportError> {
    let addr = endpoint.addr();
    let read_error = |source: std::io::Error| TransportError::Io { path: path.display().to_string(), source };
    let file = tokio::fs::File::open(path).await.map_err(read_error)?;
    let length = file.metadata().await.map_err(read_error)?.len();
    let (body, feeding) = stream_file(file, progress);
    let mut request = Request::put(endpoint.path.as_str())
        .header(hyper::header::HOST, &addr)
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .header(hyper::header::CONTENT_LENGTH, length)
        .header(hyper::header::CONNECTION, "close");
    if let Some(authorization) = authorization {
        request = request.header(hyper::header::AUTHORIZATION, authorization);
    }
    let request = request.body(body).expect("a request built from valid parts");
    let response = send_now(tls, endpoint, request).await?;
    if let Ok(Err(source)) = feeding.await {
        return Err(TransportError::Io { path: path.display().to_string(), source });
    }
    let status = response.status();
    let body = read_body(response.into_body(), 64 * 1024, &addr).await?;
    Ok((status, body))
}

/// A body that streams `file` 64 KiB at a time (never the whole file in
/// memory), calling `progress` with the bytes sent so far; and the task
/// feeding it, which ends with the read error if one stopped it. A
/// receiver that stops reading ends the feeding quietly.
pub fn stream_file(
    mut file: tokio::fs::File,
    progress: impl Fn(u64) + Send + 'static,
) -> (FileBody, tokio::task::JoinHandle<Result<(), std::io::Error>>) {
    use tokio::io::AsyncReadExt;
    let (mut sender, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
    let feeding = tokio::spawn(async move {
        let mut sent = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match file.read(&mut buffer).await {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => {
                    sender.abort(std::io::Error::new(e.kind(), e.to_string()));
                    return Err(e);
                }
            };
            if sender.send_data(Bytes::copy_from_slice(&buffer[..n])).await.is_err() {
                return Ok(());
            }
            sent += n as u64;
            progress(sent);
        }
    });
    (body, feeding)
}

/// The body [`stream_file`] feeds.
pub type FileBody = http_body_util::channel::Channel<Bytes, std::io::Error>;

/// A response body: a whole short one (SOAP, text) or a streamed file.
pub type Body = http_body_util::Either<Full<Bytes>, FileBody>;

/// A 200 response streaming the file at `path` (a package), with its length.
pub async fn file_response(path: &Path) -> Result<Response<Body>, std::io::Error> {
    let file = tokio::fs::File::open(path).await?;
    let length = file.metadata().await?.len();
    let (body, _feeding) = stream_file(file, |_| {});
    Ok(Response::builder()
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .header(hyper::header::CONTENT_LENGTH, length)
        .body(http_body_util::Either::Right(body))
        .expect("a response built from valid parts"))
}

/// One SOAP exchange over a new connection: POSTs `envelope` and returns the
/// response body (a 500 carrying a Fault is returned as a body, not an error).
pub async fn soap_call(
    tls: &Arc<rustls::ClientConfig>,
    endpoint: &Endpoint,
    action: &str,
    envelope: String,
) -> Result<Bytes, TransportError> {
    soap_call_limited(tls, endpoint, action, envelope, MAX_SOAP_BYTES).await
}

/// [`soap_call`] taking answers of up to `limit` bytes (an operator's listing
/// of a large fleet; agents keep the default).
pub async fn soap_call_limited(
    tls: &Arc<rustls::ClientConfig>,
    endpoint: &Endpoint,
    action: &str,
    envelope: String,
    limit: usize,
) -> Result<Bytes, TransportError> {
    let request = Request::post(endpoint.path.as_str())
        .header(hyper::header::HOST, endpoint.addr())
        .header(hyper::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .header("SOAPAction", format!("\"{}#{action}\"", crate::NS))
        .header(hyper::header::CONNECTION, "close")
        .body(Full::new(Bytes::from(envelope)))
        .expect("a request built from valid parts");
    let response = send(tls, endpoint, request).await?;
    let status = response.status();
    let addr = endpoint.addr();
    if status != StatusCode::OK && status != StatusCode::INTERNAL_SERVER_ERROR && status != StatusCode::BAD_REQUEST {
        return Err(TransportError::Status { addr, status });
    }
    tokio::time::timeout(EXCHANGE_TIMEOUT, read_body(response.into_body(), limit, &addr))
        .await
        .unwrap_or_else(|_| Err(TransportError::Timeout { addr }))
}

/// Reads a whole body, refusing more than `limit` bytes.
///
/// Past the limit the rest is read and dropped, up to eight times the limit,
/// so the sender finishes writing and reads the refusal: a connection closed
/// under a sender still writing gives it a broken pipe instead of the answer.
pub async fn read_body(mut body: Incoming, limit: usize, addr: &str) -> Result<Bytes, TransportError> {
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|source| TransportError::Http { addr: addr.to_owned(), source })?;
        let Ok(data) = frame.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_mul(8) {
            break;
        }
    }
    if seen > limit {
        return Err(TransportError::TooLarge { addr: addr.to_owned(), limit });
    }
    Ok(Bytes::from(kept))
}

/// Who is on the other end of a server-side request.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Numbers accepted connections from 1 in this process; two requests with
    /// the same serial came over the same connection.
    pub serial: u64,
    pub peer: SocketAddr,
    /// The client's certificate (its leaf, DER), verified against the CA in
    /// the handshake; `None` if the client presented none.
    pub certificate: Option<CertificateDer<'static>>,
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// Answers a request; `B` is the response body (whole by default, or
/// streamed, as a file server's packages are).
pub type Handler<B = Full<Bytes>> = Arc<dyn Fn(Connection, Request<Incoming>) -> BoxFuture<Response<B>> + Send + Sync>;

/// Accepts TLS connections forever, serving each with HTTP/1.1 and `handler`.
/// A failed handshake or connection is logged and never stops the loop.
pub async fn serve<B>(listener: TcpListener, tls: Arc<rustls::ServerConfig>, handler: Handler<B>)
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = TlsAcceptor::from(tls);
    let serial = Arc::new(AtomicU64::new(0));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        no_delay(&tcp);
        let serial = serial.fetch_add(1, Ordering::Relaxed) + 1;
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            };
            let certificate =
                stream.get_ref().1.peer_certificates().and_then(|chain| chain.first()).map(|c| c.clone().into_owned());
            let connection = Connection { serial, peer, certificate };
            let service = hyper::service::service_fn(move |request| {
                let handler = handler.clone();
                let connection = connection.clone();
                async move { Ok::<_, std::convert::Infallible>(handler(connection, request).await) }
            });
            if let Err(e) =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

/// A SOAP response with the right content type.
pub fn soap_response(status: StatusCode, envelope: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(Full::new(Bytes::from(envelope)))
        .expect("a response built from valid parts")
}
