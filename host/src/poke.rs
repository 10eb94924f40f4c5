//! The agent's poke listener (HTTPS). A poke only wakes the agent; it carries
//! nothing the agent trusts. Only the gateway may send one: the TLS handshake
//! requires a certificate of the pinned CA, and the certificate must name
//! the gateway's role (another device's is refused). Even so, the agent then
//! asks its gateway over a new connection, so a poke yields at most "no command".

use crate::access::Access;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};
use outfit_wsdl::envelope::{Body, FaultCode, SoapFault, decode_poke, encode, encode_fault};
use outfit_wsdl::identity::{Facts, Role};
use outfit_wsdl::messages::PokeResponse;
use outfit_wsdl::transport::{self, Handler, MAX_SOAP_BYTES};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;

/// Binds `listen` and serves pokes (and, under `/access/`, the access
/// endpoint) in the background; returns the bound address.
pub async fn listen(
    listen: &str,
    tls: Arc<rustls::ServerConfig>,
    wake: Arc<Notify>,
    access: Arc<Access>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    let handler: Handler = Arc::new(move |connection, request| {
        let wake = wake.clone();
        let access = access.clone();
        Box::pin(async move {
            if request.uri().path().starts_with(crate::access::PREFIX) {
                return access.handle(connection, request).await;
            }
            if request.method() != Method::POST || request.uri().path() != outfit_wsdl::AGENT_POKE_PATH {
                return fault(SoapFault::new(FaultCode::UnknownOperation, "only POST /soap/poke is served here"));
            }
            let peer = connection.peer.to_string();
            let role = connection.certificate.as_deref().and_then(|der| Facts::read(der).ok()).and_then(|f| f.role);
            if role != Some(Role::Gateway) {
                tracing::warn!(%peer, ?role, "poke refused: the client certificate is not the gateway's");
                return fault(SoapFault::new(FaultCode::Forbidden, "only the gateway may poke this agent"));
            }
            let body = match transport::read_body(request.into_body(), MAX_SOAP_BYTES, &peer).await {
                Ok(body) => body,
                Err(_) => return fault(SoapFault::new(FaultCode::TooLarge, "unreadable or oversized poke")),
            };
            match decode_poke(&body) {
                Ok(poke) => {
                    tracing::info!(%peer, gateway = %poke.gateway, "poked");
                    wake.notify_one();
                    let body = encode(Body { poke_response: Some(PokeResponse { accepted: true }), ..Body::default() });
                    transport::soap_response(StatusCode::OK, body)
                }
                Err(f) => fault(f),
            }
        })
    });
    tokio::spawn(transport::serve(listener, tls, handler));
    Ok(local)
}

fn fault(fault: SoapFault) -> Response<Full<Bytes>> {
    transport::soap_response(StatusCode::INTERNAL_SERVER_ERROR, encode_fault(&fault))
}
