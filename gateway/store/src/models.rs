//! The model tables: components, role versions and model versions, only ever
//! inserted. A change is a new version; unchanged content adds nothing.

use super::federation::{self, Body};
use super::schema::*;
use super::{DbConnection, Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::command::FileAttributes;
use outfit_domain::federation::ProposalRef;
use outfit_domain::ids::ModelVersionId;
use outfit_domain::model::{
    Authorship, Component, ConfigFile, DesiredComponent, ImportedModel, Model, PackageRef, ParameterChange,
};

pub(crate) fn ensure_site(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    if let Some(id) = sites::table.filter(sites::name.eq(name)).select(sites::id).first(conn).optional()? {
        return Ok(id);
    }
    diesel::insert_into(sites::table).values(sites::name.eq(name)).execute(conn)?;
    sites::table.filter(sites::name.eq(name)).select(sites::id).first(conn)
}

pub(crate) fn site_id(conn: &mut DbConnection, name: &str) -> Result<i64> {
    sites::table
        .filter(sites::name.eq(name))
        .select(sites::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "site", name: name.to_owned() })
}

/// Returns the id of an identical component row, inserting one if none exists.
pub(crate) fn ensure_component(conn: &mut DbConnection, site: i64, c: &Component) -> QueryResult<i64> {
    let p = &c.package;
    let config_path = c.config.as_ref().map(|f| f.path.clone());
    let config_template = c.config.as_ref().map(|f| f.template.clone());
    let config_attributes = c.config.as_ref().and_then(|f| f.attributes.to_column());
    let same = components::table
        .filter(components::site_id.eq(site))
        .filter(components::name.eq(&c.name))
        .filter(components::package_name.eq(&p.name))
        .filter(components::package_version.eq(&p.version))
        .filter(components::package_format.eq(&p.format))
        .filter(components::sha256.eq(&p.sha256))
        .select((
            components::id,
            components::config_path,
            components::config_template,
            components::config_attributes,
            components::plugin,
        ))
        .load::<(i64, Option<String>, Option<String>, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .find(|(_, path, template, attributes, plugin)| {
            *path == config_path
                && *template == config_template
                && *attributes == config_attributes
                && *plugin == c.plugin
        });
    if let Some((id, ..)) = same {
        return Ok(id);
    }
    diesel::insert_into(components::table)
        .values((
            components::site_id.eq(site),
            components::name.eq(&c.name),
            components::package_name.eq(&p.name),
            components::package_version.eq(&p.version),
            components::package_format.eq(&p.format),
            components::sha256.eq(&p.sha256),
            components::size.eq(p.size),
            components::storage_key.eq(&p.storage_key),
            components::config_path.eq(&config_path),
            components::config_template.eq(&config_template),
            components::config_attributes.eq(&config_attributes),
            components::plugin.eq(&c.plugin),
            components::created_at.eq(now_ms()),
        ))
        .execute(conn)?;
    components::table
        .filter(components::site_id.eq(site))
        .select(components::id)
        .order(components::id.desc())
        .first(conn)
}

/// What a role version holds, comparable across imports.
type RoleContent = Vec<(i64, Vec<(String, String)>)>;

fn role_version_content(conn: &mut DbConnection, role_version: i64) -> QueryResult<RoleContent> {
    let members: Vec<i64> = role_version_components::table
        .filter(role_version_components::role_version_id.eq(role_version))
        .order(role_version_components::position)
        .select(role_version_components::component_id)
        .load(conn)?;
    let mut content = Vec::new();
    for component in members {
        let params: Vec<(String, String)> = role_version_parameters::table
            .filter(role_version_parameters::role_version_id.eq(role_version))
            .filter(role_version_parameters::component_id.eq(component))
            .order(role_version_parameters::name)
            .select((role_version_parameters::name, role_version_parameters::value))
            .load(conn)?;
        content.push((component, params));
    }
    Ok(content)
}

/// Inserts version `$version` of parent `$parent` into a versions table
/// (`role_versions`, `model_versions`), made `$by`, and returns the new row's
/// id. MySQL has no `RETURNING`, so the row is read back by its unique
/// (parent, version).
macro_rules! insert_version {
    ($conn:expr, $table:ident, $parent_col:ident, $parent:expr, $version:expr, $by:expr) => {{
        diesel::insert_into($table::table)
            .values((
                $table::$parent_col.eq($parent),
                $table::version.eq($version),
                $table::created_at.eq(now_ms()),
                $table::author.eq(&$by.author),
                $table::reason.eq(&$by.reason),
            ))
            .execute($conn)?;
        $table::table
            .filter($table::$parent_col.eq($parent))
            .filter($table::version.eq($version))
            .select($table::id)
            .first::<i64>($conn)?
    }};
}

/// Returns the latest role version if it holds `content`, otherwise adds a new version.
fn ensure_role_version(
    conn: &mut DbConnection,
    site: i64,
    category: i64,
    name: &str,
    content: &RoleContent,
    by: &Authorship,
) -> Result<i64> {
    let role = match roles::table
        .filter(roles::site_id.eq(site))
        .filter(roles::name.eq(name))
        .select((roles::id, roles::category_id))
        .first::<(i64, i64)>(conn)
        .optional()?
    {
        Some((id, existing)) if existing == category => id,
        Some(_) => return Err(StorageError::Invalid(format!("role `{name}` already exists in another category"))),
        None => {
            diesel::insert_into(roles::table)
                .values((roles::site_id.eq(site), roles::category_id.eq(category), roles::name.eq(name)))
                .execute(conn)?;
            roles::table.filter(roles::site_id.eq(site)).filter(roles::name.eq(name)).select(roles::id).first(conn)?
        }
    };
    let latest = role_versions::table
        .filter(role_versions::role_id.eq(role))
        .order(role_versions::version.desc())
        .select((role_versions::id, role_versions::version))
        .first::<(i64, i32)>(conn)
        .optional()?;
    if let Some((id, _)) = latest
        && role_version_content(conn, id)? == *content
    {
        return Ok(id);
    }
    let id = insert_version!(conn, role_versions, role_id, role, latest.map_or(1, |(_, v)| v + 1), by);
    for (position, (component, params)) in content.iter().enumerate() {
        diesel::insert_into(role_version_components::table)
            .values((
                role_version_components::role_version_id.eq(id),
                role_version_components::component_id.eq(component),
                role_version_components::position.eq(position as i32),
            ))
            .execute(conn)?;
        for (key, value) in params {
            diesel::insert_into(role_version_parameters::table)
                .values((
                    role_version_parameters::role_version_id.eq(id),
                    role_version_parameters::component_id.eq(component),
                    role_version_parameters::name.eq(key),
                    role_version_parameters::value.eq(value),
                ))
                .execute(conn)?;
        }
    }
    Ok(id)
}

/// The (category, role version) pairs of a model version, sorted.
pub(crate) fn version_content(conn: &mut DbConnection, model_version: i64) -> QueryResult<Vec<(i64, i64)>> {
    let mut roles: Vec<(i64, i64)> = model_version_roles::table
        .filter(model_version_roles::model_version_id.eq(model_version))
        .select((model_version_roles::category_id, model_version_roles::role_version_id))
        .load(conn)?;
    roles.sort();
    Ok(roles)
}

/// Who makes a model version, which decides what else happens with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Making {
    /// An edit here: a version if the site's home is this data centre (and
    /// an entry of the log when the site is shared), else a proposal.
    Local,
    /// The home's version `number`, pulled from its log (already logged).
    Replica { number: i32 },
    /// This data centre, the site's home, accepting a peer's proposal.
    Accepting(ProposalRef),
}

