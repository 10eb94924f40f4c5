//! The simulated agents' poke listener, so a rollout reaches them as it
//! reaches real agents: the gateway pokes, the agent drains its queue and
//! reports its inventory. One HTTPS listener serves them all (ten thousand
//! listeners would measure the kernel's sockets, not Outfit), each agent at
//! its own path, `/soap/poke/<device>`; it presents a certificate of the
//! gateway's CA and, like an agent's, takes pokes only from holders of one.

use crate::home::Home;
use anyhow::Result;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use outfit_wsdl::envelope::{Body, FaultCode, SoapFault, decode_poke, encode, encode_fault};
use outfit_wsdl::messages::PokeResponse;
use outfit_wsdl::transport::{self, Handler, Identity, MAX_SOAP_BYTES};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Each simulated device's doorbell, by name.
pub type Doorbells = Arc<HashMap<String, Arc<Notify>>>;

/// Binds a loopback port and rings the doorbell of each poked device;
/// returns the poke URL of `device` as a function of its name.
pub async fn listen(home: &Home, doorbells: Doorbells) -> Result<impl Fn(&str) -> String + use<>> {
    let me = Identity { cert: &home.server_cert(), key: &home.server_key() };
    let tls = transport::server_config(me, transport::Clients::Required(&home.ca_cert()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let prefix = format!("{}/", outfit_wsdl::AGENT_POKE_PATH);
    let handler: Handler = Arc::new(move |connection, request| {
        let bell = request.uri().path().strip_prefix(&prefix).and_then(|device| doorbells.get(device)).cloned();
        Box::pin(async move {
            let Some(bell) = bell else { return fault(FaultCode::UnknownOperation, "no such simulated device") };
            let peer = connection.peer.to_string();
            let Ok(body) = transport::read_body(request.into_body(), MAX_SOAP_BYTES, &peer).await else {
                return fault(FaultCode::TooLarge, "unreadable or oversized poke");
            };
            match decode_poke(&body) {
                Ok(_) => {
                    bell.notify_one();
                    let body = encode(Body { poke_response: Some(PokeResponse { accepted: true }), ..Body::default() });
                    transport::soap_response(StatusCode::OK, body)
                }
                Err(f) => transport::soap_response(StatusCode::INTERNAL_SERVER_ERROR, encode_fault(&f)),
            }
        })
    });
    tokio::spawn(transport::serve(listener, tls, handler));
    Ok(move |device: &str| format!("https://127.0.0.1:{port}{}/{device}", outfit_wsdl::AGENT_POKE_PATH))
}

fn fault(code: FaultCode, message: &str) -> Response<Full<Bytes>> {
    transport::soap_response(StatusCode::INTERNAL_SERVER_ERROR, encode_fault(&SoapFault::new(code, message)))
}
