//! Script and plug-in operations: `ListScripts`, `RunScript`,
//! `InstallPlugin`, `RollbackPlugin`.

use super::queue::queued;
use super::{deadline, input};
use outfit_app::provisioning::Targets;
use outfit_app::{Failure, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator as wire;

pub fn list(s: &Services, caller: &Caller, _: wire::ListScripts) -> Result<wire::ListScriptsResponse, Failure> {
    let script = s
        .scripts(caller)?
        .into_iter()
        .map(|x| wire::ScriptInfo { site: x.site, name: x.name, description: x.description, steps: x.steps as i32 })
        .collect();
    Ok(wire::ListScriptsResponse { script })
}

/// The targets of a request, or its audited refusal.
pub fn targets(
    s: &Services,
    caller: &Caller,
    action: &str,
    site: &str,
    devices: &[String],
    model: Option<&str>,
) -> Result<Targets, Failure> {
    let object = super::targets_object(devices, model);
    input(s, caller, action, Some(site), &object, Targets::of(devices, model))
}

pub fn run(s: &Services, caller: &Caller, m: wire::RunScript) -> Result<wire::RunScriptResponse, Failure> {
    let targets = targets(s, caller, "RunScript", &m.site, &m.device, m.model.as_deref())?;
    let all = s.run_script(caller, &m.site, &m.script, &targets, deadline(m.expires_in))?;
    Ok(wire::RunScriptResponse { queued: all.iter().map(queued).collect() })
}

pub fn rollback_plugin(
    s: &Services,
    caller: &Caller,
    m: wire::RollbackPlugin,
) -> Result<wire::RollbackPluginResponse, Failure> {
    let targets = targets(s, caller, "RollbackPlugin", &m.site, &m.device, m.model.as_deref())?;
    let all = s.rollback_plugin(caller, &m.site, &m.plugin, &targets, deadline(m.expires_in))?;
    Ok(wire::RollbackPluginResponse { queued: all.iter().map(queued).collect() })
}

pub fn install_plugin(
    s: &Services,
    caller: &Caller,
    m: wire::InstallPlugin,
) -> Result<wire::InstallPluginResponse, Failure> {
    let targets = targets(s, caller, "InstallPlugin", &m.site, &m.device, m.model.as_deref())?;
    let (packed, all) = s.install_uploaded_plugin(caller, &m.site, &m.sha256, &targets, deadline(m.expires_in))?;
    Ok(wire::InstallPluginResponse {
        name: packed.name,
        version: packed.version,
        queued: all.iter().map(queued).collect(),
    })
}