/// Returns the model's latest version if it holds exactly `chosen` (category,
/// role version) pairs; otherwise adds a version that does, made `by`
/// (restoring version `restores`, for a rollback), and makes it current.
/// At a site homed elsewhere a local edit adds nothing: it fails with
/// [`StorageError::Propose`], which rolls the transaction back.
pub(crate) fn ensure_model_version(
    conn: &mut DbConnection,
    model_id: i64,
    chosen: &[(i64, i64)],
    by: &Authorship,
    restores: Option<i32>,
    making: &Making,
) -> Result<ImportedModel> {
    let latest = model_versions::table
        .filter(model_versions::model_id.eq(model_id))
        .order(model_versions::version.desc())
        .select((model_versions::id, model_versions::version))
        .first::<(i64, i32)>(conn)
        .optional()?;
    if let Some((id, version)) = latest
        && version_content(conn, id)? == chosen
    {
        return Ok(ImportedModel { model_version_id: ModelVersionId(id), version, created: false, proposed: None });
    }
    let version = latest.map_or(1, |(_, v)| v + 1);
    let (site, model): (i64, String) =
        models::table.find(model_id).select((models::site_id, models::name)).first(conn)?;
    if *making == Making::Local
        && let Some(home) = federation::home_elsewhere(conn, site)?
    {
        let roles = federation::roles_of(conn, chosen)?;
        let base = latest.map(|(_, v)| v);
        let site = sites::table.find(site).select(sites::name).first(conn)?;
        let body = Body::Proposal { base, author: by.author.clone(), reason: by.reason.clone(), restores, roles };
        return Err(StorageError::Propose(Box::new(federation::Proposed { home, site, model, body })));
    }
    if let Making::Replica { number } = making
        && *number != version
    {
        return Err(StorageError::Invalid(format!(
            "the home's version {number} of model `{model}` does not follow version {}",
            version - 1
        )));
    }
    let id = insert_version!(conn, model_versions, model_id, model_id, version, by);
    if restores.is_some() {
        diesel::update(model_versions::table.find(id)).set(model_versions::restores.eq(restores)).execute(conn)?;
    }
    for (category, role_version) in chosen {
        diesel::insert_into(model_version_roles::table)
            .values((
                model_version_roles::model_version_id.eq(id),
                model_version_roles::category_id.eq(category),
                model_version_roles::role_version_id.eq(role_version),
            ))
            .execute(conn)?;
    }
    diesel::update(models::table.find(model_id)).set(models::current_version_id.eq(id)).execute(conn)?;
    let accepts = match making {
        Making::Replica { .. } => None,
        Making::Local => Some(None),
        Making::Accepting(proposal) => Some(Some(proposal.clone())),
    };
    if let Some(accepts) = accepts
        && federation::shared(conn, site)?
    {
        let roles = federation::roles_of(conn, chosen)?;
        let (author, reason) = (by.author.clone(), by.reason.clone());
        let body = Body::Version { version, author, reason, restores, roles, accepts };
        let site = sites::table.find(site).select(sites::name).first::<String>(conn)?;
        federation::append(conn, &site, &model, body)?;
    }
    Ok(ImportedModel { model_version_id: ModelVersionId(id), version, created: true, proposed: None })
}

