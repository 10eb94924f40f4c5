//! Model, package and script-content operations: `SetParameter`,
//! `ImportModel`, `ListModels`, `ShowModel`, `ListPackages`, `ImportScript`.

use crate::soap::content::{role, role_spec, template_text};
use outfit_app::{Failure, Refusal, Services};
use outfit_domain::command::{FileAttributes, Payload};
use outfit_domain::model::{Model, ParameterChange};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator::{self as wire, SetParameter, SetParameterResponse};

pub fn set_parameter(s: &Services, caller: &Caller, m: SetParameter) -> Result<SetParameterResponse, Failure> {
    let change = ParameterChange {
        site: m.site,
        model: m.model,
        category: m.category,
        component: m.component,
        name: m.name,
        value: m.value,
    };
    let changed = s.set_parameter(caller, &change, m.reason.as_deref(), super::rollouts::follow(m.rollout))?;
    Ok(SetParameterResponse {
        model_version: changed.imported.version,
        created: changed.imported.created,
        rollout: changed.rollout.map(|id| id.0),
        proposal: changed.imported.proposed.as_ref().map(ToString::to_string),
    })
}

pub fn import(s: &Services, caller: &Caller, m: wire::ImportModel) -> Result<wire::ImportModelResponse, Failure> {
    let roles = m.role.into_iter().map(role).collect::<Result<Vec<_>, _>>();
    let roles = super::input(s, caller, "ImportModel", Some(&m.site), &m.name, roles)?;
    let model = Model { site: m.site, name: m.name, roles };
    let changed = s.import_uploaded_model(caller, model, m.reason.as_deref(), super::rollouts::follow(m.rollout))?;
    Ok(wire::ImportModelResponse {
        model_version: changed.imported.version,
        created: changed.imported.created,
        rollout: changed.rollout.map(|id| id.0),
        proposal: changed.imported.proposed.as_ref().map(ToString::to_string),
    })
}

pub fn list(s: &Services, caller: &Caller, m: wire::ListModels) -> Result<wire::ListModelsResponse, Failure> {
    let model = s
        .models(caller, m.site.as_deref())?
        .into_iter()
        .map(|x| wire::ModelInfo { site: x.site, name: x.name, current_version: x.current.map(|(_, v)| v) })
        .collect();
    Ok(wire::ListModelsResponse { model })
}

pub fn show(s: &Services, caller: &Caller, m: wire::ShowModel) -> Result<wire::ShowModelResponse, Failure> {
    let (model, version) = s.show_model(caller, &m.site, &m.model, m.version)?;
    Ok(wire::ShowModelResponse {
        site: model.site,
        name: model.name,
        version,
        role: model.roles.into_iter().map(role_spec).collect(),
    })
}

pub fn packages(s: &Services, caller: &Caller, _: wire::ListPackages) -> Result<wire::ListPackagesResponse, Failure> {
    let package =
        s.packages(caller)?.into_iter().map(|p| wire::PackageInfo { sha256: p.sha256, size: p.size }).collect();
    Ok(wire::ListPackagesResponse { package })
}

/// A script step as the contract carries it, as the domain's payload.
fn step(i: usize, x: wire::StepSpec) -> Result<Payload, Refusal> {
    let what = format!("step {}", i + 1);
    let need = |value: Option<String>, field: &str| {
        value.ok_or_else(|| Refusal::invalid(format!("{what}: a `{}` step needs `{field}`", x.kind)))
    };
    let parameters = || x.parameter.iter().map(|p| (p.name.clone(), p.value.clone())).collect();
    Ok(match x.kind.as_str() {
        "install" => {
            let package_name = need(x.package_name.clone(), "packageName")?;
            let sha256 = need(x.sha256.clone(), "sha256")?;
            Payload::Install {
                component: package_name.clone(),
                package_name,
                version: need(x.version.clone(), "version")?,
                format: need(x.format.clone(), "format")?,
                storage_key: sha256.clone(),
                sha256,
                size: 0,
                plugin: x.plugin.clone(),
            }
        }
        "configure" => Payload::Configure {
            component: need(x.component.clone(), "component")?,
            path: need(x.path.clone(), "path")?,
            template: template_text(&need(x.template.clone(), "template")?, &what)?,
            parameters: parameters(),
            attributes: FileAttributes { mode: x.mode.clone(), owner: x.owner.clone(), group: x.group.clone() },
            plugin: x.plugin.clone(),
        },
        "reboot" => Payload::Reboot,
        "network" => Payload::Network {
            interface: need(x.interface.clone(), "interface")?,
            address: x.address.clone(),
            gateway: x.gateway.clone(),
            dns: x.dns.clone(),
        },
        "service" => {
            Payload::Service { name: need(x.service.clone(), "service")?, action: need(x.action.clone(), "action")? }
        }
        other => {
            return Err(Refusal::invalid(format!(
                "{what}: `{other}` is not install, configure, reboot, network or service"
            )));
        }
    })
}

pub fn import_script(
    s: &Services,
    caller: &Caller,
    m: wire::ImportScript,
) -> Result<wire::ImportScriptResponse, Failure> {
    let steps = m.step.into_iter().enumerate().map(|(i, x)| step(i, x)).collect::<Result<Vec<_>, _>>();
    let steps = super::input(s, caller, "ImportScript", Some(&m.site), &m.name, steps)?;
    let description = m.description.unwrap_or_default();
    let imported = s.import_uploaded_script(caller, &m.site, &m.name, &description, steps)?;
    Ok(wire::ImportScriptResponse { created: imported.created, steps: imported.steps as i32 })
}
