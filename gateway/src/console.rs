//! The web console on the operator listener: hands each request under
//! `/console` to `outfit-console` (off the async threads, holding a database
//! slot) and its answer back to hyper.

use crate::server::Gateway;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode, body::Incoming};
use outfit_console::{MAX_FORM_BYTES, Visitor};
use outfit_wsdl::transport::{self, Connection, TransportError};
use std::sync::Arc;

/// Answers one console request.
pub async fn serve(gateway: Arc<Gateway>, connection: Connection, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let peer = connection.peer.to_string();
    let (parts, body) = request.into_parts();
    let body = match transport::read_body(body, MAX_FORM_BYTES, &peer).await {
        Ok(body) => body.to_vec(),
        Err(TransportError::TooLarge { limit, .. }) => {
            return text(StatusCode::PAYLOAD_TOO_LARGE, format!("console forms are limited to {limit} bytes\n"));
        }
        Err(_) => return text(StatusCode::BAD_REQUEST, "unreadable request body\n".to_owned()),
    };
    let request = Request::from_parts(parts, body);
    let visitor = Visitor { peer, certificate: connection.certificate.map(|c| c.to_vec()) };
    let console = gateway.console.clone();
    let _slot = gateway.db_slot().await;
    match tokio::task::spawn_blocking(move || console.handle(&visitor, &request)).await {
        Ok(response) => response.map(|body| Full::new(Bytes::from(body))),
        Err(e) => {
            tracing::error!(error = %e, "a console page panicked");
            text(StatusCode::INTERNAL_SERVER_ERROR, "the console failed; see the gateway's log\n".to_owned())
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
