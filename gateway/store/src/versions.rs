//! A model's history and the role categories: listing versions, finding one
//! by number, rollback (a new version restoring an old one's content), and
//! ranking categories.

use super::models::{Making, components_of, ensure_model_version, site_id, version_content};
use super::schema::*;
use super::{DbConnection, Result, Storage, StorageError};
use diesel::prelude::*;
use outfit_domain::ids::{ModelId, ModelVersionId};
use outfit_domain::model::{Authorship, Category, DesiredComponent, ImportedModel, VersionInfo};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A model of a site by name, with its current version's row.
pub(crate) fn model_id(conn: &mut DbConnection, site: &str, model: &str) -> Result<(i64, Option<i64>)> {
    let site = site_id(conn, site)?;
    models::table
        .filter(models::site_id.eq(site))
        .filter(models::name.eq(model))
        .select((models::id, models::current_version_id))
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "model", name: model.to_owned() })
}

fn version_row(conn: &mut DbConnection, model: i64, version: i32) -> Result<i64> {
    model_versions::table
        .filter(model_versions::model_id.eq(model))
        .filter(model_versions::version.eq(version))
        .select(model_versions::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "model version", name: version.to_string() })
}

/// The components of model versions and the package names of models, kept
/// once read: a version is never changed, and a model's package names change
/// only with a new current version (part of the key).
#[derive(Debug, Default)]
pub struct Cache {
    components: std::sync::Mutex<HashMap<i64, Arc<Vec<DesiredComponent>>>>,
    managed: std::sync::Mutex<HashMap<ManagedKey, Arc<BTreeSet<String>>>>,
}

/// (model, its current version): whose package names are cached.
type ManagedKey = (i64, Option<i64>);

/// Entries kept at most (then the cache starts afresh).
const CACHED: usize = 10_000;

impl Cache {
    /// The components of `version`, if read before.
    pub(crate) fn known(&self, version: ModelVersionId) -> Option<Arc<Vec<DesiredComponent>>> {
        self.components.lock().unwrap_or_else(|e| e.into_inner()).get(&version.0).cloned()
    }

    /// The components of `version`, read on first use.
    pub(crate) fn components(
        &self,
        conn: &mut DbConnection,
        version: ModelVersionId,
    ) -> Result<Arc<Vec<DesiredComponent>>> {
        if let Some(found) = self.components.lock().unwrap_or_else(|e| e.into_inner()).get(&version.0) {
            return Ok(found.clone());
        }
        let read = Arc::new(components_of(conn, version)?);
        let mut all = self.components.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= CACHED {
            all.clear();
        }
        all.insert(version.0, read.clone());
        Ok(read)
    }

    /// The package names some version of `model` (whose current version is `current`) had.
    pub(crate) fn managed(
        &self,
        conn: &mut DbConnection,
        model: i64,
        current: Option<i64>,
    ) -> Result<Arc<BTreeSet<String>>> {
        if let Some(found) = self.managed.lock().unwrap_or_else(|e| e.into_inner()).get(&(model, current)) {
            return Ok(found.clone());
        }
        let read = Arc::new(super::inventory::managed_packages(conn, model)?);
        let mut all = self.managed.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= CACHED {
            all.clear();
        }
        all.insert((model, current), read.clone());
        Ok(read)
    }
}

impl Storage {
    /// The model of `site` named `model`.
    pub fn model(&self, site: &str, model: &str) -> Result<ModelId> {
        let mut conn = self.conn()?;
        Ok(ModelId(model_id(&mut conn, site, model)?.0))
    }

    /// Every version of a model, oldest first.
    pub fn model_versions(&self, site: &str, model: &str) -> Result<Vec<VersionInfo>> {
        let mut conn = self.conn()?;
        let (id, current) = model_id(&mut conn, site, model)?;
        type Row = (i64, i32, Option<String>, Option<String>, Option<i32>, i64);
        let rows: Vec<Row> = model_versions::table
            .filter(model_versions::model_id.eq(id))
            .order(model_versions::version)
            .select((
                model_versions::id,
                model_versions::version,
                model_versions::author,
                model_versions::reason,
                model_versions::restores,
                model_versions::created_at,
            ))
            .load(&mut conn)?;
        Ok(rows
            .into_iter()
            .map(|(row, version, author, reason, restores, created_at)| VersionInfo {
                id: ModelVersionId(row),
                version,
                author,
                reason,
                restores,
                created_at,
                current: current == Some(row),
            })
            .collect())
    }

    /// Version `version` of a model (`None`: its current one), as its row and number.
    pub fn model_version(&self, site: &str, model: &str, version: Option<i32>) -> Result<(ModelVersionId, i32)> {
        let mut conn = self.conn()?;
        let (id, current) = model_id(&mut conn, site, model)?;
        let row = match version {
            Some(version) => version_row(&mut conn, id, version)?,
            None => current.ok_or_else(|| StorageError::NotFound { what: "model version", name: model.to_owned() })?,
        };
        let number = model_versions::table.find(row).select(model_versions::version).first(&mut conn)?;
        Ok((ModelVersionId(row), number))
    }

    /// Makes the content of version `version` current again as a new version
    /// that says it restores it. Restoring what is current adds nothing.
    pub fn rollback_model(&self, site: &str, model: &str, version: i32, by: &Authorship) -> Result<ImportedModel> {
        self.proposing(|conn| {
            let (id, _) = model_id(conn, site, model)?;
            let old = version_row(conn, id, version)?;
            let chosen = version_content(conn, old)?;
            ensure_model_version(conn, id, &chosen, by, Some(version), &Making::Local)
        })
    }

    /// The role categories, by rank.
    pub fn categories(&self) -> Result<Vec<Category>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, i32, Option<String>)> = role_categories::table
            .order((role_categories::ordinal, role_categories::name))
            .select((role_categories::name, role_categories::ordinal, role_categories::description))
            .load(&mut conn)?;
        Ok(rows.into_iter().map(|(name, rank, description)| Category { name, rank, description }).collect())
    }

    /// Adds a role category ranked right after `after` (`None`: last); the
    /// categories ranked behind it move back by one, so every model keeps
    /// its order. A category that exists is refused.
    pub fn add_category(&self, name: &str, after: Option<&str>, description: Option<&str>) -> Result<Category> {
        self.transaction(|conn| {
            let exists =
                role_categories::table.filter(role_categories::name.eq(name)).count().get_result::<i64>(conn)?;
            if exists > 0 {
                return Err(StorageError::Exists(format!("role category {name} exists already")));
            }
            let rank = match after {
                Some(after) => {
                    let rank: i32 = role_categories::table
                        .filter(role_categories::name.eq(after))
                        .select(role_categories::ordinal)
                        .first(conn)
                        .optional()?
                        .ok_or_else(|| StorageError::NotFound { what: "role category", name: after.to_owned() })?;
                    diesel::update(role_categories::table.filter(role_categories::ordinal.gt(rank)))
                        .set(role_categories::ordinal.eq(role_categories::ordinal + 1))
                        .execute(conn)?;
                    rank + 1
                }
                None => {
                    let last: Option<i32> =
                        role_categories::table.select(diesel::dsl::max(role_categories::ordinal)).first(conn)?;
                    last.unwrap_or(0) + 1
                }
            };
            diesel::insert_into(role_categories::table)
                .values((
                    role_categories::name.eq(name),
                    role_categories::ordinal.eq(rank),
                    role_categories::description.eq(description),
                ))
                .execute(conn)?;
            Ok(Category { name: name.to_owned(), rank, description: description.map(str::to_owned) })
        })
    }
}
