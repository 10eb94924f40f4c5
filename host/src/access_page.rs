//! The access endpoint as a page for a person at the device with a browser:
//! `GET /access/` shows the device and its plug-ins, with a form to try a
//! configuration file on this device alone; the form posts to
//! `/access/configure` and gets a page back. The gateway authorises each
//! request, as for the JSON endpoints. A browser presents the operator's
//! certificate to any site that asks, so a form is accepted only when the
//! browser says it was sent from this agent's own pages (`Origin`).

use crate::access::{Access, LocalConfigure, ServingPlugin, refuse};
use askama::Template;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use outfit_wsdl::messages::Authorise;
use outfit_wsdl::transport::{self, MAX_SOAP_BYTES};

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage<'a> {
    device: &'a str,
    operator: &'a str,
    plugins: Vec<ServingPlugin>,
    changes: usize,
}

#[derive(Template)]
#[template(path = "access_tried.html")]
struct TriedPage<'a> {
    device: &'a str,
    operator: &'a str,
    path: &'a str,
    outcome: &'a str,
    message: &'a str,
}

/// The form of `access.html`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct TrialForm {
    category: String,
    component: String,
    path: String,
    template: String,
    /// `name=value`, one per line.
    parameters: String,
    promote: Option<String>,
}

/// Whether a request carries an HTML form (rather than JSON).
pub(crate) fn is_form(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(
            hyper::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        )
        .header(hyper::header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("a response built from valid parts")
}

fn rendered(status: StatusCode, page: impl Template) -> Response<Full<Bytes>> {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("could not render the page: {e}")),
    }
}

/// A form sent from another site carries the person's certificate too:
/// only this agent's own pages may post one.
fn same_origin<B>(request: &Request<B>) -> bool {
    let headers = request.headers();
    let origin = headers.get(hyper::header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(hyper::header::HOST).and_then(|v| v.to_str().ok());
    matches!((origin, host), (Some(origin), Some(host)) if origin.strip_prefix("https://") == Some(host))
}

fn parameters(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut all = std::collections::BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once('=').ok_or_else(|| format!("`{line}` is not name=value"))?;
        all.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(all)
}

impl Access {
    /// `GET /access/`: the page (right `read`).
    pub(crate) async fn page(&self, der: &[u8], from: &str) -> Response<Full<Bytes>> {
        let ask = Authorise { action: "read".into(), object: "status".into(), ..Authorise::default() };
        let operator = match self.authorise(der, ask, from).await {
            Ok(operator) => operator,
            Err(refused) => return refused,
        };
        let (plugins, changes) = self.status();
        rendered(StatusCode::OK, AccessPage { device: &self.client.device, operator: &operator, plugins, changes })
    }

    /// `POST /access/configure` from the page's form (right `change` on its category).
    pub(crate) async fn configure_form(
        &self,
        der: &[u8],
        from: &str,
        request: Request<Incoming>,
    ) -> Response<Full<Bytes>> {
        if !same_origin(&request) {
            return refuse(StatusCode::FORBIDDEN, "the form was not sent from this agent's page; nothing done");
        }
        let body = match transport::read_body(request.into_body(), MAX_SOAP_BYTES, from).await {
            Ok(body) => body,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("unreadable form: {e}")),
        };
        let form: TrialForm = match serde_urlencoded::from_bytes(&body) {
            Ok(form) => form,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("the form is not understood: {e}")),
        };
        let parameters = match parameters(&form.parameters) {
            Ok(parameters) => parameters,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, e),
        };
        let change = LocalConfigure {
            category: form.category,
            component: form.component,
            path: form.path,
            template: form.template.replace("\r\n", "\n"),
            parameters,
            promote: form.promote.is_some(),
        };
        let operator = match self.authorise(der, change.question(), from).await {
            Ok(operator) => operator,
            Err(refused) => return refused,
        };
        let (status, outcome, message) = match self.configure(&operator, from, &change).await {
            Ok(tried) => (tried.status, tried.outcome, tried.message),
            Err(reason) => (StatusCode::INTERNAL_SERVER_ERROR, "unrecorded", reason),
        };
        let page = TriedPage {
            device: &self.client.device,
            operator: &operator,
            path: &change.path,
            outcome,
            message: &message,
        };
        rendered(status, page)
    }
}
