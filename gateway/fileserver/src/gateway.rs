//! The gateways a file server asks and copies from: the operator listeners
//! of one data centre's gateways, tried in order until one answers (any of
//! them will do; they share the database).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use std::sync::Arc;

/// The gateways, and the client identity presented to them.
#[derive(Debug, Clone)]
pub struct Gateways {
    tls: Arc<rustls::ClientConfig>,
    urls: Vec<Endpoint>,
}

impl Gateways {
    pub fn new(tls: Arc<rustls::ClientConfig>, urls: Vec<Endpoint>) -> Self {
        Self { tls, urls }
    }

    /// One SOAP exchange of the file-server service with the first gateway
    /// that answers.
    pub async fn soap(&self, operation: &str, envelope: String) -> Result<Bytes, TransportError> {
        let mut last = None;
        for url in &self.urls {
            let endpoint = url.join(outfit_wsdl::FILE_SERVER_PATH);
            match transport::soap_call(&self.tls, &endpoint, operation, envelope.clone()).await {
                Ok(body) => return Ok(body),
                Err(e) => {
                    tracing::warn!(gateway = %url.addr(), error = %e, "gateway did not answer; trying the next");
                    last = Some(e);
                }
            }
        }
        Err(last.expect("at least one gateway URL"))
    }

    /// `GET path` from the first gateway that answers (any HTTP status).
    pub async fn get(&self, path: &str) -> Result<Response<Incoming>, TransportError> {
        let mut last = None;
        for url in &self.urls {
            let request = Request::get(path)
                .header(hyper::header::HOST, url.addr())
                .header(hyper::header::CONNECTION, "close")
                .body(Full::new(Bytes::new()))
                .expect("a request built from valid parts");
            match transport::send(&self.tls, url, request).await {
                Ok(response) => return Ok(response),
                Err(e) => {
                    tracing::warn!(gateway = %url.addr(), error = %e, "gateway did not answer; trying the next");
                    last = Some(e);
                }
            }
        }
        Err(last.expect("at least one gateway URL"))
    }
}