/// Stores `model`'s content (components, role versions, a model version
/// where something changed) on a connection inside a transaction.
pub(crate) fn import_in(
    conn: &mut DbConnection,
    model: &Model,
    by: &Authorship,
    restores: Option<i32>,
    making: &Making,
) -> Result<ImportedModel> {
    let site = ensure_site(conn, &model.site)?;
    let mut chosen: Vec<(i64, i64)> = Vec::new();
    for role in &model.roles {
        let category: i64 = role_categories::table
            .filter(role_categories::name.eq(&role.category))
            .select(role_categories::id)
            .first(conn)
            .optional()?
            .ok_or_else(|| StorageError::NotFound { what: "role category", name: role.category.clone() })?;
        if chosen.iter().any(|(c, _)| *c == category) {
            return Err(StorageError::Invalid(format!("model has two roles of category {}", role.category)));
        }
        let mut content = RoleContent::new();
        for component in &role.components {
            let id = ensure_component(conn, site, component)?;
            let mut params = component.parameters.clone();
            params.sort();
            content.push((id, params));
        }
        chosen.push((category, ensure_role_version(conn, site, category, &role.name, &content, by)?));
    }
    chosen.sort();
    let model_id = match models::table
        .filter(models::site_id.eq(site))
        .filter(models::name.eq(&model.name))
        .select(models::id)
        .first::<i64>(conn)
        .optional()?
    {
        Some(id) => id,
        None => {
            diesel::insert_into(models::table)
                .values((models::site_id.eq(site), models::name.eq(&model.name)))
                .execute(conn)?;
            models::table
                .filter(models::site_id.eq(site))
                .filter(models::name.eq(&model.name))
                .select(models::id)
                .first(conn)?
        }
    };
    ensure_model_version(conn, model_id, &chosen, by, restores, making)
}

