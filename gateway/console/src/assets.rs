//! The console's static files, compiled in: its stylesheet and htmx (0BSD,
//! vendored unchanged from the `htmx.org` npm package; the version is in the name).

use crate::Response;
use http::{HeaderValue, StatusCode};

const STYLE: &[u8] = include_bytes!("../static/console.css");
const HTMX: &[u8] = include_bytes!("../static/htmx-2.0.8.min.js");

/// `GET /console/static/FILE`; needs no sign-in.
pub(crate) fn serve(file: &str) -> Response {
    let (body, kind) = match file {
        "console.css" => (STYLE, "text/css; charset=utf-8"),
        "htmx-2.0.8.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => (&b"no such file\n"[..], "text/plain"),
    };
    let mut response = Response::new(body.to_vec());
    if body.starts_with(b"no such file") {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
