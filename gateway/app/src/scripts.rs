//! Script use cases: predefined scripts (named command sequences of a site)
//! imported from files, listed, and run on devices.

use crate::audit::{Act, authorise};
use crate::provisioning::{Queued, Targets};
use crate::script_file::{self, Script, ScriptError};
use crate::{Failure, Refusal, Services};
use outfit_domain::rights::{Action, Caller, Scope};
pub use outfit_store::ScriptSummary;
use std::path::Path;

impl From<ScriptError> for Failure {
    fn from(e: ScriptError) -> Self {
        match e {
            ScriptError::Repository(e) => e.into(),
            other => Refusal::invalid(other.to_string()).into(),
        }
    }
}

/// A script as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedScript {
    pub site: String,
    pub name: String,
    pub steps: usize,
    /// False when a script of that name was replaced.
    pub created: bool,
}

impl Services {
    /// Imports a script file; a script of the same site and name gets the new
    /// steps. Needs `change` on every category of the script's site (a
    /// script may touch anything).
    pub fn import_script(&self, caller: &Caller, file: &Path) -> Result<ImportedScript, Failure> {
        let (site, name) = script_file::site_of(file)?;
        let act = Act { action: "ImportScript", site: Some(&site), object: name.clone() };
        self.audited(caller, act, || {
            authorise(caller, &site, Scope::EveryCategory, Action::Change)?;
            let script = script_file::read_script(&self.repository, file)?;
            self.store_script(&script)
        })
    }

    /// Stores a script whose packages are in the repository already (the bench).
    pub fn save_script(&self, caller: &Caller, script: &Script) -> Result<ImportedScript, Failure> {
        let act = Act { action: "ImportScript", site: Some(&script.site), object: script.name.clone() };
        self.audited(caller, act, || {
            authorise(caller, &script.site, Scope::EveryCategory, Action::Change)?;
            self.store_script(script)
        })
    }

    /// Stores a script sent over the operator API: each step checked, and
    /// the packages its install steps name uploaded before (by sha256).
    pub fn import_uploaded_script(
        &self,
        caller: &Caller,
        site: &str,
        name: &str,
        description: &str,
        mut steps: Vec<outfit_domain::command::Payload>,
    ) -> Result<ImportedScript, Failure> {
        let act = Act { action: "ImportScript", site: Some(site), object: name.to_owned() };
        self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Change)?;
            if steps.is_empty() {
                return Err(Refusal::invalid("a script needs steps").into());
            }
            for (i, step) in steps.iter_mut().enumerate() {
                step.validate().map_err(|message| Refusal::invalid(format!("step {}: {message}", i + 1)))?;
                if let outfit_domain::command::Payload::Install { sha256, size, storage_key, .. } = step {
                    let stored = self.uploaded(sha256)?;
                    (*size, *storage_key) = (stored.size, stored.sha256);
                }
            }
            let steps = outfit_domain::queue::NewCommand::all(&steps, None);
            let script =
                Script { site: site.to_owned(), name: name.to_owned(), description: description.to_owned(), steps };
            self.store_script(&script)
        })
    }

    fn store_script(&self, script: &Script) -> Result<(ImportedScript, String), Failure> {
        let created = self.storage.save_script(&script.site, &script.name, &script.description, &script.steps)?;
        let steps = script.steps.len();
        let detail = format!("{} with {steps} steps", if created { "new" } else { "replaced" });
        let imported = ImportedScript { site: script.site.clone(), name: script.name.clone(), steps, created };
        Ok((imported, detail))
    }

    /// The stored scripts of the sites `caller` may read.
    pub fn scripts(&self, caller: &Caller) -> Result<Vec<ScriptSummary>, Failure> {
        let all = self.storage.scripts()?;
        Ok(all.into_iter().filter(|s| caller.principal.may(&s.site, Scope::SomeCategory, Action::Read)).collect())
    }

    /// Appends a script's steps to the queues of the targets (all or none)
    /// and pokes their agents. Needs `deploy` on every category of the site.
    pub fn run_script(
        &self,
        caller: &Caller,
        site: &str,
        name: &str,
        targets: &Targets,
        expires_at: Option<i64>,
    ) -> Result<Vec<Queued>, Failure> {
        let act = Act { action: "RunScript", site: Some(site), object: format!("{name} on {}", targets.describe()) };
        let (queued, steps) = self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let mut steps = self.storage.script_steps(site, name)?.ok_or_else(|| {
                Refusal::new(
                    crate::RefusalKind::NotFound,
                    format!("no script named `{name}` in site `{site}`; import it with `outfit script import FILE`"),
                )
            })?;
            for step in &mut steps {
                step.expires_at = expires_at;
            }
            let queued = self.enqueue_on(site, targets, &steps)?;
            let detail = format!("{} commands queued on {} devices", steps.len(), queued.len());
            Ok(((queued, steps.len()), detail))
        })?;
        Ok(self.poke_all(queued, steps))
    }
}