impl Storage {
    /// Imports a model in one transaction: new component rows, role versions and
    /// a model version are added only where content changed.
    pub fn import_model(&self, model: &Model, by: &Authorship) -> Result<ImportedModel> {
        self.proposing(|conn| import_in(conn, model, by, None, &Making::Local))
    }

    /// Sets one parameter of a component in the model's role of one category:
    /// a new role version and a new current model version (the old ones stay,
    /// so rollback is making an old version current again). Setting the value
    /// a parameter already has adds nothing (`created` is false).
    pub fn set_parameter(&self, change: &ParameterChange, by: &Authorship) -> Result<ImportedModel> {
        self.proposing(|conn| {
            let site = site_id(conn, &change.site)?;
            let not_found = |what, name: &str| StorageError::NotFound { what, name: name.to_owned() };
            let (model_id, current): (i64, Option<i64>) = models::table
                .filter(models::site_id.eq(site))
                .filter(models::name.eq(&change.model))
                .select((models::id, models::current_version_id))
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("model", &change.model))?;
            let current = current.ok_or_else(|| not_found("model version", &change.model))?;
            let category: i64 = role_categories::table
                .filter(role_categories::name.eq(&change.category))
                .select(role_categories::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("role category", &change.category))?;
            let mut chosen: Vec<(i64, i64)> = model_version_roles::table
                .filter(model_version_roles::model_version_id.eq(current))
                .select((model_version_roles::category_id, model_version_roles::role_version_id))
                .load(conn)?;
            let slot = chosen.iter_mut().find(|(c, _)| *c == category).ok_or_else(|| {
                StorageError::Invalid(format!("model `{}` has no {} role", change.model, change.category))
            })?;
            let role: String = role_versions::table
                .inner_join(roles::table)
                .filter(role_versions::id.eq(slot.1))
                .select(roles::name)
                .first(conn)?;
            let mut content = role_version_content(conn, slot.1)?;
            let mut target = None;
            for (index, (component, _)) in content.iter().enumerate() {
                let name: String = components::table.find(component).select(components::name).first(conn)?;
                if name == change.component {
                    target = Some(index);
                }
            }
            let index = target.ok_or_else(|| not_found("component of that role", &change.component))?;
            let params = &mut content[index].1;
            params.retain(|(name, _)| *name != change.name);
            params.push((change.name.clone(), change.value.clone()));
            params.sort();
            slot.1 = ensure_role_version(conn, site, category, &role, &content, by)?;
            chosen.sort();
            ensure_model_version(conn, model_id, &chosen, by, None, &Making::Local)
        })
    }

    /// Every model (of `site`, when given) with its current version.
    pub fn models(&self, site: Option<&str>) -> Result<Vec<ModelSummary>> {
        let mut conn = self.conn()?;
        let mut query = models::table
            .inner_join(sites::table.on(sites::id.eq(models::site_id)))
            .left_join(model_versions::table.on(models::current_version_id.eq(model_versions::id.nullable())))
            .order((sites::name, models::name))
            .select((sites::name, models::name, model_versions::id.nullable(), model_versions::version.nullable()))
            .into_boxed();
        if let Some(site) = site {
            query = query.filter(sites::name.eq(site.to_owned()));
        }
        let rows: Vec<(String, String, Option<i64>, Option<i32>)> = query.load(&mut conn)?;
        Ok(rows
            .into_iter()
            .map(|(site, name, id, version)| ModelSummary { site, name, current: id.map(ModelVersionId).zip(version) })
            .collect())
    }

    /// The roles of a model version: (category, role name), by category rank.
    pub fn version_roles(&self, version: ModelVersionId) -> Result<Vec<(String, String)>> {
        let mut conn = self.conn()?;
        Ok(model_version_roles::table
            .inner_join(role_categories::table)
            .inner_join(role_versions::table.inner_join(roles::table))
            .filter(model_version_roles::model_version_id.eq(version.0))
            .order(role_categories::ordinal)
            .select((role_categories::name, roles::name))
            .load(&mut conn)?)
    }

    /// The components a model version asks for, in provisioning order: by role
    /// category (OS, APP, CONTENT), then by position within the role.
    pub fn desired_components(&self, model_version: ModelVersionId) -> Result<Vec<DesiredComponent>> {
        if let Some(known) = self.versions.known(model_version) {
            return Ok(known.as_ref().clone());
        }
        Ok(self.versions.components(&mut *self.conn()?, model_version)?.as_ref().clone())
    }
}

