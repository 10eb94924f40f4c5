//! Model use cases: importing a model file and changing a parameter make new
//! immutable versions; reading what a version asks for.

use crate::audit::{Act, authorise};
use crate::model_file::{self, ModelError};
use crate::rollouts::Follow;
use crate::{Failure, Refusal, Services};
use outfit_domain::ids::{ModelVersionId, RolloutId};
use outfit_domain::model::{Authorship, DesiredComponent, ImportedModel, Model, ParameterChange};
use outfit_domain::rights::{Action, Caller, Scope};
use std::path::Path;

impl From<ModelError> for Failure {
    fn from(e: ModelError) -> Self {
        match e {
            // The file, a package or a template it names: the operator's to fix.
            ModelError::File(_) | ModelError::Invalid(_) => Refusal::invalid(e.to_string()).into(),
            ModelError::Repository(e) => e.into(),
        }
    }
}

/// A version made by `caller`, for `reason`.
pub(crate) fn authorship(caller: &Caller, reason: Option<&str>) -> Authorship {
    Authorship::new(caller.principal.name(), reason)
}

fn imported_detail(imported: &ImportedModel) -> String {
    if imported.created {
        format!("new version {}", imported.version)
    } else {
        format!("unchanged; current version {}", imported.version)
    }
}

/// A model change's outcome: the version, and the rollout that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub imported: ImportedModel,
    pub rollout: Option<RolloutId>,
}

impl Services {
    /// Makes a model version with `make` after authorising a rollout
    /// `follow` asks for, then begins that rollout: one audited action.
    pub(crate) fn change_model(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        follow: Follow,
        make: impl FnOnce() -> Result<ImportedModel, Failure>,
        describe: fn(&ImportedModel) -> String,
    ) -> Result<(Changed, String), Failure> {
        if follow != Follow::Nothing
            && let Ok(id) = self.storage.model(site, model)
        {
            self.may_follow(caller, site, id, follow)?;
        } else if follow != Follow::Nothing {
            authorise(caller, site, Scope::SomeCategory, Action::Deploy)?;
        }
        let imported = make()?;
        let created = imported.created.then_some(imported.model_version_id);
        let rollout = self.follow(caller, site, model, created, follow)?;
        let mut detail = match &imported.proposed {
            Some(proposal) => format!("proposed to the site's home as {proposal}"),
            None => describe(&imported),
        };
        if let Some(id) = rollout {
            detail.push_str(&format!("; rollout {id}"));
        }
        Ok((Changed { imported, rollout }, detail))
    }

    /// Imports a model file: its packages go into the repository and its
    /// content becomes a new model version, unless it equals the current one.
    /// Needs `change` on every role category the file names.
    pub fn import_model(&self, caller: &Caller, file: &Path, reason: Option<&str>) -> Result<ImportedModel, Failure> {
        let spec = model_file::parse(file)?;
        let site = spec.site.clone();
        let act = Act { action: "ImportModel", site: Some(&site), object: spec.name.clone() };
        self.audited(caller, act, || {
            for category in spec.categories() {
                authorise(caller, &site, Scope::Category(category), Action::Change)?;
            }
            let model = model_file::into_model(spec, file, &self.repository)?;
            let imported = self.storage.import_model(&model, &authorship(caller, reason))?;
            let detail = imported_detail(&imported);
            Ok((imported, detail))
        })
    }

    /// Stores a model whose packages are in the repository already (the bench).
    pub fn import_model_content(&self, caller: &Caller, model: &Model) -> Result<ImportedModel, Failure> {
        Ok(self.store_model(caller, model.clone(), None, Follow::Nothing, |_| Ok(()))?.imported)
    }

    /// Stores a model sent over the operator API: its packages were uploaded
    /// before and are named by sha256 (their sizes are the repository's).
    pub fn import_uploaded_model(
        &self,
        caller: &Caller,
        model: Model,
        reason: Option<&str>,
        follow: Follow,
    ) -> Result<Changed, Failure> {
        self.store_model(caller, model, reason, follow, |model| {
            for c in model.roles.iter_mut().flat_map(|r| r.components.iter_mut()) {
                let stored = self.uploaded(&c.package.sha256)?;
                (c.package.size, c.package.storage_key) = (stored.size, stored.sha256);
            }
            Ok(())
        })
    }

