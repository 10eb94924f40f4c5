//! The operator API's client: one SOAP call per request, over a new TLS
//! connection with the gateway's CA pinned, authenticated by an operator
//! client certificate or a WS-Security UsernameToken.

/// Calls one operation and unwraps its response type (the caller imports
/// `OperatorRequest as Q`, `OperatorResponse as R`, `CliError` and `Exit`).
macro_rules! call {
    ($client:expr, $op:ident($request:expr)) => {
        match $client.call(Q::$op($request))? {
            R::$op(response) => response,
            _ => {
                return Err(CliError::new(
                    Exit::Internal,
                    concat!("the gateway answered ", stringify!($op), " with another response"),
                ))
            }
        }
    };
}

use crate::failure::{CliError, Exit};
use crate::profile::Profile;
use outfit_wsdl::envelope::Answer;
use outfit_wsdl::operator::{Credentials, OperatorRequest, OperatorResponse, decode_operator_response};
use outfit_wsdl::transport::{self, Endpoint, Identity};
use std::path::Path;
use std::sync::Arc;

/// The largest answer the CLI reads (a page of thousands of devices or
/// audit lines is a few MB).
const MAX_ANSWER_BYTES: usize = 64 << 20;

/// A connection to one gateway's operator listener, as one operator.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    tls: Arc<rustls::ClientConfig>,
    endpoint: Endpoint,
    credentials: Option<Credentials>,
    /// Whether progress bars are drawn (a terminal, and not `--json`).
    pub progress: bool,
}

fn setting<T>(value: Option<T>, what: &str, flag: &str) -> Result<T, CliError> {
    value.ok_or_else(|| {
        CliError::new(Exit::Usage, format!("no {what} to connect with"))
            .help(format!("give {flag}, or save it in a profile: `outfit profile set default {flag} …`"))
    })
}

impl Client {
    /// Connects as `profile` says; asks for the password if a user is named
    /// and `OUTFIT_PASSWORD` is not set.
    pub fn new(profile: &Profile) -> Result<Self, CliError> {
        let gateway = setting(profile.gateway.as_deref(), "gateway URL", "--gateway")?;
        let ca = setting(profile.ca.as_deref(), "CA certificate", "--ca")?;
        let endpoint = Endpoint::parse(gateway)
            .map_err(|e| {
                CliError::new(Exit::Usage, format!("`{gateway}` is no gateway URL: {e}"))
                    .help("give it as https://HOST:PORT")
            })?
            .join(outfit_wsdl::OPERATOR_PATH);
        let identity = match (&profile.cert, &profile.key) {
            (Some(cert), Some(key)) => Some(Identity { cert, key }),
            (None, None) => None,
            _ => return Err(CliError::new(Exit::Usage, "an operator certificate needs both --cert and --key")),
        };
        if identity.is_none() && profile.user.is_none() {
            return Err(CliError::new(Exit::Usage, "no way to authenticate")
                .help("give --user NAME (password from OUTFIT_PASSWORD or a prompt), or --cert and --key"));
        }
        let tls = transport::client_config(ca, identity).map_err(|e| {
            CliError::new(Exit::Usage, format!("cannot use the certificates: {e}"))
                .help("check the --ca, --cert and --key files")
        })?;
        let credentials = match (&profile.user, identity) {
            (Some(user), None) => Some(Credentials { username: user.clone(), password: password(user)? }),
            _ => None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::new(Exit::Internal, format!("cannot start the async runtime: {e}")))?;
        Ok(Self { runtime, tls, endpoint, credentials, progress: false })
    }

    /// Sends one request; the response, or the gateway's refusal as an error.
    pub fn call(&self, request: OperatorRequest) -> Result<OperatorResponse, CliError> {
        let operation = request.operation();
        let envelope = request.encode_with(self.credentials.as_ref());
        let reply = self
            .runtime
            .block_on(transport::soap_call_limited(&self.tls, &self.endpoint, operation, envelope, MAX_ANSWER_BYTES))
            .map_err(|e| {
                CliError::new(Exit::Unreachable, format!("cannot reach the gateway at {}: {e}", self.endpoint.addr()))
                    .help("check --gateway (the gateway's operator.url) and --ca (its ca.pem), and that it is serving")
            })?;
        match decode_operator_response(&reply, operation) {
            Ok(Answer::Ok(response)) => Ok(response),
            Ok(Answer::Fault(fault)) => Err(CliError::fault(fault.code.as_str(), &fault.message)),
            Err(e) => Err(CliError::new(
                Exit::Internal,
                format!("the gateway's answer to {operation} is unreadable: {}", e.message),
            )),
        }
    }
}

impl Client {
    /// Uploads the package at `path` (streamed, with a progress bar on a
    /// terminal); returns its sha256 and size.
    pub fn upload(&self, path: &Path) -> Result<(String, u64), CliError> {
        let (sha256, size) = digest(path)?;
        self.upload_digested(path, &sha256, size)?;
        Ok((sha256, size))
    }

    /// Uploads the package at `path` whose `sha256` and `size` are known.
    pub fn upload_digested(&self, path: &Path, sha256: &str, size: u64) -> Result<(), CliError> {
        let endpoint = self.endpoint.join(&format!("/packages/{sha256}"));
        let authorization = self.credentials.as_ref().map(|c| {
            use base64::Engine as _;
            let pair = format!("{}:{}", c.username, c.password);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        let bar = if self.progress {
            let bar = indicatif::ProgressBar::new(size);
            let style =
                indicatif::ProgressStyle::with_template("{msg:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                    .expect("a valid template")
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let shown = bar.clone();
        let sent = self.runtime.block_on(transport::put_file(
            &self.tls,
            &endpoint,
            path,
            authorization.as_deref(),
            move |n| shown.set_position(n),
        ));
        bar.finish_and_clear();
        let (status, body) = sent.map_err(|e| {
            CliError::new(
                Exit::Unreachable,
                format!("cannot upload {} to {}: {e}", path.display(), self.endpoint.addr()),
            )
            .help("check --gateway and --ca, and that the gateway is serving")
        })?;
        if status.is_success() {
            return Ok(());
        }
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let code = answer["code"].as_str().unwrap_or("Internal");
        let message = answer["message"].as_str().map_or_else(|| format!("the upload got HTTP {status}"), str::to_owned);
        Err(CliError::fault(code, &format!("upload of {}: {message}", path.display())))
    }
}

/// The sha256 (hex) and size of a file, read in pieces.
pub fn digest(path: &Path) -> Result<(String, u64), CliError> {
    use sha2::Digest;
    use std::io::Read;
    let failed = |e: std::io::Error| CliError::new(Exit::Usage, format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(failed)?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(failed)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The password for `user`: `OUTFIT_PASSWORD`, else a prompt on the terminal.
fn password(user: &str) -> Result<String, CliError> {
    if let Ok(password) = std::env::var("OUTFIT_PASSWORD") {
        return Ok(password);
    }
    rpassword::prompt_password(format!("password for {user}: "))
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot read the password: {e}")).help("set OUTFIT_PASSWORD"))
}
