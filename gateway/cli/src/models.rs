//! `outfit model …` and `outfit category …`: models, their versions and
//! history, and the role categories.

use crate::args::{CategoryCmd, ChangeArgs, ModelCmd};
use crate::client::Client;
use crate::failure::{CliError, Exit};
use crate::output::{or_dash, show, table};
use crate::rollouts::policy;
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};
use std::path::{Path, PathBuf};

/// The rollout a change asks for, as the contract carries it.
pub(crate) fn rollout(change: &ChangeArgs) -> Option<wire::RolloutPolicy> {
    match change.rollout.as_str() {
        "none" => None,
        start => Some(wire::RolloutPolicy { start: start == "start", ..policy(&change.policy) }),
    }
}

/// What a change made, for people: `made` when a version was made, `kept` when not.
pub(crate) fn changed(
    created: bool,
    version: i32,
    rollout: Option<i64>,
    proposal: Option<&str>,
    made: &str,
    kept: &str,
) {
    if let Some(proposal) = proposal {
        println!("proposed to the site's home data centre as {proposal}; model version {version} stays current here");
        println!("(`outfit model proposals SITE MODEL` shows whether the home accepted it)");
        return;
    }
    let what = if created { made } else { kept };
    match rollout {
        Some(id) => println!("{what} {version}; rollout {id} (`outfit rollout show {id}`)"),
        None => println!("{what} {version}"),
    }
}

pub(crate) const MADE: &str = "new model version";
pub(crate) const KEPT: &str = "unchanged; model version";

pub fn model(client: &Client, command: ModelCmd, json: bool) -> Result<(), CliError> {
    match command {
        ModelCmd::SetParameter { site, model, category, component, assignment, change } => {
            let (name, value) = assignment.split_once('=').ok_or_else(|| {
                CliError::new(Exit::Usage, format!("`{assignment}` is not NAME=VALUE")).help("e.g. greeting=hello")
            })?;
            let request = wire::SetParameter {
                site,
                model,
                category,
                component,
                name: name.to_owned(),
                value: value.to_owned(),
                reason: change.reason.clone(),
                rollout: rollout(&change),
            };
            let r = call!(client, SetParameter(request));
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, r.proposal.as_deref(), MADE, KEPT));
        }
        ModelCmd::Import { file, change } => {
            let request = wire::ImportModel {
                reason: change.reason.clone(),
                rollout: rollout(&change),
                ..crate::content::model(client, &file)?
            };
            let r = call!(client, ImportModel(request));
            let (made, kept) = (
                format!("model {}: new version", file.display()),
                format!("model {}: unchanged; current version", file.display()),
            );
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, r.proposal.as_deref(), &made, &kept));
        }
        ModelCmd::List { site } => {
            let r = call!(client, ListModels(wire::ListModels { site }));
            show(json, &r, |r| {
                let rows = r.model.iter().map(|m| vec![m.site.clone(), m.name.clone(), or_dash(&m.current_version)]);
                table(&["site", "model", "version"], rows);
            });
        }
        ModelCmd::Show { model, site, version } => {
            let r = call!(client, ShowModel(wire::ShowModel { site, model, version }));
            show(json, &r, |r| {
                println!("model {}/{} version {}", r.site, r.name, or_dash(&r.version));
                let rows = r.role.iter().flat_map(|role| {
                    role.component.iter().map(move |c| {
                        let config = c.config.as_ref().map(|f| f.path.clone());
                        vec![
                            role.category.clone(),
                            role.name.clone(),
                            c.name.clone(),
                            c.package_name.clone(),
                            c.version.clone(),
                            c.format.clone(),
                            or_dash(&config),
                        ]
                    })
                });
                table(&["category", "role", "component", "package", "version", "format", "config"], rows);
            });
        }
        ModelCmd::Export { model, site, version, out } => {
            let r = call!(client, ShowModel(wire::ShowModel { site, model, version }));
            let written = export(&r, &out)?;
            show(json, &serde_json::json!({ "file": written, "version": r.version }), |_| {
                println!(
                    "model {}/{} version {} written to {}",
                    r.site,
                    r.name,
                    or_dash(&r.version),
                    written.display()
                );
            });
        }
        ModelCmd::History { model, site } => {
            let r = call!(client, ListModelVersions(wire::ListModelVersions { site, model }));
            show(json, &r, |r| {
                let rows = r.version.iter().map(|v| {
                    let mut reason = v.reason.clone().unwrap_or_default();
                    if let Some(old) = v.restores {
                        reason = format!("restores {old}. {reason}").trim_end_matches(". ").to_owned();
                    }
                    vec![
                        format!("{}{}", v.version, if v.current { " *" } else { "" }),
                        v.created_at.clone(),
                        or_dash(&v.author),
                        reason,
                    ]
                });
                table(&["version", "made", "by", "reason"], rows);
            });
        }
        ModelCmd::Proposals { model, site } => {
            let r = call!(client, ListProposals(wire::ListProposals { site, model }));
            show(json, &r, |r| {
                if r.proposal.is_empty() {
                    println!("no proposals: every edit of these models was made at the site's home");
                }
                let rows = r.proposal.iter().map(|p| {
                    let outcome = match (&p.version, &p.decision) {
                        (Some(v), _) => format!("{} as version {v}", p.state),
                        (None, Some(why)) => format!("{}: {why}", p.state),
                        (None, None) => p.state.clone(),
                    };
                    vec![
                        format!("{}#{}", p.origin, p.seq),
                        p.model.clone(),
                        p.base_version.map_or("-".into(), |v| v.to_string()),
                        p.author.clone(),
                        or_dash(&p.reason),
                        outcome,
                    ]
                });
                table(&["proposal", "model", "from", "by", "reason", "outcome"], rows);
            });
        }
        ModelCmd::Diff { model, site, from, to } => {
            let r = call!(client, DiffModel(wire::DiffModel { site, model, from, to }));
            show(json, &r, |r| {
                println!("from version {} to version {}", r.from, r.to);
                if r.difference.is_empty() {
                    println!("no differences");
                }
                for d in &r.difference {
                    let what = match d.kind.as_str() {
                        "parameter" => format!("parameter {}", d.name.as_deref().unwrap_or("")),
                        kind => kind.to_owned(),
                    };
                    let change = match (&d.before, &d.after) {
                        (Some(b), Some(a)) => format!(": {b} -> {a}"),
                        (None, Some(a)) => format!(": {a}"),
                        (Some(b), None) => format!(": was {b}"),
                        (None, None) => String::new(),
                    };
                    println!("{}/{} {what}{change}", d.category, d.component);
                    if let Some(text) = &d.text_diff {
                        println!("{text}");
                    }
                }
            });
        }
        ModelCmd::Rollback { model, site, version, change } => {
            let request =
                wire::RollbackModel { site, model, version, reason: change.reason.clone(), rollout: rollout(&change) };
            let r = call!(client, RollbackModel(request));
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, r.proposal.as_deref(), MADE, KEPT));
        }
    }
    Ok(())
}

