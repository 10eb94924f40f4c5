//! Queue operations: `Provision`, `ProvisionMany`, `ShowQueue`, `Retry`,
//! `Skip`, `Abort`, `Reboot`.

use super::{deadline, input};
use outfit_app::provisioning::{Queued, Targets};
use outfit_app::{Failure, Poked, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator as wire;

/// How a poke went, in the contract's words.
pub fn poked(poked: &Option<Poked>) -> String {
    match poked {
        None => "waiting".into(),
        Some(Poked::Sent) => "sent".into(),
        Some(Poked::Failed(why)) => format!("failed: {why}"),
    }
}

pub fn queued(q: &Queued) -> wire::Queued {
    wire::Queued { device: q.device.clone(), commands: q.commands as i32, poked: poked(&q.poked) }
}

pub fn provision(s: &Services, caller: &Caller, m: wire::Provision) -> Result<wire::ProvisionResponse, Failure> {
    let q = s.provision(caller, Some(&m.site), &m.device, None)?;
    Ok(wire::ProvisionResponse { commands: q.commands as i32 })
}

pub fn provision_many(
    s: &Services,
    caller: &Caller,
    m: wire::ProvisionMany,
) -> Result<wire::ProvisionManyResponse, Failure> {
    let object = super::targets_object(&m.device, m.model.as_deref());
    let targets =
        input(s, caller, "Provision", m.site.as_deref(), &object, Targets::of(&m.device, m.model.as_deref()))?;
    let all = s.provision_many(caller, m.site.as_deref(), &targets, deadline(m.expires_in))?;
    Ok(wire::ProvisionManyResponse { queued: all.iter().map(queued).collect() })
}

pub fn show(s: &Services, caller: &Caller, m: wire::ShowQueue) -> Result<wire::ShowQueueResponse, Failure> {
    let commands = s.queue(caller, &m.device)?;
    let command = commands
        .into_iter()
        .map(|c| wire::QueuedCommand {
            id: c.id.to_string(),
            sequence: c.sequence,
            kind: c.kind,
            state: c.state.as_str().to_owned(),
            attempts: c.attempts,
            run: c.run,
            result: c.result,
        })
        .collect();
    Ok(wire::ShowQueueResponse { command })
}

pub fn retry(s: &Services, caller: &Caller, m: wire::Retry) -> Result<wire::RetryResponse, Failure> {
    Ok(wire::RetryResponse { command: s.retry(caller, &m.device)?.command.to_string() })
}

pub fn skip(s: &Services, caller: &Caller, m: wire::Skip) -> Result<wire::SkipResponse, Failure> {
    Ok(wire::SkipResponse { command: s.skip(caller, &m.device)?.command.to_string() })
}

pub fn abort(s: &Services, caller: &Caller, m: wire::Abort) -> Result<wire::AbortResponse, Failure> {
    Ok(wire::AbortResponse { aborted: s.abort(caller, &m.device)? as i32 })
}

pub fn reboot(s: &Services, caller: &Caller, m: wire::Reboot) -> Result<wire::RebootResponse, Failure> {
    let q = s.reboot(caller, &m.device, deadline(m.expires_in))?;
    Ok(wire::RebootResponse { queued: queued(&q) })
}
