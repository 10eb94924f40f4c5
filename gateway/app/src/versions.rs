//! A model's history: its versions, the differences between any two, and
//! rollback (a new version restoring an old one's content); the role
//! categories and their ranks.

use crate::audit::{Act, authorise, authorise_everywhere};
use crate::models::{Changed, authorship};
use crate::rollouts::Follow;
use crate::{Failure, Refusal, Services};
use outfit_domain::diff::{self, Difference};
use outfit_domain::model::{Category, VersionInfo, check_category_name};
use outfit_domain::rights::{Action, Caller, Scope};

impl Services {
    /// Every version of a model, oldest first.
    pub fn model_history(&self, caller: &Caller, site: &str, model: &str) -> Result<Vec<VersionInfo>, Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        Ok(self.storage.model_versions(site, model)?)
    }

    /// What changed from version `from` to version `to` (`None`: the current one).
    pub fn diff_model(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        from: i32,
        to: Option<i32>,
    ) -> Result<(i32, Vec<Difference>), Failure> {
        authorise(caller, site, Scope::SomeCategory, Action::Read)?;
        let (a, _) = self.storage.model_version(site, model, Some(from))?;
        let (b, to) = self.storage.model_version(site, model, to)?;
        Ok((to, diff::between(&self.storage.desired_components(a)?, &self.storage.desired_components(b)?)))
    }

    /// Makes version `version`'s content current again, as a new version that
    /// says it restores it. Needs `change` on every category either version
    /// has (a rollback changes them all back).
    pub fn rollback_model(
        &self,
        caller: &Caller,
        site: &str,
        model: &str,
        version: i32,
        reason: Option<&str>,
        follow: Follow,
    ) -> Result<Changed, Failure> {
        let act = Act { action: "RollbackModel", site: Some(site), object: format!("{model} to version {version}") };
        self.audited(caller, act, || {
            authorise(caller, site, Scope::SomeCategory, Action::Change)?;
            let (old, _) = self.storage.model_version(site, model, Some(version))?;
            let mut categories: Vec<String> = self.storage.version_roles(old)?.into_iter().map(|(c, _)| c).collect();
            if let Ok((current, _)) = self.storage.model_version(site, model, None) {
                categories.extend(self.storage.version_roles(current)?.into_iter().map(|(c, _)| c));
            }
            for category in &categories {
                authorise(caller, site, Scope::Category(category), Action::Change)?;
            }
            let make = || Ok(self.storage.rollback_model(site, model, version, &authorship(caller, reason))?);
            self.change_model(caller, site, model, follow, make, |imported| {
                if imported.created {
                    format!("new version {} restores an earlier one", imported.version)
                } else {
                    format!("version {} holds that content already; nothing added", imported.version)
                }
            })
        })
    }

    /// The role categories, by rank (install order). Any operator may read them.
    pub fn categories(&self, _caller: &Caller) -> Result<Vec<Category>, Failure> {
        Ok(self.storage.categories()?)
    }

    /// Adds a role category ranked right after `after` (`None`: last). Its
    /// rights are granted like any category's. Needs `admin` everywhere.
    pub fn add_category(
        &self,
        caller: &Caller,
        name: &str,
        after: Option<&str>,
        description: Option<&str>,
    ) -> Result<Category, Failure> {
        let act = Act { action: "AddCategory", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            authorise_everywhere(caller, Action::Admin)?;
            check_category_name(name).map_err(Refusal::invalid)?;
            let description = description.map(str::trim).filter(|d| !d.is_empty());
            let category = self.storage.add_category(name, after, description)?;
            let detail = format!("rank {}", category.rank);
            Ok((category, detail))
        })
    }
}
