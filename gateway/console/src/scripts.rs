//! Scripts (named command sequences of a site) and running one on devices;
//! the package repository, each package with the components that use it.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::provisioning::Targets;
use outfit_app::scripts::ScriptSummary;

#[derive(Template)]
#[template(path = "scripts.html")]
struct ScriptsPage {
    frame: Frame,
    scripts: Vec<ScriptSummary>,
    notice: Option<String>,
}

pub(crate) fn list(c: &Ctx<'_>) -> Result<Response, Shown> {
    let scripts = c.services.scripts(c.caller())?;
    page::ok(ScriptsPage { frame: c.frame("scripts"), scripts, notice: c.notice() })
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct RunForm {
    site: String,
    script: String,
    /// Device names, separated by spaces or commas.
    devices: String,
    /// Or every device of this model.
    model: String,
}

/// Queues a script's steps on devices (or a model's devices) and pokes them.
pub(crate) fn run(c: &Ctx<'_>) -> Result<Response, Shown> {
    let form: RunForm = c.form()?;
    let devices: Vec<String> =
        form.devices.split([',', ' ', '\n']).map(str::trim).filter(|d| !d.is_empty()).map(str::to_owned).collect();
    let model = Some(form.model.trim()).filter(|m| !m.is_empty());
    let targets = Targets::of(&devices, model).map_err(|r| Shown::invalid(r.message))?;
    let queued = c.services.run_script(c.caller(), &form.site, &form.script, &targets, None)?;
    let notice = format!("Script {} queued on {} devices.", form.script, queued.len());
    Ok(page::done("/console/scripts", &notice))
}

/// A package of the repository and what uses it in the models' current versions.
struct PackageRow {
    sha256: String,
    size: i64,
    used_by: Vec<String>,
}

#[derive(Template)]
#[template(path = "packages.html")]
struct PackagesPage {
    frame: Frame,
    packages: Vec<PackageRow>,
}

pub(crate) fn packages(c: &Ctx<'_>) -> Result<Response, Shown> {
    let stored = c.services.packages(c.caller())?;
    let mut users: std::collections::HashMap<String, Vec<String>> = Default::default();
    for summary in c.services.models(c.caller(), None)? {
        let (model, _) = c.services.show_model(c.caller(), &summary.site, &summary.name, None)?;
        for role in &model.roles {
            for component in &role.components {
                let p = &component.package;
                let user = format!("{}/{} {}: {} {}", model.site, model.name, component.name, p.name, p.version);
                users.entry(p.sha256.clone()).or_default().push(user);
            }
        }
    }
    let packages = stored
        .into_iter()
        .map(|s| PackageRow { used_by: users.remove(&s.sha256).unwrap_or_default(), sha256: s.sha256, size: s.size })
        .collect();
    page::ok(PackagesPage { frame: c.frame("packages"), packages })
}
