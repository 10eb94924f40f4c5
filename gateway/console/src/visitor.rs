//! Who is asking: the holder of an operator client certificate (checked per
//! request, as on the SOAP endpoint), or an operator signed in with a
//! password, remembered by a session cookie (`HttpOnly`, `Secure`,
//! `SameSite=Strict`, expiring, ended at sign-out). Every form carries a CSRF
//! token — the session's, or for a certificate the value of a CSRF cookie
//! (double submit) — and a POST from another origin is refused outright.

use crate::page::{self, Shown};
use crate::{PREFIX, Request, Response};
use askama::Template;
use cookie::{Cookie, SameSite};
use http::StatusCode;
use outfit_app::operators::Credentials;
use outfit_app::pki::random_token;
use outfit_app::sessions::SESSION_MS;
use outfit_app::{Failure, Services};
use outfit_domain::rights::Caller;

const SESSION_COOKIE: &str = "outfit_session";
const CSRF_COOKIE: &str = "outfit_csrf";
/// `why=` of the sign-in page when a presented certificate was not accepted.
const CERTIFICATE_REFUSED: &str = "certificate";

/// The connection a request came on.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// `IP:port`, for the audit log.
    pub peer: String,
    /// The client certificate of the TLS connection (DER), if any.
    pub certificate: Option<Vec<u8>>,
}

/// An operator the console knows, and the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub caller: Caller,
    pub csrf: String,
    /// The session's token, when signed in with a password.
    session: Option<String>,
    /// A CSRF cookie to set on this response (a certificate's first visit).
    new_csrf_cookie: Option<String>,
}

impl Signed {
    /// Refuses a form without this visitor's CSRF token, or sent from another site.
    pub fn check_form(&self, request: &Request) -> Result<(), Box<Response>> {
        same_origin(request)?;
        let form: std::collections::HashMap<String, String> =
            serde_urlencoded::from_bytes(request.body()).unwrap_or_default();
        match form.get("csrf") {
            Some(token) if !self.csrf.is_empty() && *token == self.csrf => Ok(()),
            _ => Err(Box::new(stale_form())),
        }
    }

    /// Adds what this visitor's browser must keep to a response.
    pub fn decorate(&self, response: &mut Response) {
        if let Some(token) = &self.new_csrf_cookie {
            let cookie = secure_cookie(CSRF_COOKIE, token.clone(), SESSION_MS / 1000);
            add_cookie(response, &cookie);
        }
    }

    /// Whether a session cookie (not a certificate) signed this visitor in.
    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }
}

fn stale_form() -> Response {
    page::html(
        StatusCode::FORBIDDEN,
        page::bare("Form refused", "The form was stale or came from another site: reload the page and send it again."),
    )
}

/// A browser names the page a form was sent from; another site's is refused.
fn same_origin(request: &Request) -> Result<(), Box<Response>> {
    let headers = request.headers();
    if headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site") {
        return Err(Box::new(stale_form()));
    }
    let (Some(origin), Some(host)) = (headers.get(http::header::ORIGIN), headers.get(http::header::HOST)) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = host.to_str().unwrap_or("-");
    if origin.strip_prefix("https://") == Some(host) { Ok(()) } else { Err(Box::new(stale_form())) }
}

fn cookie_value(request: &Request, name: &str) -> Option<String> {
    let headers = request.headers().get_all(http::header::COOKIE);
    headers
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn secure_cookie(name: &'static str, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(PREFIX)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

fn add_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = http::HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(http::header::SET_COOKIE, value);
    }
}

