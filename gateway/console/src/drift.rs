//! Drift across the fleet: what differs from the models now, and promoting a
//! changed file into its model (a new version, which can then be rolled out
//! to every device of the model) — remediation is on the device's page.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::drift::{DriftQuery, DriftRecord};
use outfit_app::rollouts::Follow;
use outfit_domain::drift::DriftKind;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Query {
    site: String,
    device: String,
}

#[derive(Template)]
#[template(path = "drift.html")]
struct DriftPage {
    frame: Frame,
    query: Query,
    drift: Vec<DriftRecord>,
}

impl DriftPage {
    fn promotable(record: &DriftRecord) -> bool {
        record.drift.kind == DriftKind::File && record.drift.component.is_some() && record.resolved_at.is_none()
    }
}

pub(crate) fn list(c: &Ctx<'_>) -> Result<Response, Shown> {
    let query: Query = c.query()?;
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let (site, device) = (some(&query.site), some(&query.device));
    let find = DriftQuery { site: site.as_deref(), device: device.as_deref(), limit: 500, ..DriftQuery::default() };
    let drift = c.services.drifts(c.caller(), &find)?;
    page::ok(DriftPage { frame: c.frame("drift"), query, drift })
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PromoteForm {
    reason: String,
}

/// Adopts a changed file into its model as a new version; then its dry run.
pub(crate) fn promote(c: &Ctx<'_>, id: &str) -> Result<Response, Shown> {
    let id: i64 = id.parse().map_err(|_| Shown::invalid(format!("`{id}` is no drift number")))?;
    let form: PromoteForm = c.form()?;
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let record = c.services.drifts(c.caller(), &DriftQuery { only: Some(id), limit: 1, ..DriftQuery::default() })?;
    let changed = c.services.promote_drift(c.caller(), id, reason, Follow::Nothing)?;
    let record = record.into_iter().next().ok_or_else(|| Shown::invalid(format!("no drift {id}")))?;
    let plan =
        format!("{}/plan?version={}", crate::models::path(&record.site, &record.model), changed.imported.version);
    Ok(page::see_other(&plan))
}
