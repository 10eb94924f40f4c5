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
            PluginError::Bundle(outfit_wsdl::bundle::BundleError::Pack(e)) => {
                Failure::internal(format!("pack the bundle: {e}"))
            }
            PluginError::NotStored(_) => Refusal::new(crate::RefusalKind::NotFound, e.to_string()).into(),
            other => Refusal::invalid(other.to_string()).into(),
        }
    }
}

impl Services {
    /// Stores a signed bundle directory (from `outfit-plugin sign`) in the
    /// repository and queues `install-plugin` on the targets; their agents
    /// verify it, switch to it and keep the old version. Needs `deploy` on
    /// every category.
    pub fn install_plugin(
        &self,
        caller: &Caller,
        site: &str,
        bundle: &Path,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<(Packed, Vec<Queued>), Failure> {
        self.deliver_plugin(caller, site, targets, expires_at, || Ok(plugin_bundle::pack(&self.repository, bundle)?))
    }

    /// [`Services::install_plugin`] for a bundle uploaded packed (its sha256).
    pub fn install_uploaded_plugin(
        &self,
        caller: &Caller,
        site: &str,
        sha256: &str,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<(Packed, Vec<Queued>), Failure> {
        self.deliver_plugin(caller, site, targets, expires_at, || Ok(plugin_bundle::stored(&self.repository, sha256)?))
    }

    fn deliver_plugin(
        &self,
        caller: &Caller,
        site: &str,
        targets: &Targets,
        expires_at: Option<i64>,
        bundle: impl FnOnce() -> Result<Packed, Failure>,
    ) -> Result<(Packed, Vec<Queued>), Failure> {
        let act = Act { action: "InstallPlugin", site: Some(site), object: targets.describe() };
        let (packed, queued) = self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let packed = bundle()?;
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
            outfit_domain::command::check_plugin_name(name).map_err(Refusal::invalid)?;
            let step = Payload::RollbackPlugin { name: name.to_owned() };
            let queued = self.enqueue_on(site, targets, &NewCommand::all(&[step], expires_at))?;
            let detail = format!("{} devices", queued.len());
            Ok((queued, detail))
        })?;
        Ok(self.poke_all(queued, 1))
    }
}
