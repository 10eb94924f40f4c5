//! Queue use cases: showing a device's commands, and an operator's retry,
//! skip and abort of a halted queue.

use crate::audit::{Act, authorise, exists};
use crate::{Failure, Poked, Refusal, Services};
use outfit_domain::ids::CommandId;
use outfit_domain::queue::QueuedCommand;
use outfit_domain::rights::{Action, Caller, Scope};

/// What an operator's action on a queue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The failed (or timed-out) command acted on.
    pub command: CommandId,
    pub poked: Option<Poked>,
}

impl Services {
    /// A device's commands in order, with their state and result.
    pub fn queue(&self, caller: &Caller, device: &str) -> Result<Vec<QueuedCommand>, Failure> {
        let site = self.site_of(device)?;
        authorise(caller, &site, Scope::SomeCategory, Action::Read)?;
        let found = self.storage.device(device)?.ok_or_else(|| Refusal::not_found("device", device))?;
        Ok(self.storage.commands(found.id)?)
    }

    /// Runs the failed (or timed-out) command of a halted queue again (same
    /// id, a new run), then goes on.
    pub fn retry(&self, caller: &Caller, device: &str) -> Result<Resolved, Failure> {
        self.resolve(caller, device, "Retry", |s, id| s.storage.retry_failed(id))
    }

    /// Closes the failed (or timed-out) command of a halted queue as skipped
    /// and goes on; the device will not count as matching its model.
    pub fn skip(&self, caller: &Caller, device: &str) -> Result<Resolved, Failure> {
        self.resolve(caller, device, "Skip", |s, id| s.storage.skip_failed(id))
    }

    fn resolve(
        &self,
        caller: &Caller,
        device: &str,
        action: &'static str,
        move_it: impl FnOnce(&Self, outfit_domain::ids::DeviceId) -> Result<CommandId, outfit_store::StorageError>,
    ) -> Result<Resolved, Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action, site: known.as_deref(), object: device.to_owned() };
        let (command, url) = self.audited(caller, act, || {
            let site = exists(known.as_deref(), device)?;
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
            let found = self.storage.device(device)?.ok_or_else(|| Refusal::not_found("device", device))?;
            let command = move_it(self, found.id)?;
            Ok(((command, found.poke_url), format!("command {command}")))
        })?;
        Ok(Resolved { command, poked: self.poke(device, url.as_deref()) })
    }

    /// Cancels every command of a device's queue not yet handed out, and a
    /// failed one. Returns how many closed.
    pub fn abort(&self, caller: &Caller, device: &str) -> Result<usize, Failure> {
        let known = self.storage.device_site(device)?;
        let act = Act { action: "Abort", site: known.as_deref(), object: device.to_owned() };
        self.audited(caller, act, || {
            let site = exists(known.as_deref(), device)?;
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
            let found = self.storage.device(device)?.ok_or_else(|| Refusal::not_found("device", device))?;
            let n = self.storage.abort_queue(found.id)?;
            Ok((n, format!("{n} commands aborted")))
        })
    }
}
