//! The file-server endpoint: a file server asks whether a device may
//! download a package. The caller is whoever this gateway's CA issued the
//! presented certificate to at `file-server add`; nothing else is accepted.

use super::{Answered, fault, respond_fault};
use outfit_app::agent::Release;
use outfit_app::file_servers::RELEASE_CACHE;
use outfit_app::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::file_server::{CheckReleaseResponse, decode_file_server_request};

/// Serves the file-server operation for one gateway process.
#[derive(Debug, Clone)]
pub struct FileServerEndpoint {
    pub services: Services,
}

impl FileServerEndpoint {
    /// Handles one request body from `from`, who presented `certificate`.
    /// Blocking (database): run it off the async threads.
    pub fn handle(&self, from: &str, certificate: Option<&[u8]>, body: &[u8]) -> Answered {
        const OPERATION: &str = "CheckRelease";
        let request = match decode_file_server_request(body) {
            Ok(request) => request,
            Err(fault) => return respond_fault("invalid", &fault),
        };
        let caller = match self.caller(from, certificate) {
            Ok(caller) => caller,
            Err(failure) => {
                tracing::warn!(from, "file-server request without a file-server certificate refused");
                return respond_fault(OPERATION, &fault(&failure));
            }
        };
        let device = match request.certificate() {
            Ok(device) => device,
            Err(fault) => return respond_fault(OPERATION, &fault),
        };
        match self.services.release_via_file_server(&caller, &device, &request.device_address, &request.sha256) {
            Ok(release) => {
                let response = match release {
                    Release::Allowed => CheckReleaseResponse {
                        allowed: true,
                        reason: None,
                        valid_seconds: RELEASE_CACHE.as_secs() as i32,
                    },
                    Release::Refused(why) => {
                        CheckReleaseResponse { allowed: false, reason: Some(why), valid_seconds: 0 }
                    }
                };
                Answered::ok(OPERATION, response.encode())
            }
            Err(failure) => respond_fault(OPERATION, &fault(&failure)),
        }
    }

    /// The file server a request comes from, by its certificate.
    pub fn caller(&self, from: &str, certificate: Option<&[u8]>) -> Result<Caller, Failure> {
        let unknown =
            || Refusal::new(RefusalKind::Unauthenticated, "the file-server service needs a file server's certificate");
        let der = certificate.ok_or_else(unknown)?;
        let principal = self.services.file_server_by_certificate(der)?.ok_or_else(unknown)?;
        Ok(Caller { principal, from: from.to_owned() })
    }
}