/// Who is asking, or the response that sends them to sign in.
pub(crate) fn identify(services: &Services, visitor: &Visitor, request: &Request) -> Result<Signed, Box<Response>> {
    let presented = visitor.certificate.as_deref();
    if let Some(der) = presented
        && let Ok(principal) = services.authenticate(Credentials { certificate: Some(der), password: None })
    {
        let caller = Caller { principal, from: visitor.peer.clone() };
        let (csrf, new_csrf_cookie) = match cookie_value(request, CSRF_COOKIE) {
            Some(token) => (token, None),
            None => {
                let token = random_token().map_err(|f| Box::new(Shown::from(f).render_bare()))?;
                (token.clone(), Some(token))
            }
        };
        return Ok(Signed { caller, csrf, session: None, new_csrf_cookie });
    }
    let resumed = cookie_value(request, SESSION_COOKIE).map(|token| (services.resume_session(&token), token));
    match resumed {
        Some((Ok(resumed), token)) => {
            let caller = Caller { principal: resumed.principal, from: visitor.peer.clone() };
            Ok(Signed { caller, csrf: resumed.csrf, session: Some(token), new_csrf_cookie: None })
        }
        Some((Err(Failure::Internal(e)), _)) => Err(Box::new(Shown::from(Failure::Internal(e)).render_bare())),
        _ if request.method() == http::Method::GET => {
            let next = request.uri().path_and_query().map_or(PREFIX, |p| p.as_str());
            // A certificate the gateway did not take: say so on the sign-in page.
            let why = if presented.is_some() { CERTIFICATE_REFUSED } else { "" };
            let query = serde_urlencoded::to_string([("next", next), ("why", why)]).unwrap_or_default();
            Err(Box::new(page::see_other(&format!("{PREFIX}/sign-in?{query}"))))
        }
        _ => Err(Box::new(page::html(
            StatusCode::UNAUTHORIZED,
            page::bare("Signed out", "Your session has expired or ended: sign in again, then send the form anew."),
        ))),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    next: &'a str,
    name: &'a str,
    error: Option<&'a str>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    why: String,
}

/// Only a page of the console is somewhere to go after signing in.
fn safe_next(next: &str) -> &str {
    let inside = next.starts_with("/console/") && !next.starts_with("//") && !next.contains('\\');
    if inside { next } else { "/console/fleet" }
}

pub(crate) fn sign_in_page(request: &Request, failed: Option<(&str, &str)>) -> Response {
    let query: SignInForm = serde_urlencoded::from_str(request.uri().query().unwrap_or("")).unwrap_or_default();
    let refused_certificate = "Your browser presented a certificate this gateway does not take as an operator's \
        (revoked, expired, or issued to a device): sign in with a password, or get a new one with \
        `outfit operator cert NAME`.";
    let (name, error) = match failed {
        Some((name, error)) => (name, Some(error)),
        None if query.why == CERTIFICATE_REFUSED => ("", Some(refused_certificate)),
        None => ("", None),
    };
    let next = if failed.is_some() {
        let form: SignInForm = serde_urlencoded::from_bytes(request.body()).unwrap_or_default();
        safe_next(&form.next).to_owned()
    } else {
        safe_next(&query.next).to_owned()
    };
    let status = if failed.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    match (SignInPage { next: &next, name, error }).render() {
        Ok(body) => page::html(status, body),
        Err(e) => page::html(StatusCode::INTERNAL_SERVER_ERROR, page::bare("Error", &e.to_string())),
    }
}

/// The password form: a session, its cookie, and on to where the visitor was going.
pub(crate) fn sign_in(services: &Services, visitor: &Visitor, request: &Request) -> Response {
    if let Err(refused) = same_origin(request) {
        return *refused;
    }
    let form: SignInForm = serde_urlencoded::from_bytes(request.body()).unwrap_or_default();
    match services.sign_in(form.name.trim(), &form.password, &visitor.peer) {
        Ok(signed) => {
            let mut response = page::see_other(safe_next(&form.next));
            let max_age = (signed.expires_at - outfit_domain::now_ms()) / 1000;
            add_cookie(&mut response, &secure_cookie(SESSION_COOKIE, signed.token, max_age));
            response
        }
        Err(Failure::Refused(r)) => sign_in_page(request, Some((form.name.trim(), &r.message))),
        Err(failure) => Shown::from(failure).render_bare(),
    }
}

/// Ends the session (a certificate holder has none to end) and forgets its cookie.
pub(crate) fn sign_out(services: &Services, signed: &Signed) -> Result<Response, Shown> {
    if let Some(token) = &signed.session {
        services.sign_out(&signed.caller, token)?;
    }
    let mut response = page::see_other(&format!("{PREFIX}/sign-in"));
    add_cookie(&mut response, &secure_cookie(SESSION_COOKIE, String::new(), 0));
    Ok(response)
}