    /// A package the operator uploaded, by sha256.
    pub(crate) fn uploaded(&self, sha256: &str) -> Result<crate::repository::Stored, Failure> {
        self.repository.stored(sha256)?.ok_or_else(|| {
            Refusal::new(
                crate::RefusalKind::NotFound,
                format!("no package {sha256} in the repository; upload it first (`outfit package upload FILE`)"),
            )
            .into()
        })
    }

    fn store_model(
        &self,
        caller: &Caller,
        mut model: Model,
        reason: Option<&str>,
        follow: Follow,
        prepare: impl FnOnce(&mut Model) -> Result<(), Failure>,
    ) -> Result<Changed, Failure> {
        let (site, name) = (model.site.clone(), model.name.clone());
        let act = Act { action: "ImportModel", site: Some(&site), object: name.clone() };
        self.audited(caller, act, || {
            for role in &model.roles {
                authorise(caller, &site, Scope::Category(&role.category), Action::Change)?;
            }
            model.validate().map_err(Refusal::invalid)?;
            prepare(&mut model)?;
            let make = || Ok(self.storage.import_model(&model, &authorship(caller, reason))?);
            self.change_model(caller, &site, &name, follow, make, imported_detail)
        })
    }

    /// The models of the sites `caller` may read (of `site`, when given).
    pub fn models(&self, caller: &Caller, site: Option<&str>) -> Result<Vec<outfit_store::ModelSummary>, Failure> {
        let all = self.storage.models(site)?;
        Ok(all.into_iter().filter(|m| caller.principal.may(&m.site, Scope::SomeCategory, Action::Read)).collect())
    }

    /// A model's version `version` (`None`: its current one) as its content:
    /// the model, and its version number (`None`: it has none yet).
    pub fn show_model(
        &self,
        caller: &Caller,
        site: &str,
        name: &str,
        version: Option<i32>,
    ) -> Result<(Model, Option<i32>), Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        let summary = self.storage.models(Some(site))?.into_iter().find(|m| m.name == name);
        let summary = summary.ok_or_else(|| Refusal::not_found("model", name))?;
        let mut model = Model { site: site.to_owned(), name: name.to_owned(), roles: Vec::new() };
        let chosen = match version {
            Some(_) => Some(self.storage.model_version(site, name, version)?),
            None => summary.current,
        };
        let Some((id, version)) = chosen else { return Ok((model, None)) };
        model.roles = self.roles_of(id)?;
        Ok((model, Some(version)))
    }

    /// A version's roles with their components, by category rank.
    pub(crate) fn roles_of(&self, version: ModelVersionId) -> Result<Vec<outfit_domain::model::Role>, Failure> {
        let mut components = self.storage.desired_components(version)?;
        let mut roles = Vec::new();
        for (category, role) in self.storage.version_roles(version)? {
            let (mine, rest): (Vec<_>, Vec<_>) = components.into_iter().partition(|d| d.category == category);
            components = rest;
            let components = mine.into_iter().map(|d| d.component).collect();
            roles.push(outfit_domain::model::Role { category, name: role, components });
        }
        Ok(roles)
    }

    /// Sets one parameter of a component in a model's role: a new role version
    /// and a new current model version (the old ones stay). Setting the value
    /// it has adds nothing. Needs `change` on the role's category.
    pub fn set_parameter(
        &self,
        caller: &Caller,
        change: &ParameterChange,
        reason: Option<&str>,
        follow: Follow,
    ) -> Result<Changed, Failure> {
        let object = format!("{}/{} {}.{}", change.model, change.category, change.component, change.name);
        let act = Act { action: "SetParameter", site: Some(&change.site), object };
        self.audited(caller, act, || {
            authorise(caller, &change.site, Scope::Category(&change.category), Action::Change)?;
            let make = || Ok(self.storage.set_parameter(change, &authorship(caller, reason))?);
            self.change_model(caller, &change.site, &change.model, follow, make, |imported| {
                if imported.created { format!("model version {}", imported.version) } else { "unchanged".to_owned() }
            })
        })
    }

    /// The components `version` (of a model of `site`) asks for, in
    /// provisioning order.
    pub fn desired_components(
        &self,
        caller: &Caller,
        site: &str,
        version: ModelVersionId,
    ) -> Result<Vec<DesiredComponent>, Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        Ok(self.storage.desired_components(version)?)
    }
}
