//! The web console: pages the gateway renders from the database for people,
//! on the operator listener under `/console`. An edge like the SOAP endpoint:
//! every page reads through, and every form posts to, the same use case of
//! `outfit-app` the operator API calls, so its rights are the API's rights
//! and each change is audited once.
//!
//! Code map: `visitor` (who is asking: an operator certificate or a session
//! cookie; CSRF), `page` (what every page shares: the frame, forms, errors),
//! `assets` (the stylesheet and htmx), and one module per part of the
//! console: `fleet`, `devices`, `models`, `rollouts`, `drift`, `audit`,
//! `scripts` (with the package repository), `operators` (groups, rights).
//! Templates are in `templates/`, checked when this crate compiles.
//!
//! **Boundary:** use cases and domain types only; no diesel, no SOAP types.
//! Read pages work without JavaScript; htmx only refreshes live parts.

mod assets;
mod audit;
mod devices;
mod drift;
mod fleet;
mod models;
mod operators;
mod page;
mod rollouts;
mod scripts;
mod visitor;

use outfit_app::Services;
pub use visitor::Visitor;

/// Where the console lives on the operator listener.
pub const PREFIX: &str = "/console";

/// The largest form body the console reads.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// The console of one gateway process.
#[derive(Debug, Clone)]
pub struct Console {
    services: Services,
}

/// A request as the console sees it: the body read whole (forms are small).
pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Vec<u8>>;

impl Console {
    pub fn new(services: Services) -> Self {
        Self { services }
    }

    /// Answers one request under [`PREFIX`] from `visitor`. Blocking
    /// (database, argon2): run it off the async threads.
    pub fn handle(&self, visitor: &Visitor, request: &Request) -> Response {
        let path = request.uri().path().strip_prefix(PREFIX).unwrap_or("");
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let post = request.method() == http::Method::POST;
        match (post, segments.as_slice()) {
            (false, ["static", file]) => return assets::serve(file),
            (false, ["sign-in"]) => return visitor::sign_in_page(request, None),
            (true, ["sign-in"]) => return visitor::sign_in(&self.services, visitor, request),
            _ => {}
        }
        let signed = match visitor::identify(&self.services, visitor, request) {
            Ok(signed) => signed,
            Err(response) => return *response,
        };
        if post && let Err(response) = signed.check_form(request) {
            return *response;
        }
        let c = page::Ctx { services: &self.services, signed: &signed, request };
        let answered = match (post, segments.as_slice()) {
            (false, []) => Ok(page::see_other("/console/fleet")),
            (true, ["sign-out"]) => visitor::sign_out(&self.services, &signed),
            (false, ["fleet"]) => fleet::show(&c),
            (false, ["devices", name]) => devices::show(&c, name),
            (true, ["devices", name, "inventory"]) => devices::request_inventory(&c, name),
            (true, ["devices", name, "remediate"]) => devices::remediate(&c, name),
            (true, ["devices", name, "rollback-plugin"]) => devices::rollback_plugin(&c, name),
            (false, ["models"]) => models::list(&c),
            (false, ["models", site, model]) => models::show(&c, site, model),
            (true, ["models", site, model, "parameter"]) => models::set_parameter(&c, site, model),
            (false, ["models", site, model, "plan"]) => models::plan(&c, site, model),
            (false, ["models", site, model, "diff"]) => models::diff(&c, site, model),
            (true, ["models", site, model, "rollouts"]) => rollouts::start(&c, site, model),
            (true, ["models", site, model, "rollback"]) => models::rollback(&c, site, model),
            (false, ["rollouts", id]) => rollouts::show(&c, id),
            (true, ["rollouts", id, "steer"]) => rollouts::steer(&c, id),
            (false, ["drift"]) => drift::list(&c),
            (true, ["drift", id, "promote"]) => drift::promote(&c, id),
            (false, ["audit"]) => audit::list(&c),
            (false, ["scripts"]) => scripts::list(&c),
            (true, ["scripts", "run"]) => scripts::run(&c),
            (false, ["packages"]) => scripts::packages(&c),
            (false, ["operators"]) => operators::list(&c),
            (true, ["operators", "save"]) => operators::save(&c),
            (true, ["operators", "grant"]) => operators::grant(&c),
            (true, ["operators", "group"]) => operators::group(&c),
            (true, ["operators", "revoke"]) => operators::revoke(&c),
            _ => Err(page::Shown::not_found(path)),
        };
        let mut response = answered.unwrap_or_else(|shown| shown.render(&signed));
        signed.decorate(&mut response);
        response
    }
}
