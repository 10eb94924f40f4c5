//! Models: the list; one model's current version (its roles, components and
//! parameters, each parameter a form), its versions with what each changed,
//! its rollouts; changing a parameter (a new version, nothing rolled out
//! yet), the dry run of a version, what changed between two versions,
//! rollback, and the proposals of a site homed in another data centre.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::rollouts::{Follow, PlanGroup};
use outfit_domain::diff::Difference;
use outfit_domain::model::{Model, ParameterChange, VersionInfo};
use outfit_domain::rollout::Rollout;

#[derive(Template)]
#[template(path = "models.html")]
struct ModelsPage {
    frame: Frame,
    models: Vec<(String, String, Option<i32>)>,
}

pub(crate) fn list(c: &Ctx<'_>) -> Result<Response, Shown> {
    let models = c.services.models(c.caller(), None)?;
    let models = models.into_iter().map(|m| (m.site, m.name, m.current.map(|(_, n)| n))).collect();
    page::ok(ModelsPage { frame: c.frame("models"), models })
}

#[derive(Template)]
#[template(path = "model.html")]
struct ModelPage {
    frame: Frame,
    model: Model,
    version: Option<i32>,
    history: Vec<VersionInfo>,
    /// What the current version changed from the one before it.
    changes: Vec<Difference>,
    rollouts: Vec<Rollout>,
    /// Edits made in another data centre than the site's home, newest first.
    proposals: Vec<outfit_app::federation::ProposalRow>,
    notice: Option<String>,
}

pub(crate) fn show(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, name) = (page::decoded(site), page::decoded(model));
    let s = c.services;
    let (model, version) = s.show_model(c.caller(), &site, &name, None)?;
    let mut history = s.model_history(c.caller(), &site, &name)?;
    history.reverse();
    let changes = match version {
        Some(v) => changed_by(c, &site, &name, v)?,
        None => Vec::new(),
    };
    let rollouts = s.rollouts(c.caller(), &site, Some(&name))?;
    let proposals = s.proposals(c.caller(), &site, Some(&name))?;
    let frame = c.frame("models");
    page::ok(ModelPage { frame, model, version, history, changes, rollouts, proposals, notice: c.notice() })
}

/// What version `version` changed from the one before it (nothing for the first).
fn changed_by(c: &Ctx<'_>, site: &str, model: &str, version: i32) -> Result<Vec<Difference>, Shown> {
    if version <= 1 {
        return Ok(Vec::new());
    }
    Ok(c.services.diff_model(c.caller(), site, model, version - 1, Some(version))?.1)
}

/// Where a model's pages live.
pub(crate) fn path(site: &str, model: &str) -> String {
    format!("/console/models/{}/{}", page::segment(site), page::segment(model))
}

#[derive(Debug, serde::Deserialize)]
struct ParameterForm {
    category: String,
    component: String,
    name: String,
    value: String,
    #[serde(default)]
    reason: String,
}

/// A new version with one parameter changed; then its dry run.
pub(crate) fn set_parameter(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, model) = (page::decoded(site), page::decoded(model));
    let form: ParameterForm = c.form()?;
    let change = ParameterChange {
        site: site.clone(),
        model: model.clone(),
        category: form.category,
        component: form.component,
        name: form.name,
        value: form.value,
    };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let changed = c.services.set_parameter(c.caller(), &change, reason, Follow::Nothing)?;
    let v = changed.imported.version;
    if let Some(proposal) = &changed.imported.proposed {
        let notice = format!(
            "Site {site} is homed in another data centre: the change went there as proposal {proposal}; \
             version {v} stays current here until the home accepts it."
        );
        return Ok(page::done(&path(&site, &model), &notice));
    }
    if !changed.imported.created {
        let notice = format!("{}.{} already has that value: version {v} stays current.", change.component, change.name);
        return Ok(page::done(&path(&site, &model), &notice));
    }
    Ok(page::see_other(&format!("{}/plan?version={v}", path(&site, &model))))
}

/// How many device names a dry run's group shows.
const NAMES_SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    frame: Frame,
    site: String,
    model: String,
    version: i32,
    changes: Vec<Difference>,
    groups: Vec<PlanGroup>,
    devices: usize,
    /// Devices whose plan is empty.
    unchanged: usize,
    /// How many device names a group shows.
    shown: usize,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PlanQuery {
    version: Option<i32>,
}

/// The dry run: the devices' commands toward a version, grouped by where
/// they start; changes nothing.
pub(crate) fn plan(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, model) = (page::decoded(site), page::decoded(model));
    let query: PlanQuery = c.query()?;
    let (version, groups) = c.services.plan_rollout(c.caller(), &site, &model, query.version)?;
    let changes = changed_by(c, &site, &model, version)?;
    let devices = groups.iter().map(|g| g.devices.len()).sum();
    let unchanged = groups.iter().filter(|g| g.commands.is_empty()).map(|g| g.devices.len()).sum();
    let shown = NAMES_SHOWN;
    page::ok(PlanPage { frame: c.frame("models"), site, model, version, changes, groups, devices, unchanged, shown })
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    frame: Frame,
    site: String,
    model: String,
    from: i32,
    to: i32,
    changes: Vec<Difference>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct DiffQuery {
    from: Option<i32>,
    to: Option<i32>,
}

/// What changed between two versions (`to` missing: the current one).
pub(crate) fn diff(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, model) = (page::decoded(site), page::decoded(model));
    let query: DiffQuery = c.query()?;
    let from = query.from.ok_or_else(|| Shown::invalid("say which version to compare from (`from=`)"))?;
    let (to, changes) = c.services.diff_model(c.caller(), &site, &model, from, query.to)?;
    page::ok(DiffPage { frame: c.frame("models"), site, model, from, to, changes })
}

#[derive(Debug, serde::Deserialize)]
struct RollbackForm {
    version: i32,
    #[serde(default)]
    reason: String,
}

/// A new version restoring an old one's content; then its dry run.
pub(crate) fn rollback(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, model) = (page::decoded(site), page::decoded(model));
    let form: RollbackForm = c.form()?;
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let changed = c.services.rollback_model(c.caller(), &site, &model, form.version, reason, Follow::Nothing)?;
    Ok(page::see_other(&format!("{}/plan?version={}", path(&site, &model), changed.imported.version)))
}