/// Writes a model as `out/model.toml` and `out/templates/CATEGORY-COMPONENT.j2`.
fn export(model: &wire::ShowModelResponse, out: &Path) -> Result<PathBuf, CliError> {
    use outfit_files::model::{ComponentSpec, ConfigSpec, ModelFile, RoleSpec};
    let failed = |e: std::io::Error| CliError::new(Exit::Usage, format!("cannot write into {}: {e}", out.display()));
    if out.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(CliError::new(Exit::Usage, format!("{} is not empty", out.display()))
            .help("name a directory that does not exist yet, or an empty one"));
    }
    std::fs::create_dir_all(out.join("templates")).map_err(failed)?;
    let mut roles = Vec::with_capacity(model.role.len());
    for r in &model.role {
        let mut components = Vec::with_capacity(r.component.len());
        for c in &r.component {
            let config = match &c.config {
                Some(f) => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD.decode(f.template.trim()).map_err(|e| {
                        CliError::new(Exit::Internal, format!("the gateway sent a template that is not base64: {e}"))
                    })?;
                    let template = PathBuf::from("templates").join(format!("{}-{}.j2", r.category, c.name));
                    std::fs::write(out.join(&template), bytes).map_err(failed)?;
                    Some(ConfigSpec {
                        path: f.path.clone(),
                        template,
                        mode: f.mode.clone(),
                        owner: f.owner.clone(),
                        group: f.group.clone(),
                    })
                }
                None => None,
            };
            components.push(ComponentSpec {
                name: c.name.clone(),
                package: None,
                package_name: c.package_name.clone(),
                version: c.version.clone(),
                format: c.format.clone(),
                sha256: Some(c.sha256.clone()),
                config,
                plugin: c.plugin.clone(),
                parameters: c.parameter.iter().map(|p| (p.name.clone(), p.value.clone())).collect(),
            });
        }
        roles.push(RoleSpec { category: r.category.clone(), name: r.name.clone(), components });
    }
    let file = out.join("model.toml");
    let spec = ModelFile { site: model.site.clone(), name: model.name.clone(), roles };
    std::fs::write(&file, spec.to_toml()).map_err(failed)?;
    Ok(file)
}

pub fn category(client: &Client, command: CategoryCmd, json: bool) -> Result<(), CliError> {
    match command {
        CategoryCmd::List => {
            let r = call!(client, ListCategories(wire::ListCategories {}));
            show(json, &r, |r| {
                let rows = r.category.iter().map(|c| vec![c.rank.to_string(), c.name.clone(), or_dash(&c.description)]);
                table(&["rank", "category", "description"], rows);
            });
        }
        CategoryCmd::Add { name, after, description } => {
            let r = call!(client, AddCategory(wire::AddCategory { name: name.clone(), after, description }));
            show(json, &r, |r| println!("category {name}: rank {}", r.rank));
        }
    }
    Ok(())
}
