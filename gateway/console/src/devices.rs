//! A device: its queue (live), its latest inventory, its drift and its
//! audit lines, its plug-ins; asking it for an inventory, remediating its
//! drift, rolling a plug-in back.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::devices::DeviceStatus;
use outfit_app::drift::{DriftQuery, DriftRecord, InventorySummary};
use outfit_app::provisioning::Targets;
use outfit_domain::audit::{AuditEntry, AuditFilter};
use outfit_domain::command::Payload;
use outfit_domain::inventory::Inventory;
use outfit_domain::serving::{Agent, ReportedPlugin};

/// One command of the queue as the page lists it.
struct CommandRow {
    sequence: i64,
    kind: String,
    summary: String,
    state: &'static str,
    attempts: i32,
    result: String,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    frame: Frame,
    status: DeviceStatus,
    agent_version: String,
    /// The plug-ins its agent serves, from its latest Hello.
    plugins: Vec<ReportedPlugin>,
    queue: Vec<CommandRow>,
    inventory: Option<Inventory>,
    reports: Vec<InventorySummary>,
    drift: Vec<DriftRecord>,
    audit: Vec<AuditEntry>,
    notice: Option<String>,
}

pub(crate) fn show(c: &Ctx<'_>, name: &str) -> Result<Response, Shown> {
    let name = page::decoded(name);
    let s = c.services;
    let status = s.device_status(c.caller(), &name)?;
    let (_, _, agent) = s.show_device(c.caller(), &name)?;
    let queue = s
        .queue(c.caller(), &name)?
        .into_iter()
        .map(|q| CommandRow {
            sequence: q.sequence,
            summary: Payload::from_json(&q.payload).map_or_else(|_| q.kind.clone(), |p| p.summary()),
            kind: q.kind,
            state: q.state.as_str(),
            attempts: q.attempts,
            result: q.result.unwrap_or_default(),
        })
        .collect();
    let (inventory, reports) = s.show_inventory(c.caller(), &name)?;
    let query = DriftQuery { device: Some(&name), history: true, limit: 50, ..DriftQuery::default() };
    let drift = s.drifts(c.caller(), &query)?;
    let filter = AuditFilter { mentions: Some(&name), ..AuditFilter::default() };
    let audit = s.audit_entries(c.caller(), &filter, 0, 20)?;
    page::ok(DevicePage {
        frame: c.frame("fleet"),
        status,
        agent_version: agent.agent_version.unwrap_or_else(|| "not reported yet".to_owned()),
        plugins: match agent.agent {
            Agent::Reported(report) => report.plugins,
            Agent::Unseen | Agent::Unreported { .. } => Vec::new(),
        },
        queue,
        inventory,
        reports,
        drift,
        audit,
        notice: c.notice(),
    })
}

fn back(name: &str, notice: &str) -> Response {
    page::done(&format!("/console/devices/{}", page::segment(name)), notice)
}

/// Queues an inventory report on the device (needs `deploy`).
pub(crate) fn request_inventory(c: &Ctx<'_>, name: &str) -> Result<Response, Shown> {
    let name = page::decoded(name);
    let status = c.services.device_status(c.caller(), &name)?;
    c.services.request_inventory(c.caller(), &status.site, &Targets::Devices(vec![name.clone()]))?;
    Ok(back(&name, "An inventory was asked for; the page shows it once the agent reports."))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PluginForm {
    plugin: String,
}

/// Switches one plug-in of the device back to the version it replaced (needs `deploy`).
pub(crate) fn rollback_plugin(c: &Ctx<'_>, name: &str) -> Result<Response, Shown> {
    let name = page::decoded(name);
    let form: PluginForm = c.form()?;
    let status = c.services.device_status(c.caller(), &name)?;
    let targets = Targets::Devices(vec![name.clone()]);
    c.services.rollback_plugin(c.caller(), &status.site, &form.plugin, &targets, None)?;
    Ok(back(&name, &format!("Plug-in {} rolls back on this device.", form.plugin)))
}

/// Queues the commands that put the device back to its model (needs `deploy`).
pub(crate) fn remediate(c: &Ctx<'_>, name: &str) -> Result<Response, Shown> {
    let name = page::decoded(name);
    let queued = c.services.remediate(c.caller(), &name)?;
    Ok(back(&name, &format!("{} commands queued to remove the drift.", queued.commands)))
}
