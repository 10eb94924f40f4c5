//! Plug-in use cases: delivering a signed bundle through the queue, and
//! switching a plug-in back to the version before.

use crate::audit::{Act, authorise};
use crate::plugin_bundle::{self, Packed, PluginError};
use crate::provisioning::{Queued, Targets};
use crate::{Failure, Refusal, Services};
use outfit_domain::command::Payload;
use outfit_domain::queue::NewCommand;
use outfit_domain::rights::{Action, Caller, Scope};
use std::path::Path;

impl From<PluginError> for Failure {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::Repository(e) => e.into(),
            PluginError::Pack(e) => Failure::internal(format!("pack the bundle: {e}")),
            other => Refusal::invalid(other.to_string()).into(),
        }
    }
}

impl Services {
    /// Stores a signed bundle (from `outfit-plugin sign`) in the repository and
    /// queues `install-plugin` on the targets; their agents verify it, switch
    /// to it and keep the old version. Needs `deploy` on every category.
    pub fn install_plugin(
        &self,
        caller: &Caller,
        site: &str,
        bundle: &Path,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<(Packed, Vec<Queued>), Failure> {
        let act = Act { action: "InstallPlugin", site: Some(site), object: targets.describe() };
        let (packed, queued) = self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let packed = plugin_bundle::pack(&self.repository, bundle)?;
            let queued = self.enqueue_on(site, targets, &NewCommand::all(&[packed.payload()], expires_at))?;
            let detail = format!("{} {} ({})", packed.name, packed.version, packed.sha256);
            Ok(((packed, queued), detail))
        })?;
        Ok((packed, self.poke_all(queued, 1)))
    }

    /// Queues `rollback-plugin NAME` on the targets: their agents switch the
    /// plug-in back to the version it replaced.
    pub fn rollback_plugin(
        &self,
        caller: &Caller,
        site: &str,
        name: &str,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<Vec<Queued>, Failure> {
        let act =
            Act { action: "RollbackPlugin", site: Some(site), object: format!("{name} on {}", targets.describe()) };
        let queued = self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            plugin_bundle::check_name(name)?;
            let step = Payload::RollbackPlugin { name: name.to_owned() };
            let queued = self.enqueue_on(site, targets, &NewCommand::all(&[step], expires_at))?;
            let detail = format!("{} devices", queued.len());
            Ok((queued, detail))
        })?;
        Ok(self.poke_all(queued, 1))
    }
}
