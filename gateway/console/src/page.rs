//! What every page shares: the request's context, the frame around each page
//! (who is signed in, the sections, the CSRF token for forms), reading a
//! query or a form, and how a refusal or a failure is shown.

use crate::visitor::Signed;
use crate::{Request, Response};
use askama::Template;
use http::StatusCode;
use outfit_app::{Failure, RefusalKind, Services};
use outfit_domain::rights::Caller;

/// One request being answered.
pub(crate) struct Ctx<'a> {
    pub services: &'a Services,
    pub signed: &'a Signed,
    pub request: &'a Request,
}

impl Ctx<'_> {
    pub fn caller(&self) -> &Caller {
        &self.signed.caller
    }

    /// The page's frame, with `section` marked as the current one.
    pub fn frame(&self, section: &'static str) -> Frame {
        Frame::of(self.signed, section)
    }

    /// The query string as `T` (missing fields take their defaults).
    pub fn query<T: serde::de::DeserializeOwned>(&self) -> Result<T, Shown> {
        serde_urlencoded::from_str(self.request.uri().query().unwrap_or(""))
            .map_err(|e| Shown::invalid(format!("the address's query is not understood: {e}")))
    }

    /// What the previous form did, as the page it led to says it (`?notice=`).
    pub fn notice(&self) -> Option<String> {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default)]
        struct Notice {
            notice: String,
        }
        let found: Notice = self.query().unwrap_or_default();
        Some(found.notice).filter(|n| !n.is_empty())
    }

    /// The posted form as `T`.
    pub fn form<T: serde::de::DeserializeOwned>(&self) -> Result<T, Shown> {
        serde_urlencoded::from_bytes(self.request.body())
            .map_err(|e| Shown::invalid(format!("the form is not understood: {e}")))
    }
}

/// What surrounds every page.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub operator: String,
    pub csrf: String,
    pub section: &'static str,
    /// Signed in with a password (a certificate holder has no session to end).
    pub session: bool,
}

impl Frame {
    fn of(signed: &Signed, section: &'static str) -> Self {
        Self {
            operator: signed.caller.principal.name(),
            csrf: signed.csrf.clone(),
            section,
            session: signed.has_session(),
        }
    }

    /// The sections of the console, as the navigation lists them.
    pub fn sections(&self) -> [(&'static str, &'static str, bool); 7] {
        [
            ("fleet", "Fleet"),
            ("models", "Models"),
            ("drift", "Drift"),
            ("scripts", "Scripts"),
            ("packages", "Packages"),
            ("operators", "Operators"),
            ("audit", "Audit"),
        ]
        .map(|(path, label)| (path, label, path == self.section))
    }
}

/// A refusal or a failure, as a page.
#[derive(Debug)]
pub(crate) struct Shown {
    status: StatusCode,
    title: String,
    message: String,
}

impl From<Failure> for Shown {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(r) => {
                let (status, title) = match r.kind {
                    RefusalKind::Unauthenticated => (StatusCode::UNAUTHORIZED, "Not signed in"),
                    RefusalKind::Forbidden => (StatusCode::FORBIDDEN, "Refused: no right"),
                    RefusalKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
                    RefusalKind::Conflict => (StatusCode::CONFLICT, "Not possible now"),
                    _ => (StatusCode::BAD_REQUEST, "Not accepted"),
                };
                Self { status, title: title.to_owned(), message: r.message }
            }
            Failure::Internal(cause) => {
                tracing::error!(error = %cause, "a console page failed inside the gateway");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: "The gateway failed".to_owned(),
                    message: "Something failed inside the gateway; its log says what.".to_owned(),
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "bare.html")]
struct BarePage<'a> {
    title: &'a str,
    message: &'a str,
}

impl Shown {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, title: "Not accepted".to_owned(), message: message.into() }
    }

    pub fn not_found(path: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, title: "Not found".to_owned(), message: format!("no page {path}") }
    }

    /// Within the frame of the signed-in operator.
    pub fn render(&self, signed: &Signed) -> Response {
        let page = ErrorPage { frame: Frame::of(signed, ""), title: &self.title, message: &self.message };
        match page.render() {
            Ok(body) => html(self.status, body),
            Err(_) => self.render_bare(),
        }
    }

    /// Without a frame (nobody is signed in).
    pub fn render_bare(&self) -> Response {
        html(self.status, bare(&self.title, &self.message))
    }
}

/// A page with a title and a message only.
pub(crate) fn bare(title: &str, message: &str) -> String {
    (BarePage { title, message }).render().unwrap_or_else(|_| "error".to_owned())
}

/// Renders a page template as a 200 response.
pub(crate) fn ok(page: impl Template) -> Result<Response, Shown> {
    let body = page.render().map_err(Failure::internal)?;
    Ok(html(StatusCode::OK, body))
}

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(body.into_bytes());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/html; charset=utf-8"));
    // Scripts and styles only from the console itself; no framing by others.
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, http::HeaderValue::from_static("nosniff"));
    headers.insert(http::header::REFERRER_POLICY, http::HeaderValue::from_static("same-origin"));
    headers.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

/// After a form: go to `location` (a GET), so a reload does not post again.
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

/// Characters a path segment keeps as they are.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// After a form: go to `path`, which says what was done (`notice`).
pub(crate) fn done(path: &str, notice: &str) -> Response {
    let query = serde_urlencoded::to_string([("notice", notice)]).unwrap_or_default();
    see_other(&format!("{path}?{query}"))
}

/// `value` as it may stand in a path segment.
pub(crate) fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

/// A path segment from the address, decoded.
pub(crate) fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// Unix ms as UTC, to the second.
pub(crate) fn when(ms: &i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| ms.to_string())
}
