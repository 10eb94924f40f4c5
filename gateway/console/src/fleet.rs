//! The fleet: devices by site, model and queue state, searched by name, one
//! page at a time (the database filters and pages, so 10,000 devices list
//! as fast as ten).

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::devices::{DeviceFilter, DeviceStatus};

/// Devices per page.
const PAGE: usize = 50;

/// The queue states an operator filters by (`QueueCounts::state`).
const QUEUE_STATES: [&str; 5] = ["halted", "rebooting", "running", "waiting", "idle"];

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Query {
    site: String,
    model: String,
    queue: String,
    q: String,
    page: usize,
}

#[derive(Template)]
#[template(path = "fleet.html")]
struct FleetPage {
    frame: Frame,
    query: Query,
    sites: Vec<String>,
    models: Vec<String>,
    states: [&'static str; 5],
    devices: Vec<DeviceStatus>,
    total: usize,
    first: usize,
    previous: Option<String>,
    next: Option<String>,
}

fn some(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

pub(crate) fn show(c: &Ctx<'_>) -> Result<Response, Shown> {
    let query: Query = c.query()?;
    let filter = DeviceFilter {
        site: some(&query.site),
        model: some(&query.model),
        queue: some(&query.queue),
        search: some(&query.q),
        offset: query.page * PAGE,
        limit: PAGE,
    };
    let found = c.services.list_devices(c.caller(), &filter)?;
    let known = c.services.models(c.caller(), None)?;
    let mut sites: Vec<String> = known.iter().map(|m| m.site.clone()).collect();
    sites.dedup();
    let mut models: Vec<String> = known.iter().map(|m| m.name.clone()).collect();
    models.sort();
    models.dedup();
    let link = |page: usize| {
        let pairs = [("site", &query.site), ("model", &query.model), ("queue", &query.queue), ("q", &query.q)];
        let mut pairs: Vec<(&str, String)> =
            pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.clone())).collect();
        pairs.push(("page", page.to_string()));
        format!("/console/fleet?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let previous = (query.page > 0).then(|| link(query.page - 1));
    let next = ((query.page + 1) * PAGE < found.total).then(|| link(query.page + 1));
    page::ok(FleetPage {
        frame: c.frame("fleet"),
        first: query.page * PAGE,
        query,
        sites,
        models,
        states: QUEUE_STATES,
        total: found.total,
        devices: found.devices,
        previous,
        next,
    })
}
