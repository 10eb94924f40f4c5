//! The local administrator's way in: `outfit-gateway` subcommands run on the
//! gateway host, against its directory, through the same use cases as every
//! operator (authorised as the local administrator, audited as `local:USER`
//! from `cli`). What they print lives here; `main.rs` only parses.

use crate::home::Home;
use crate::poke::Pokes;
use crate::server::Gateway;
use outfit_app::provisioning::Queued;
use outfit_app::{Poked, Services};
use outfit_domain::device::{Device, DeviceAgent};
use outfit_domain::rights::{Caller, Principal};
use outfit_domain::serving::Agent;
use std::path::PathBuf;
use std::sync::Arc;

/// The gateway of `dir`, its use cases waiting for each poke's answer (so it
/// can be reported), and the local administrator as the caller.
pub fn open(dir: PathBuf) -> anyhow::Result<(Gateway, Services, Caller)> {
    let gateway = Gateway::open(Home::new(dir))?;
    let pokes = Pokes::waiting(gateway.home.clone(), gateway.settings.name.clone());
    let services = gateway.services.clone().with_notify(Arc::new(pokes));
    Ok((gateway, services, local_administrator()))
}

/// Who runs this command: the user on this machine.
pub fn local_administrator() -> Caller {
    let user = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
    Caller { principal: Principal::LocalAdministrator { user }, from: "cli".into() }
}

/// A password nobody will type (256 random bits), for an operator who signs
/// in with a certificate.
pub fn unguessable_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("failed to draw random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What happened to a device's agent after its queue changed.
pub fn report_poke(device: &str, poked: &Option<Poked>) {
    match poked {
        None => println!("{device}: agent has not said Hello yet; it will find the queue when it does"),
        Some(Poked::Answered | Poked::Sent) => println!("{device}: poked"),
        Some(Poked::Failed(why)) => println!("{device}: poke failed ({why}); the agent will poll"),
    }
}

/// One line per device a sequence was queued for, and its poke.
pub fn report_queued(queued: &[Queued], what: &str) {
    for q in queued {
        println!("{}: queued {what}", q.device);
        report_poke(&q.device, &q.poked);
    }
}

/// `device show`: one `key: value` line each, plug-ins one per line.
pub fn show_device(device: &Device, agent: &DeviceAgent) -> String {
    let version =
        |v: Option<outfit_domain::ids::ModelVersionId>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
    let mut out = format!(
        "device: {}\ndesired model version: {}\napplied model version: {}\n",
        device.name,
        version(device.desired),
        version(device.applied)
    );
    match &agent.agent {
        Agent::Unseen => out.push_str("agent: has not said Hello yet\n"),
        Agent::Unreported { version } => {
            out.push_str(&format!("agent: {version} (too old to report its plug-ins)\n"));
        }
        Agent::Reported(report) => {
            out.push_str(&format!(
                "agent: {}\nplatform: {}\n",
                agent.agent_version.as_deref().unwrap_or("?"),
                report.platform
            ));
            if let Some(target) = &report.precompiled_only {
                out.push_str(&format!("runs only precompiled plug-ins for: {target}\n"));
            }
            for p in &report.plugins {
                out.push_str(&format!("plugin: {} {} {} [{}]\n", p.name, p.version, p.world, p.serves()));
            }
        }
    }
    out
}