/// The parameter values role version `role_version` gives `component`, by name.
fn parameters_of(conn: &mut DbConnection, role_version: i64, component: i64) -> QueryResult<Vec<(String, String)>> {
    role_version_parameters::table
        .filter(role_version_parameters::role_version_id.eq(role_version))
        .filter(role_version_parameters::component_id.eq(component))
        .order(role_version_parameters::name)
        .select((role_version_parameters::name, role_version_parameters::value))
        .load(conn)
}

/// The components of a role version, in position order, with its values.
pub(crate) fn role_components(conn: &mut DbConnection, role_version: i64) -> Result<Vec<Component>> {
    let rows: Vec<ComponentRow> = role_version_components::table
        .inner_join(components::table)
        .filter(role_version_components::role_version_id.eq(role_version))
        .order(role_version_components::position)
        .select(ComponentRow::as_select())
        .load(conn)?;
    let mut components = Vec::with_capacity(rows.len());
    for component in rows {
        let parameters = parameters_of(conn, role_version, component.id)?;
        components.push(component.into_component(parameters)?);
    }
    Ok(components)
}

/// [`Storage::desired_components`] on a connection (inside an exchange's transaction too).
pub(crate) fn components_of(conn: &mut DbConnection, model_version: ModelVersionId) -> Result<Vec<DesiredComponent>> {
    let rows: Vec<(String, i64, ComponentRow)> = model_version_roles::table
        .inner_join(role_categories::table)
        .inner_join(role_versions::table.inner_join(role_version_components::table.inner_join(components::table)))
        .filter(model_version_roles::model_version_id.eq(model_version.0))
        .order((role_categories::ordinal, role_version_components::position))
        .select((role_categories::name, role_versions::id, ComponentRow::as_select()))
        .load(conn)?;
    let mut desired = Vec::with_capacity(rows.len());
    for (category, role_version, component) in rows {
        let parameters = parameters_of(conn, role_version, component.id)?;
        desired.push(DesiredComponent { category, component: component.into_component(parameters)? });
    }
    Ok(desired)
}

/// A model as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    pub site: String,
    pub name: String,
    /// Its current version: the row and its number.
    pub current: Option<(ModelVersionId, i32)>,
}

/// A `components` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = components)]
pub(crate) struct ComponentRow {
    pub id: i64,
    pub name: String,
    pub package_name: String,
    pub package_version: String,
    pub package_format: String,
    pub sha256: String,
    pub size: i64,
    pub storage_key: String,
    pub config_path: Option<String>,
    pub config_template: Option<String>,
    pub config_attributes: Option<String>,
    pub plugin: Option<String>,
}

impl ComponentRow {
    /// The component, with the parameter values its role version gives it.
    fn into_component(self, parameters: Vec<(String, String)>) -> Result<Component> {
        let attributes = FileAttributes::from_column(self.config_attributes.as_deref())
            .map_err(|e| StorageError::Invalid(format!("component {}: {e}", self.id)))?;
        let config = match (self.config_path, self.config_template) {
            (Some(path), Some(template)) => Some(ConfigFile { path, template, attributes }),
            _ => None,
        };
        Ok(Component {
            name: self.name,
            package: PackageRef {
                name: self.package_name,
                version: self.package_version,
                format: self.package_format,
                sha256: self.sha256,
                size: self.size,
                storage_key: self.storage_key,
            },
            config,
            plugin: self.plugin,
            parameters,
        })
    }
}
