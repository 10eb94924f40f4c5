//! Package uploads on the operator listener: `PUT /packages/SHA256`, the body
//! the package's bytes, streamed to disk while hashed (never whole in memory)
//! and stored only if they hash to SHA256. Authenticated like the SOAP
//! operations — an operator client certificate, or HTTP Basic with the
//! operator's name and password (the UsernameToken's, on this TLS channel) —
//! and audited once. Answers are JSON: `{"sha256", "size"}`, or
//! `{"code", "message"}` with the Fault code a SOAP call would carry.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, body::Incoming};
use outfit_app::audit::RefusedRequest;
use outfit_app::operators::Credentials;
use outfit_app::{Failure, RefusalKind, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::transport::Connection;

/// The largest package accepted.
pub const MAX_PACKAGE_BYTES: u64 = 4 << 30;

/// The path prefix of uploads.
pub const PREFIX: &str = "/packages/";

fn answer(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response");
    if status == StatusCode::UNAUTHORIZED {
        let challenge = hyper::header::HeaderValue::from_static("Basic realm=\"outfit\"");
        response.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, challenge);
    }
    response
}

fn refused(code: &str, message: &str) -> Response<Full<Bytes>> {
    let status = match code {
        "Unauthenticated" => StatusCode::UNAUTHORIZED,
        "Forbidden" => StatusCode::FORBIDDEN,
        "TooLarge" => StatusCode::PAYLOAD_TOO_LARGE,
        "Internal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    answer(status, serde_json::json!({ "code": code, "message": message }))
}

fn failed(failure: &Failure) -> Response<Full<Bytes>> {
    let fault = crate::soap::fault(failure);
    refused(fault.code.as_str(), &fault.message)
}

/// The name and password of an `Authorization: Basic …` header.
fn basic(request: &Request<Incoming>) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = request.headers().get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Serves one `PUT /packages/SHA256`. Blocking work (argon2, files) runs on
/// the blocking pool.
pub async fn put(services: Services, connection: Connection, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let sha256 = request.uri().path()[PREFIX.len()..].to_owned();
    let peer = connection.peer.to_string();
    let certificate = connection.certificate.as_ref().map(|c| c.to_vec());
    let password = basic(&request);
    let declared =
        request.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PACKAGE_BYTES) {
        return refused("TooLarge", &format!("packages are limited to {MAX_PACKAGE_BYTES} bytes"));
    }
    let (s, who, object) = (services.clone(), peer.clone(), sha256.clone());
    let started = tokio::task::spawn_blocking(move || {
        let claimed = password.as_ref().map_or("-".to_owned(), |(user, _)| user.clone());
        let credentials = Credentials {
            certificate: certificate.as_deref(),
            password: password.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
        };
        let principal = match s.authenticate(credentials) {
            Ok(principal) => principal,
            Err(failure) => {
                let fault = crate::soap::fault(&failure);
                let code = fault.code.as_str();
                let request = RefusedRequest {
                    claimed: &claimed,
                    operation: "UploadPackage",
                    site: None,
                    object: &object,
                    from: &who,
                    code,
                    message: &fault.message,
                };
                s.audit_refused_request(&request);
                return Err(failure);
            }
        };
        let caller = Caller { principal, from: who };
        let upload = s.begin_upload(&caller, &object)?;
        Ok((caller, upload))
    })
    .await;
    let (caller, mut upload) = match started {
        Ok(Ok(started)) => started,
        Ok(Err(failure)) => {
            if failure.refusal().is_some_and(|r| r.kind == RefusalKind::Unauthenticated) {
                return refused("Unauthenticated", "an operator certificate or HTTP Basic credentials are required");
            }
            return failed(&failure);
        }
        Err(e) => return failed(&Failure::internal(format!("upload panicked: {e}"))),
    };
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
            // The client went away: the unfinished upload leaves nothing.
            Err(e) => return failed(&Failure::internal(format!("reading the upload from {peer}: {e}"))),
        };
        if upload.size() as u64 + data.len() as u64 > MAX_PACKAGE_BYTES {
            return refused("TooLarge", &format!("packages are limited to {MAX_PACKAGE_BYTES} bytes"));
        }
        if let Err(failure) = upload.write(&data) {
            return failed(&failure);
        }
    }
    let finished = tokio::task::spawn_blocking(move || services.finish_upload(&caller, upload)).await;
    match finished {
        Ok(Ok(stored)) => {
            answer(StatusCode::CREATED, serde_json::json!({ "sha256": stored.sha256, "size": stored.size }))
        }
        Ok(Err(failure)) => failed(&failure),
        Err(e) => failed(&Failure::internal(format!("upload panicked: {e}"))),
    }
}
