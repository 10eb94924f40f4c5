//! `outfit model …` and `outfit category …`: models, their versions and
//! history, and the role categories.

use crate::args::{CategoryCmd, ChangeArgs, ModelCmd};
use crate::client::Client;
use crate::failure::{CliError, Exit};
use crate::output::{or_dash, show, table};
use crate::rollouts::policy;
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};

/// The rollout a change asks for, as the contract carries it.
pub(crate) fn rollout(change: &ChangeArgs) -> Option<wire::RolloutPolicy> {
    match change.rollout.as_str() {
        "none" => None,
        start => Some(wire::RolloutPolicy { start: start == "start", ..policy(&change.policy) }),
    }
}

/// What a change made, for people: `made` when a version was made, `kept` when not.
pub(crate) fn changed(created: bool, version: i32, rollout: Option<i64>, made: &str, kept: &str) {
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
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, MADE, KEPT));
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
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, &made, &kept));
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
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, MADE, KEPT));
        }
    }
    Ok(())
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
