//! The HTTPS listener devices download from: `GET /repository/SHA256`,
//! with the device's client certificate (the handshake requires one of the
//! gateways' CA). Each download is checked with a gateway (or a remembered
//! answer), then streamed from the store.

use crate::entitlement::{CheckError, Decision, Entitlements};
use crate::store::Store;
use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use outfit_wsdl::identity::Facts;
pub use outfit_wsdl::transport::Body;
use outfit_wsdl::transport::{Connection, file_response};
use std::sync::Arc;

/// Everything one file server process serves from.
#[derive(Debug)]
pub struct FileServer {
    pub entitlements: Entitlements,
    pub store: Store,
}

impl FileServer {
    /// Answers one request.
    pub async fn route(self: Arc<Self>, connection: Connection, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path();
        match (request.method(), path.strip_prefix("/repository/")) {
            (&Method::GET, Some(key)) => self.download(&connection, key).await,
            _ => text(StatusCode::NOT_FOUND, "only GET /repository/SHA256 here"),
        }
    }

    async fn download(&self, connection: &Connection, key: &str) -> Response<Body> {
        if !outfit_wsdl::messages::is_sha256_hex(key) {
            return text(StatusCode::BAD_REQUEST, "not a sha256 key");
        }
        let Some(certificate) = &connection.certificate else {
            return text(StatusCode::UNAUTHORIZED, "a device certificate is required");
        };
        let device = Facts::read(certificate).map(|f| f.common_name).unwrap_or_default();
        let from = connection.peer.to_string();
        match self.entitlements.check(certificate, &from, key).await {
            Ok(Decision::Allowed) => {}
            Ok(Decision::Refused(why)) => {
                tracing::warn!(%device, %from, key, %why, "download refused");
                return text(StatusCode::FORBIDDEN, &why);
            }
            // 5xx either way: the agent then downloads from its gateway.
            Err(CheckError::Unreachable(e)) => {
                tracing::error!(%device, key, error = %e, "could not check a download");
                return text(StatusCode::SERVICE_UNAVAILABLE, "could not reach a gateway to check the download");
            }
            Err(CheckError::Fault(fault)) => {
                tracing::error!(%device, key, code = fault.code.as_str(), reason = %fault.message, "the gateway refused this file server's check (removed? see `outfit-gateway file-server list`)");
                return text(
                    StatusCode::BAD_GATEWAY,
                    &format!("the gateway refused this file server's check: {}", fault.message),
                );
            }
        }
        let path = match self.store.ensure(key).await {
            Ok(path) => path,
            Err(e) => {
                tracing::error!(key, error = %e, "could not copy a package from the gateway");
                return text(StatusCode::BAD_GATEWAY, "could not copy the package from a gateway");
            }
        };
        match file_response(&path).await {
            Ok(response) => {
                tracing::info!(%device, %from, key, "download");
                response
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "could not read a stored package");
                text(StatusCode::INTERNAL_SERVER_ERROR, "could not read the package")
            }
        }
    }
}

/// A short plain-text answer (a refusal's reason, which the agent shows).
fn text(status: StatusCode, message: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/plain")
        .body(Either::Left(Full::new(Bytes::from(format!("{message}\n")))))
        .expect("a response built from valid parts")
}
