//! All SQL of the gateway: the connection pool, migrations, the model tables and
//! the per-device command queue. Nothing outside this module builds a query.
//!
//! **Invariant:** model rows (role versions, model versions, components) are only
//! ever inserted, never updated; a queue row moves pending → sent → succeeded |
//! failed and each move is a compare-and-set on its current state, so a repeated
//! or stale report can never move it twice.

mod approval;
mod hot;
mod operators;
mod schema;
mod server_status;
mod transaction;
mod trust;

pub use approval::{EnrolmentRequest, MAX_WAITING, RequestState};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
pub use operators::{Action, AuditEntry, Holder, OperatorRow};
use schema::*;
pub use server_status::ServerCounters;
pub use trust::{CertificateStatus, Grant, Issued, ModelPackage, RENEWAL_OVERLAP_MS, TokenRefused};

const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/mysql");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// One connection type for both backends. MySQL is listed first so that a
/// `mysql://` URL is never opened as a SQLite file name.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Mysql(diesel::mysql::MysqlConnection),
    Sqlite(diesel::sqlite::SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("open database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("run migrations: {0}")]
    Migration(String),
    #[error("no {what} named `{name}`")]
    NotFound { what: &'static str, name: String },
    #[error("{0}")]
    Invalid(String),
    /// Another writer moved a row this transaction had locked or read; the
    /// transaction is rolled back and the caller may try again.
    #[error("conflict: {0}")]
    Conflict(String),
}

type Result<T, E = StorageError> = std::result::Result<T, E>;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Per-connection settings SQLite needs to be shared by several threads and processes.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> std::result::Result<(), diesel::r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => {
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                    .map_err(diesel::r2d2::Error::QueryError)?;
            }
            // A safety net: MariaDB aborts a transaction left idle for 30 s
            // (and closes that connection, which the pool then replaces), so a
            // transaction stuck open on the gateway side cannot hold queue rows
            // locked for longer. (The one such stall found, a client hang after
            // a deadlock, is fixed in `transaction.rs`.) MySQL lacks the
            // variable and keeps its default.
            DbConnection::Mysql(c) => {
                if let Err(e) = c.batch_execute("SET SESSION idle_transaction_timeout = 30") {
                    tracing::debug!(error = %e, "the server has no idle_transaction_timeout (not MariaDB?)");
                }
            }
        }
        Ok(())
    }
}

/// The device has reached its desired model once every command of its latest
/// provisioning, and everything queued after it, succeeded (a skipped,
/// aborted or expired one means it has not).
fn mark_applied_if_done(conn: &mut DbConnection, device: i64) -> QueryResult<()> {
    let (desired, open): (Option<i64>, i64) = hot::AppliedCheck { device }.get_result(conn)?;
    if open == 0 {
        hot::MarkApplied { device, desired }.execute(conn)?;
    }
    Ok(())
}

type Pooled = PooledConnection<ConnectionManager<DbConnection>>;

/// The gateway's database: a pool plus every query the gateway makes.
#[derive(Clone)]
pub struct Storage {
    pool: Pool<ConnectionManager<DbConnection>>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Storage {
    /// Opens `url` (`mysql://…` or a SQLite file path) and runs pending migrations.
    pub fn open(url: &str) -> Result<Self> {
        // One direct connection first: it fails at once with the backend's own
        // words ("Can't connect to server on …"), where the pool would retry for
        // seconds and then report only that no backend accepted the URL.
        use diesel::Connection as _;
        if url.starts_with("mysql://") {
            diesel::mysql::MysqlConnection::establish(url)?;
        } else {
            diesel::sqlite::SqliteConnection::establish(url)?;
        }
        // SQLite allows one writer; a single pooled connection per process
        // serialises writers here instead of failing with "database is locked"
        // when two deferred transactions both try to upgrade to writing.
        // MariaDB: every command commits (and fsyncs) once, so throughput comes
        // from commits grouped across connections; `outfit-gateway bench` with
        // 1,000 agents measured 737/785/918 cmd/s with 3/4/16 connections and
        // no further gain at 32.
        let size = if url.starts_with("mysql://") { 16 } else { 1 };
        let pool = Pool::builder()
            .max_size(size)
            // Connections open as requests need them, not all at start-up.
            .min_idle(Some(1))
            // Checked by `Storage::checkout` instead: a transaction's own
            // START TRANSACTION tells a dead connection without a ping.
            .test_on_check_out(false)
            // With the database down, fail a request within seconds (agents retry)
            // rather than holding it for r2d2's default 30 s.
            .connection_timeout(std::time::Duration::from_secs(5))
            .connection_customizer(Box::new(ConnectionSetup))
            .build(ConnectionManager::<DbConnection>::new(url))?;
        let storage = Self { pool };
        storage.migrate()?;
        Ok(storage)
    }

    /// How many connections the pool holds.
    pub fn max_connections(&self) -> usize {
        self.pool.max_size() as usize
    }

    /// A pooled connection for work outside a transaction, pinged first (the
    /// pool does not; see `transaction.rs`).
    fn conn(&self) -> Result<Pooled> {
        self.checkout(diesel::r2d2::R2D2Connection::ping)
    }

    /// Runs `f` as one agent exchange: one pooled connection and one
    /// transaction (see [`Session`]). `Err` rolls everything back.
    pub fn exchange<T, E: From<StorageError>>(&self, f: impl FnOnce(&mut Session<'_>) -> Result<T, E>) -> Result<T, E> {
        self.transaction(|conn| f(&mut Session { conn }))
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let run = match &mut *conn {
            DbConnection::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS).map(|_| ()),
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        run.map_err(|e| StorageError::Migration(e.to_string()))
    }

    /// Reverts every migration (used by tests to check the down migrations).
    pub fn revert_all(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let run = match &mut *conn {
            DbConnection::Mysql(c) => c.revert_all_migrations(MYSQL_MIGRATIONS).map(|_| ()),
            DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        run.map_err(|e| StorageError::Migration(e.to_string()))
    }
}

// ---------------------------------------------------------------- model tables

/// A component as the model importer hands it over (package already stored).
#[derive(Debug, Clone, PartialEq)]
pub struct NewComponent {
    pub name: String,
    pub package_name: String,
    pub package_version: String,
    pub package_format: String,
    pub sha256: String,
    pub size: i64,
    pub storage_key: String,
    pub config_path: Option<String>,
    pub config_template: Option<String>,
    /// JSON of [`crate::queue::FileAttributes`]; `None` when it names nothing.
    pub config_attributes: Option<String>,
    /// The plug-in that must serve it (`None`: the agent picks).
    pub plugin: Option<String>,
    pub parameters: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub category: String,
    pub name: String,
    pub components: Vec<NewComponent>,
}

#[derive(Debug, Clone)]
pub struct NewModel {
    pub site: String,
    pub name: String,
    pub roles: Vec<NewRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedModel {
    pub model_version_id: i64,
    pub version: i32,
    /// False when the import matched the current version and nothing was added.
    pub created: bool,
}

fn ensure_site(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    if let Some(id) = sites::table.filter(sites::name.eq(name)).select(sites::id).first(conn).optional()? {
        return Ok(id);
    }
    diesel::insert_into(sites::table).values(sites::name.eq(name)).execute(conn)?;
    sites::table.filter(sites::name.eq(name)).select(sites::id).first(conn)
}

fn site_id(conn: &mut DbConnection, name: &str) -> Result<i64> {
    sites::table
        .filter(sites::name.eq(name))
        .select(sites::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "site", name: name.to_owned() })
}

/// Returns the id of an identical component row, inserting one if none exists.
fn ensure_component(conn: &mut DbConnection, site: i64, c: &NewComponent) -> QueryResult<i64> {
    let same = components::table
        .filter(components::site_id.eq(site))
        .filter(components::name.eq(&c.name))
        .filter(components::package_name.eq(&c.package_name))
        .filter(components::package_version.eq(&c.package_version))
        .filter(components::package_format.eq(&c.package_format))
        .filter(components::sha256.eq(&c.sha256))
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
            *path == c.config_path
                && *template == c.config_template
                && *attributes == c.config_attributes
                && *plugin == c.plugin
        });
    if let Some((id, ..)) = same {
        return Ok(id);
    }
    diesel::insert_into(components::table)
        .values((
            components::site_id.eq(site),
            components::name.eq(&c.name),
            components::package_name.eq(&c.package_name),
            components::package_version.eq(&c.package_version),
            components::package_format.eq(&c.package_format),
            components::sha256.eq(&c.sha256),
            components::size.eq(c.size),
            components::storage_key.eq(&c.storage_key),
            components::config_path.eq(&c.config_path),
            components::config_template.eq(&c.config_template),
            components::config_attributes.eq(&c.config_attributes),
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
/// (`role_versions`, `model_versions`) and returns the new row's id. MySQL has
/// no `RETURNING`, so the row is read back by its unique (parent, version).
macro_rules! insert_version {
    ($conn:expr, $table:ident, $parent_col:ident, $parent:expr, $version:expr) => {{
        diesel::insert_into($table::table)
            .values(($table::$parent_col.eq($parent), $table::version.eq($version), $table::created_at.eq(now_ms())))
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
    let id = insert_version!(conn, role_versions, role_id, role, latest.map_or(1, |(_, v)| v + 1));
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

/// Returns the model's latest version if it holds exactly `chosen` (category,
/// role version) pairs; otherwise adds a version that does and makes it current.
fn ensure_model_version(conn: &mut DbConnection, model_id: i64, chosen: &[(i64, i64)]) -> Result<ImportedModel> {
    let latest = model_versions::table
        .filter(model_versions::model_id.eq(model_id))
        .order(model_versions::version.desc())
        .select((model_versions::id, model_versions::version))
        .first::<(i64, i32)>(conn)
        .optional()?;
    if let Some((id, version)) = latest {
        let mut roles: Vec<(i64, i64)> = model_version_roles::table
            .filter(model_version_roles::model_version_id.eq(id))
            .select((model_version_roles::category_id, model_version_roles::role_version_id))
            .load(conn)?;
        roles.sort();
        if roles == chosen {
            return Ok(ImportedModel { model_version_id: id, version, created: false });
        }
    }
    let version = latest.map_or(1, |(_, v)| v + 1);
    let id = insert_version!(conn, model_versions, model_id, model_id, version);
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
    Ok(ImportedModel { model_version_id: id, version, created: true })
}

/// One parameter of one component in a model's role, as an operator changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterChange {
    pub site: String,
    pub model: String,
    pub category: String,
    pub component: String,
    pub name: String,
    pub value: String,
}

impl Storage {
    /// Imports a model in one transaction: new component rows, role versions and
    /// a model version are added only where content changed.
    pub fn import_model(&self, model: &NewModel) -> Result<ImportedModel> {
        self.transaction(|conn| {
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
                chosen.push((category, ensure_role_version(conn, site, category, &role.name, &content)?));
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
            ensure_model_version(conn, model_id, &chosen)
        })
    }

    /// Sets one parameter of a component in the model's role of one category:
    /// a new role version and a new current model version (the old ones stay,
    /// so rollback is making an old version current again). Setting the value
    /// a parameter already has adds nothing (`created` is false).
    pub fn set_parameter(&self, change: &ParameterChange) -> Result<ImportedModel> {
        self.transaction(|conn| {
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
            slot.1 = ensure_role_version(conn, site, category, &role, &content)?;
            chosen.sort();
            ensure_model_version(conn, model_id, &chosen)
        })
    }

    /// The components a model version asks for, in provisioning order: by role
    /// category (OS, APP, CONTENT), then by position within the role.
    pub fn desired_components(&self, model_version: i64) -> Result<Vec<DesiredComponent>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, i64, ComponentRow)> = model_version_roles::table
            .inner_join(role_categories::table)
            .inner_join(role_versions::table.inner_join(role_version_components::table.inner_join(components::table)))
            .filter(model_version_roles::model_version_id.eq(model_version))
            .order((role_categories::ordinal, role_version_components::position))
            .select((role_categories::name, role_versions::id, ComponentRow::as_select()))
            .load(&mut conn)?;
        let mut desired = Vec::with_capacity(rows.len());
        for (category, role_version, component) in rows {
            let parameters = role_version_parameters::table
                .filter(role_version_parameters::role_version_id.eq(role_version))
                .filter(role_version_parameters::component_id.eq(component.id))
                .order(role_version_parameters::name)
                .select((role_version_parameters::name, role_version_parameters::value))
                .load(&mut conn)?;
            desired.push(DesiredComponent { category, component, parameters });
        }
        Ok(desired)
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = components)]
pub struct ComponentRow {
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

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredComponent {
    pub category: String,
    pub component: ComponentRow,
    pub parameters: Vec<(String, String)>,
}

// --------------------------------------------------------------------- devices

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub model_id: i64,
    pub desired_model_version_id: Option<i64>,
    pub applied_model_version_id: Option<i64>,
    pub poke_url: Option<String>,
    pub boot_id: Option<String>,
}

/// What a device's agent said of itself in its latest Hello. Apart from
/// [`DeviceRow`], which every agent exchange reads, so the report text stays
/// off that path: only queueing reads it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct DeviceAgent {
    pub id: i64,
    pub name: String,
    pub agent_version: Option<String>,
    /// JSON of [`crate::serving::AgentReport`]; see [`DeviceAgent::agent`].
    pub agent_report: Option<String>,
}

impl DeviceAgent {
    /// What the gateway knows of the device's agent, from its latest Hello.
    pub fn agent(&self) -> crate::serving::Agent {
        use crate::serving::{Agent, AgentReport};
        match (&self.agent_version, AgentReport::from_column(self.agent_report.as_deref())) {
            (_, Some(report)) => Agent::Reported(report),
            (Some(version), None) => Agent::Unreported { version: version.clone() },
            (None, None) => Agent::Unseen,
        }
    }
}

impl Storage {
    /// Registers a device of `site` built to `model`'s current version.
    pub fn add_device(&self, site: &str, name: &str, model: &str) -> Result<DeviceRow> {
        self.transaction(|conn| {
            let site = site_id(conn, site)?;
            let (model_id, current) = models::table
                .filter(models::site_id.eq(site))
                .filter(models::name.eq(model))
                .select((models::id, models::current_version_id))
                .first::<(i64, Option<i64>)>(conn)
                .optional()?
                .ok_or_else(|| StorageError::NotFound { what: "model", name: model.to_owned() })?;
            if devices::table.filter(devices::name.eq(name)).count().get_result::<i64>(conn)? > 0 {
                return Err(StorageError::Invalid(format!("a device named `{name}` is already registered")));
            }
            diesel::insert_into(devices::table)
                .values((
                    devices::site_id.eq(site),
                    devices::name.eq(name),
                    devices::model_id.eq(model_id),
                    devices::desired_model_version_id.eq(current),
                    devices::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            Ok(devices::table.filter(devices::name.eq(name)).select(DeviceRow::as_select()).first(conn)?)
        })
    }

    /// The version new provisioning of `model` builds to.
    pub fn current_model_version(&self, model: i64) -> Result<Option<i64>> {
        let mut conn = self.conn()?;
        Ok(models::table.find(model).select(models::current_version_id).first(&mut conn)?)
    }

    pub fn device(&self, name: &str) -> Result<Option<DeviceRow>> {
        self.exchange(|session| session.device(name))
    }

    /// The role categories a provisioning of `device` (of `site`) touches:
    /// those of its model's current version. `NotFound` if the site has no
    /// such device.
    pub fn provisioned_categories(&self, site: &str, device: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let found: Option<Option<i64>> = devices::table
            .inner_join(sites::table)
            .inner_join(models::table)
            .filter(sites::name.eq(site))
            .filter(devices::name.eq(device))
            .select(models::current_version_id)
            .first(&mut conn)
            .optional()?;
        let not_found = || StorageError::NotFound { what: "device of that site", name: device.to_owned() };
        let version = found.ok_or_else(not_found)?.ok_or_else(not_found)?;
        Ok(model_version_roles::table
            .inner_join(role_categories::table)
            .filter(model_version_roles::model_version_id.eq(version))
            .order(role_categories::id)
            .select(role_categories::name)
            .load(&mut conn)?)
    }

    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        let mut conn = self.conn()?;
        Ok(devices::table.order(devices::name).select(DeviceRow::as_select()).load(&mut conn)?)
    }

    /// Records an agent's Hello (with its report of its plug-ins, JSON of
    /// [`crate::serving::AgentReport`]; None from an agent too old to send
    /// one). A new boot id while a reboot command is
    /// `rebooting` means the reboot happened: that command succeeds and the
    /// queue goes on. Returns the id of the command so completed, and how
    /// many commands wait for the agent (see [`Session::record_hello`]).
    pub fn record_hello(
        &self,
        device: i64,
        boot_id: &str,
        agent_version: &str,
        poke_url: Option<&str>,
        agent_report: Option<&str>,
    ) -> Result<(Option<i64>, i64)> {
        self.exchange(|session| {
            let conn = &mut *session.conn;
            let device: DeviceRow = devices::table.find(device).select(DeviceRow::as_select()).first(conn)?;
            session.record_hello(&device, boot_id, agent_version, poke_url, agent_report)
        })
    }

    /// Devices whose reboot has not come back within `deadline_ms`: (device, command id, since).
    pub fn overdue_reboots(&self, deadline_ms: i64) -> Result<Vec<(String, i64, i64)>> {
        let mut conn = self.conn()?;
        let cutoff = now_ms() - deadline_ms;
        Ok(commands::table
            .inner_join(devices::table)
            .filter(commands::state.eq(state::REBOOTING))
            .filter(commands::finished_at.le(cutoff))
            .select((devices::name, commands::id, commands::finished_at.assume_not_null()))
            .load(&mut conn)?)
    }

    /// Logs one SOAP exchange and the connection it arrived on.
    pub fn record_exchange(&self, exchange: &ExchangeRecord) -> Result<()> {
        self.exchange(|session| session.record_exchange(exchange))
    }
}

#[derive(Debug)]
pub struct ExchangeRecord {
    pub device: Option<i64>,
    pub operation: &'static str,
    pub connection_serial: u64,
    pub gateway_instance: String,
    pub peer: String,
    pub answer: String,
}

// ----------------------------------------------------------------------- queue

/// Queue row states, stored as text.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    /// An operator let the queue go on past this failed command.
    pub const SKIPPED: &str = "skipped";
    /// An operator cancelled this command before it succeeded.
    pub const ABORTED: &str = "aborted";
    /// A reboot command the agent answered with RebootUnderway; the queue waits
    /// until the agent says Hello with a new boot id.
    pub const REBOOTING: &str = "rebooting";
    /// Handed out and not answered within its kind's timeout. The queue halts
    /// as for a failure; a late result from the agent is still accepted.
    pub const TIMED_OUT: &str = "timedout";
    /// Not handed out before the deadline the operator gave it (the device was
    /// offline); closed without running.
    pub const EXPIRED: &str = "expired";
    /// States in which a command is done and no longer blocks its queue.
    pub const CLOSED: [&str; 4] = [SUCCEEDED, SKIPPED, ABORTED, EXPIRED];
    /// Every other state: the head of a queue is the first command in one of
    /// these. The database derives `commands.in_queue` from the same list
    /// (migration 000008), which a test checks against this one.
    pub const OPEN: [&str; 5] = [PENDING, SENT, FAILED, REBOOTING, TIMED_OUT];
    /// States an operator's retry, skip or abort acts on: the queue is halted.
    pub const HALTING: [&str; 2] = [FAILED, TIMED_OUT];
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = commands)]
pub struct CommandRow {
    pub id: i64,
    pub device_id: i64,
    pub sequence: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub run: i32,
    pub result: Option<String>,
    pub model_version_id: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewCommand {
    pub kind: String,
    pub payload: String,
    /// Unix ms after which the command is no longer handed out (None: never).
    pub expires_at: Option<i64>,
}

/// What the head of a device's queue is.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    Command(CommandRow),
    Empty,
    /// A command failed; nothing more is handed out until an operator acts.
    Halted,
    /// A reboot is under way; nothing is handed out until the device is back.
    Rebooting,
}

/// What an agent reported for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Succeeded,
    Failed,
    /// Only for reboot commands: the device is going down now.
    RebootUnderway,
}

/// How a result report was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The row moved from sent to its final state.
    Final,
    /// The row was already final: a repeated report, accepted and ignored.
    Repeated,
}

/// What one sweep closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub expired: usize,
    /// (command, device, kind) of each command that timed out.
    pub timed_out: Vec<(i64, i64, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: i64,
    pub sent: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub rebooting: i64,
    pub timed_out: i64,
    /// Skipped or aborted by an operator, or expired.
    pub closed: i64,
}

impl QueueCounts {
    /// The queue's state as an operator reads it: `halted` (a command failed or
    /// timed out; an operator must act), `rebooting`, `running` (a command is
    /// out), `waiting` (work queued, none out: the agent is offline or not yet
    /// asked) or `idle`.
    pub fn state(&self) -> &'static str {
        if self.failed + self.timed_out > 0 {
            "halted"
        } else if self.rebooting > 0 {
            "rebooting"
        } else if self.sent > 0 {
            "running"
        } else if self.pending > 0 {
            "waiting"
        } else {
            "idle"
        }
    }

    /// Tallies `(state, count)` rows.
    fn of(rows: Vec<(String, i64)>) -> Self {
        let mut counts = Self::default();
        for (state, n) in rows {
            match state.as_str() {
                state::PENDING => counts.pending = n,
                state::SENT => counts.sent = n,
                state::SUCCEEDED => counts.succeeded = n,
                state::FAILED => counts.failed = n,
                state::REBOOTING => counts.rebooting = n,
                state::TIMED_OUT => counts.timed_out = n,
                _ => counts.closed += n,
            }
        }
        counts
    }

    pub fn total(&self) -> i64 {
        self.pending + self.sent + self.succeeded + self.failed + self.rebooting + self.timed_out + self.closed
    }
}

/// The first `$n` open commands of a device's queue, as a query (expanded
/// once per backend, since only MySQL takes `FOR UPDATE`). `in_queue` is
/// generated by the database from `state` (1 for the states in
/// [`state::OPEN`]); through the `(device_id, in_queue, sequence)` index the
/// head is the first entry read, however long the queue.
macro_rules! front_of_queue {
    ($device:expr, $n:expr) => {
        commands::table
            .filter(commands::device_id.eq($device))
            .filter(commands::in_queue.eq(1))
            .order(commands::sequence)
            .limit($n)
            .select(CommandRow::as_select())
    };
}

/// Reads the first `n` open commands of a device's queue, oldest first.
///
/// Two gateways on one database serialise here rather than race: on MySQL the
/// rows are read with `FOR UPDATE` (the latest committed rows, locked until
/// commit); SQLite transactions start with `BEGIN IMMEDIATE`. Not
/// `SKIP LOCKED`: skipping a locked head would hand out the command *behind*
/// it and break the queue's order. The moves themselves are still
/// compare-and-set.
fn front(conn: &mut DbConnection, device: i64, n: i64) -> QueryResult<Vec<CommandRow>> {
    match conn {
        DbConnection::Mysql(c) => front_of_queue!(device, n).for_update().load(c),
        DbConnection::Sqlite(c) => front_of_queue!(device, n).load(c),
    }
}

/// What the head of a queue allows.
enum Front {
    /// It goes out (again, if it is already `sent`).
    Out(CommandRow),
    /// Nothing goes out: the queue is halted or rebooting.
    Stop(Head),
    /// A pending command past its deadline: it closes, and the one behind it
    /// is the new head.
    Expired(i64),
}

fn classify(row: CommandRow) -> Front {
    if state::HALTING.contains(&row.state.as_str()) {
        Front::Stop(Head::Halted)
    } else if row.state == state::REBOOTING {
        Front::Stop(Head::Rebooting)
    // A command past its deadline closes here even if the sweep has not run yet.
    } else if row.state == state::PENDING && row.expires_at.is_some_and(|deadline| deadline <= now_ms()) {
        Front::Expired(row.id)
    } else {
        Front::Out(row)
    }
}

/// The row as handed out by `MarkSent` or `FinishAndSend`.
fn sent(row: CommandRow) -> Head {
    Head::Command(CommandRow { state: state::SENT.to_owned(), attempts: row.attempts + 1, ..row })
}

/// Finds the head of a device's queue and, if it can go out, moves it to
/// `sent`. `None`: the head just expired; look again.
fn hand_out(conn: &mut DbConnection, device: i64) -> Result<Option<Head>> {
    let Some(row) = front(conn, device, 1)?.pop() else { return Ok(Some(Head::Empty)) };
    let row = match classify(row) {
        Front::Out(row) => row,
        Front::Stop(head) => return Ok(Some(head)),
        Front::Expired(id) => {
            expire(conn, id)?;
            return Ok(None);
        }
    };
    let moved = hot::MarkSent { id: row.id, from: &row.state, now: now_ms() }.execute(conn)?;
    if moved == 0 {
        return Err(StorageError::Conflict(format!("command {} changed while it was being handed out", row.id)));
    }
    Ok(Some(sent(row)))
}

/// The common `ReportResult` in two statements instead of three: the
/// reported command is the head of its queue and waiting for this success or
/// failure. Reads the head and the command behind it, then records the result
/// and, after a success, hands out the next command with one `UPDATE`.
/// `None` when the report is anything else (a repeat, a reboot, a command not
/// at the head); nothing has changed then.
fn finish_at_head(
    conn: &mut DbConnection,
    device: i64,
    command: i64,
    reported: Reported,
    message: &str,
) -> Result<Option<Head>> {
    let to = match reported {
        Reported::Succeeded => state::SUCCEEDED,
        Reported::Failed => state::FAILED,
        Reported::RebootUnderway => return Ok(None),
    };
    let mut rows = front(conn, device, 2)?.into_iter();
    let waiting =
        |head: CommandRow| head.id == command && [state::SENT, state::TIMED_OUT].contains(&head.state.as_str());
    if !rows.next().is_some_and(waiting) {
        return Ok(None);
    }
    let now = now_ms();
    let conflict = || StorageError::Conflict(format!("command {command} changed while its result was recorded"));
    // After a failure the queue halts at this command: nothing goes out.
    let behind = if to == state::SUCCEEDED { rows.next().map(classify) } else { None };
    if let Some(Front::Out(next)) = behind {
        let (sent_id, from) = (next.id, next.state.as_str());
        let changed =
            hot::FinishAndSend { device, finished: command, to, message, sent: sent_id, from, now }.execute(conn)?;
        return if changed == 2 { Ok(Some(sent(next))) } else { Err(conflict()) };
    }
    let finished = hot::MarkFinished { id: command, device, to, message, now }.execute(conn)?;
    if finished != 1 {
        return Err(conflict());
    }
    Ok(Some(match behind {
        None if to == state::FAILED => Head::Halted,
        None => Head::Empty,
        Some(Front::Stop(head)) => head,
        // Rare: the next command expired; look again from the start. (`Out`
        // went out with `FinishAndSend` above.)
        Some(Front::Expired(_) | Front::Out(_)) => next_head(conn, device)?,
    }))
}

/// Hands out the head of a device's queue, closing expired commands before it.
fn next_head(conn: &mut DbConnection, device: i64) -> Result<Head> {
    loop {
        if let Some(head) = hand_out(conn, device)? {
            return Ok(head);
        }
    }
}

fn expire(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::update(commands::table.filter(commands::id.eq(id)).filter(commands::state.eq(state::PENDING)))
        .set((
            commands::state.eq(state::EXPIRED),
            commands::result.eq("expired: not handed out before its deadline"),
            commands::finished_at.eq(now_ms()),
        ))
        .execute(conn)
}

/// Moves a handed-out command to its final state, once: a repeated report of a
/// command already final is accepted and changes nothing.
fn record(conn: &mut DbConnection, device: i64, command: i64, reported: Reported, message: &str) -> Result<Recorded> {
    let finish = |conn: &mut DbConnection, to| {
        hot::MarkFinished { id: command, device, to, message, now: now_ms() }.execute(conn).map(|changed| changed == 1)
    };
    // The common case costs one statement: a success or failure of a command
    // that is waiting for it. Anything else reads the row to say what it is.
    let any_kind = match reported {
        Reported::Succeeded => Some(state::SUCCEEDED),
        Reported::Failed => Some(state::FAILED),
        Reported::RebootUnderway => None,
    };
    if let Some(to) = any_kind
        && finish(conn, to)?
    {
        return Ok(Recorded::Final);
    }
    let row: CommandRow = commands::table
        .filter(commands::id.eq(command))
        .filter(commands::device_id.eq(device))
        .select(CommandRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "command for this device", name: command.to_string() })?;
    match row.state.as_str() {
        // A late result for a timed-out command is still the truth about it.
        state::SENT | state::TIMED_OUT => {}
        state::PENDING => return Err(StorageError::Invalid(format!("command {command} was not handed out"))),
        _ => return Ok(Recorded::Repeated),
    }
    let to = match reported {
        Reported::RebootUnderway if row.kind == "reboot" => state::REBOOTING,
        Reported::RebootUnderway => return Err(StorageError::Invalid(format!("command {command} is not a reboot"))),
        // Waiting a moment ago, yet the update above missed it: it moved in between.
        Reported::Succeeded | Reported::Failed => {
            return Err(StorageError::Conflict(format!("command {command} changed while its result was recorded")));
        }
    };
    if !finish(conn, to)? {
        return Err(StorageError::Conflict(format!("command {command} changed while its result was recorded")));
    }
    Ok(Recorded::Final)
}

/// Appends commands after everything already in a device's queue; with a
/// model version, points the device at it as its desired state.
fn append(conn: &mut DbConnection, device: i64, model_version: Option<i64>, new: &[NewCommand]) -> Result<Vec<i64>> {
    let last: Option<i64> = commands::table
        .filter(commands::device_id.eq(device))
        .select(diesel::dsl::max(commands::sequence))
        .first(conn)?;
    let mut sequence = last.unwrap_or(0);
    let mut ids = Vec::with_capacity(new.len());
    for command in new {
        sequence += 1;
        diesel::insert_into(commands::table)
            .values((
                commands::device_id.eq(device),
                commands::sequence.eq(sequence),
                commands::kind.eq(&command.kind),
                commands::payload.eq(&command.payload),
                commands::state.eq(state::PENDING),
                commands::attempts.eq(0),
                commands::model_version_id.eq(model_version),
                commands::expires_at.eq(command.expires_at),
                commands::created_at.eq(now_ms()),
            ))
            .execute(conn)?;
        ids.push(
            commands::table
                .filter(commands::device_id.eq(device))
                .filter(commands::sequence.eq(sequence))
                .select(commands::id)
                .first(conn)?,
        );
    }
    if let Some(version) = model_version {
        diesel::update(devices::table.find(device))
            .set((devices::desired_model_version_id.eq(version), devices::provisioned_from.eq(last.unwrap_or(0) + 1)))
            .execute(conn)?;
    }
    Ok(ids)
}

impl Storage {
    /// Appends commands to a device's queue after everything already in it and
    /// points the device at `model_version` as its desired state.
    /// `model_version` is the version these commands build (None for commands
    /// such as a reboot that do not change the model).
    pub fn enqueue(&self, device: i64, model_version: Option<i64>, new: &[NewCommand]) -> Result<Vec<i64>> {
        self.transaction(|conn| append(conn, device, model_version, new))
    }

    /// Appends the same commands to the queues of the named devices of `site`
    /// in one transaction: if any device is unknown or belongs to another
    /// site, no queue changes.
    pub fn enqueue_on(&self, site: &str, devices: &[String], new: &[NewCommand]) -> Result<Vec<DeviceRow>> {
        self.transaction(|conn| {
            let site_id = site_id(conn, site)?;
            let mut rows = Vec::with_capacity(devices.len());
            for name in devices {
                let row: DeviceRow = devices::table
                    .filter(devices::name.eq(name))
                    .select(DeviceRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| StorageError::NotFound { what: "device", name: name.clone() })?;
                if row.site_id != site_id {
                    return Err(StorageError::Invalid(format!("device `{name}` is not of site `{site}`")));
                }
                append(conn, row.id, None, new)?;
                rows.push(row);
            }
            Ok(rows)
        })
    }

    /// Hands out the head of a device's queue. A command already `sent` is
    /// handed out again (its result was not received); otherwise the oldest
    /// pending one moves to `sent`.
    pub fn next_command(&self, device: i64) -> Result<Head> {
        self.exchange(|session| session.next_command(device))
    }

    /// Records a result for a command that was handed out to `device`.
    pub fn record_result(&self, device: i64, command: i64, reported: Reported, message: &str) -> Result<Recorded> {
        self.transaction(|conn| {
            let recorded = record(conn, device, command, reported, message)?;
            mark_applied_if_done(conn, device)?;
            Ok(recorded)
        })
    }

    /// `ReportResult`: records the result and hands out the next command in one
    /// transaction — one commit per command instead of two, which is what the
    /// gateway's throughput is bound by.
    pub fn report_and_next(
        &self,
        device: i64,
        command: i64,
        reported: Reported,
        message: &str,
    ) -> Result<(Recorded, Head)> {
        self.exchange(|session| session.report_and_next(device, command, reported, message))
    }

    /// Closes what time has decided: pending commands past their deadline
    /// become `expired`; commands handed out longer ago than their kind's
    /// timeout (`timeouts`: kind → seconds) become `timedout`, halting their
    /// queue. Returns the commands that timed out, for the log.
    pub fn sweep(&self, timeouts: &std::collections::BTreeMap<String, u64>) -> Result<Swept> {
        let now = now_ms();
        // Candidates are read without locks, then each moved by its id with a
        // compare-and-set. A locking range scan of the `state` index would
        // also lock the entries just past its range, which exchanges are
        // moving at that moment, and deadlock with them (seen under
        // `outfit-gateway bench`: 2 agents in 4 runs got an Internal fault).
        self.transaction(|conn| {
            let overdue: Vec<i64> = commands::table
                .filter(commands::state.eq(state::PENDING))
                .filter(commands::expires_at.le(now))
                .select(commands::id)
                .load(conn)?;
            let mut expired = 0;
            for ids in overdue.chunks(1000) {
                expired += diesel::update(
                    commands::table
                        .filter(commands::id.eq_any(ids))
                        .filter(commands::state.eq(state::PENDING))
                        .filter(commands::expires_at.le(now)),
                )
                .set((
                    commands::state.eq(state::EXPIRED),
                    commands::result.eq("expired: not handed out before its deadline"),
                    commands::finished_at.eq(now),
                ))
                .execute(conn)?;
            }
            let mut timed_out = Vec::new();
            let cutoff = |secs: u64| now - (secs as i64) * 1000;
            // One pass over the handed-out commands (at most one per device):
            // those out longer than the shortest timeout, then each by its kind's.
            let Some(shortest) = timeouts.values().min() else { return Ok(Swept { expired, timed_out }) };
            let late: Vec<(i64, i64, String, Option<i64>)> = commands::table
                .filter(commands::state.eq(state::SENT))
                .filter(commands::sent_at.le(cutoff(*shortest)))
                .filter(commands::kind.eq_any(timeouts.keys()))
                .select((commands::id, commands::device_id, commands::kind, commands::sent_at))
                .load(conn)?;
            for (id, device, kind, sent_at) in late {
                let secs = timeouts[&kind];
                if sent_at.is_none_or(|t| t > cutoff(secs)) {
                    continue;
                }
                let still_late = commands::table.filter(commands::id.eq(id)).filter(commands::state.eq(state::SENT));
                let moved = diesel::update(still_late.filter(commands::sent_at.le(cutoff(secs))))
                    .set((
                        commands::state.eq(state::TIMED_OUT),
                        commands::result.eq(format!("timed out: no result within {secs} s")),
                        commands::finished_at.eq(now),
                    ))
                    .execute(conn)?;
                // Answered, or handed out again, since it was read.
                if moved == 1 {
                    timed_out.push((id, device, kind));
                }
            }
            Ok(Swept { expired, timed_out })
        })
    }

    /// Operator action on a halted queue: the failed command becomes pending
    /// again (same id, same sequence) and will be handed out next. Returns its id.
    pub fn retry_failed(&self, device: i64) -> Result<i64> {
        self.resolve_failed(device, state::PENDING)
    }

    /// Operator action on a halted queue: the failed command is closed as
    /// skipped and the queue goes on. Returns its id.
    pub fn skip_failed(&self, device: i64) -> Result<i64> {
        self.resolve_failed(device, state::SKIPPED)
    }

    fn resolve_failed(&self, device: i64, to: &str) -> Result<i64> {
        let next_run = if to == state::PENDING { 1 } else { 0 };
        self.transaction(|conn| {
            let (failed, was): (i64, String) = commands::table
                .filter(commands::device_id.eq(device))
                .filter(commands::in_queue.eq(1)) // halting states are open: read the queue, not the history
                .filter(commands::state.eq_any(state::HALTING))
                .order(commands::sequence)
                .select((commands::id, commands::state))
                .first(conn)
                .optional()?
                .ok_or_else(|| {
                    StorageError::Invalid("the queue is not halted: no command has failed or timed out".into())
                })?;
            diesel::update(commands::table.filter(commands::id.eq(failed)).filter(commands::state.eq(was)))
                .set((
                    commands::state.eq(to),
                    commands::run.eq(commands::run + next_run),
                    commands::finished_at.eq(now_ms()),
                ))
                .execute(conn)?;
            Ok(failed)
        })
    }

    /// Operator action: cancels every command not yet handed out, and a failed
    /// one. A command already `sent` is left to finish. Returns how many closed.
    pub fn abort_queue(&self, device: i64) -> Result<usize> {
        self.transaction(|conn| {
            let open = commands::table.filter(commands::device_id.eq(device)).filter(commands::in_queue.eq(1));
            Ok(diesel::update(open.filter(commands::state.eq_any([state::PENDING, state::FAILED, state::TIMED_OUT])))
                .set((commands::state.eq(state::ABORTED), commands::finished_at.eq(now_ms())))
                .execute(conn)?)
        })
    }

    /// Those of `devices` in whose queue a plug-in delivery or rollback waits
    /// (or runs): past it, the gateway does not know the device's plug-ins.
    pub fn plugin_switches_queued(&self, devices: &[i64]) -> Result<std::collections::BTreeSet<i64>> {
        let mut conn = self.conn()?;
        let mut switching = std::collections::BTreeSet::new();
        // In slices: a statement takes a bounded number of parameters.
        for slice in devices.chunks(1000) {
            let found: Vec<i64> = commands::table
                .filter(commands::device_id.eq_any(slice))
                .filter(commands::in_queue.eq(1))
                .filter(commands::kind.eq_any(["install-plugin", "rollback-plugin"]))
                .select(commands::device_id)
                .distinct()
                .load(&mut conn)?;
            switching.extend(found);
        }
        Ok(switching)
    }

    /// The agents of the registered devices among `names` (of `site`, when
    /// given: another site's devices are not described), one query per thousand.
    pub fn device_agents(&self, site: Option<&str>, names: &[String]) -> Result<Vec<DeviceAgent>> {
        let mut conn = self.conn()?;
        let mut rows = Vec::with_capacity(names.len());
        for slice in names.chunks(1000) {
            let mut query =
                devices::table.filter(devices::name.eq_any(slice)).select(DeviceAgent::as_select()).into_boxed();
            if let Some(site) = site {
                query =
                    query.filter(devices::site_id.eq_any(sites::table.filter(sites::name.eq(site)).select(sites::id)));
            }
            rows.extend(query.load(&mut conn)?);
        }
        Ok(rows)
    }

    pub fn queue_counts(&self, device: i64) -> Result<QueueCounts> {
        self.exchange(|session| session.queue_counts(device))
    }

    pub fn commands(&self, device: i64) -> Result<Vec<CommandRow>> {
        let mut conn = self.conn()?;
        Ok(commands::table
            .filter(commands::device_id.eq(device))
            .order(commands::sequence)
            .select(CommandRow::as_select())
            .load(&mut conn)?)
    }
}

/// One agent exchange inside one transaction on one pooled connection: the
/// device lookup, the queue change and the exchange log commit together, once
/// (the agent endpoint is bound by commits and round trips), and the pool's
/// liveness check runs once per exchange instead of once per query.
pub struct Session<'c> {
    conn: &'c mut DbConnection,
}

impl Session<'_> {
    pub fn device(&mut self, name: &str) -> Result<Option<DeviceRow>> {
        let conn = &mut *self.conn;
        Ok(devices::table.filter(devices::name.eq(name)).select(DeviceRow::as_select()).first(conn).optional()?)
    }

    /// Records an agent's Hello (with its report of its plug-ins, JSON of
    /// [`crate::serving::AgentReport`]; None from an agent too old to send
    /// one) for `device` as this exchange read it. A new boot id while a
    /// reboot command is `rebooting` means the reboot happened: that command
    /// succeeds and the queue goes on. Returns the id of the command so
    /// completed, and how many commands wait for the agent (pending or
    /// handed out): what `HelloResponse` tells it.
    ///
    /// Two statements in the common case (an update and the counts), since
    /// every agent start costs one Hello: the previous boot id comes with the
    /// row the certificate lookup read, and the counts tell whether a reboot
    /// is waiting at all.
    pub fn record_hello(
        &mut self,
        device: &DeviceRow,
        boot_id: &str,
        agent_version: &str,
        poke_url: Option<&str>,
        agent_report: Option<&str>,
    ) -> Result<(Option<i64>, i64)> {
        let seen =
            hot::RecordHello { device: device.id, boot_id, agent_version, poke_url, agent_report, now: now_ms() };
        seen.execute(&mut *self.conn)?;
        let counts = self.open_counts(device.id)?;
        let waiting = counts.pending + counts.sent;
        let previous = device.boot_id.as_deref();
        if previous == Some(boot_id) || counts.rebooting == 0 {
            return Ok((None, waiting)); // a reconnect, or no reboot under way
        }
        let conn = &mut *self.conn;
        let rebooting: Option<i64> = commands::table
            .filter(commands::device_id.eq(device.id))
            .filter(commands::in_queue.eq(1))
            .filter(commands::state.eq(state::REBOOTING))
            .select(commands::id)
            .first(conn)
            .optional()?;
        let Some(id) = rebooting else { return Ok((None, waiting)) };
        let message = format!("rebooted: boot id {} -> {boot_id}", previous.unwrap_or("unknown"));
        let done =
            diesel::update(commands::table.filter(commands::id.eq(id)).filter(commands::state.eq(state::REBOOTING)))
                .set((
                    commands::state.eq(state::SUCCEEDED),
                    commands::result.eq(message),
                    commands::finished_at.eq(now_ms()),
                ))
                .execute(conn)?;
        if done != 1 {
            return Ok((None, waiting)); // another exchange completed it just now
        }
        mark_applied_if_done(conn, device.id)?;
        Ok((Some(id), waiting))
    }

    /// Logs one SOAP exchange and the connection it arrived on.
    pub fn record_exchange(&mut self, exchange: &ExchangeRecord) -> Result<()> {
        let conn = &mut *self.conn;
        diesel::insert_into(exchanges::table)
            .values((
                exchanges::device_id.eq(exchange.device),
                exchanges::operation.eq(exchange.operation),
                exchanges::connection_serial.eq(exchange.connection_serial as i64),
                exchanges::gateway_instance.eq(&exchange.gateway_instance),
                exchanges::peer.eq(&exchange.peer),
                exchanges::answer.eq(&exchange.answer),
                exchanges::created_at.eq(now_ms()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Logs one exchange of `device`, if the certificate it arrived with
    /// (`fingerprint`) is valid now; returns whether it is (see
    /// `soap::Certified`: nothing else of the exchange may commit if not).
    pub fn record_exchange_if_certified(&mut self, exchange: &ExchangeRecord, fingerprint: &str) -> Result<bool> {
        let serial = exchange.connection_serial as i64;
        let log = hot::LogIfCertified { record: exchange, fingerprint, connection_serial: serial, now: now_ms() };
        Ok(log.execute(&mut *self.conn)? == 1)
    }

    pub fn queue_counts(&mut self, device: i64) -> Result<QueueCounts> {
        let rows: Vec<(String, i64)> = commands::table
            .filter(commands::device_id.eq(device))
            .group_by(commands::state)
            .select((commands::state, diesel::dsl::count_star()))
            .load(&mut *self.conn)?;
        Ok(QueueCounts::of(rows))
    }

    /// [`Self::queue_counts`] of the open commands only (the closed ones
    /// count 0): what a `Hello` needs, read from the queue, not the history.
    fn open_counts(&mut self, device: i64) -> Result<QueueCounts> {
        let rows: Vec<(String, i64)> = commands::table
            .filter(commands::device_id.eq(device))
            .filter(commands::in_queue.eq(1))
            .group_by(commands::state)
            .select((commands::state, diesel::dsl::count_star()))
            .load(&mut *self.conn)?;
        Ok(QueueCounts::of(rows))
    }

    /// Hands out the head of a device's queue. A command already `sent` is
    /// handed out again (its result was not received); otherwise the oldest
    /// pending one moves to `sent`.
    pub fn next_command(&mut self, device: i64) -> Result<Head> {
        next_head(self.conn, device)
    }

    /// `ReportResult`: records the result and hands out the next command (in
    /// the exchange's one transaction).
    pub fn report_and_next(
        &mut self,
        device: i64,
        command: i64,
        reported: Reported,
        message: &str,
    ) -> Result<(Recorded, Head)> {
        let (recorded, head) = match finish_at_head(self.conn, device, command, reported, message)? {
            Some(head) => (Recorded::Final, head),
            None => (record(self.conn, device, command, reported, message)?, self.next_command(device)?),
        };
        // Only a drained queue can have reached its model.
        if head == Head::Empty {
            mark_applied_if_done(self.conn, device)?;
        }
        Ok((recorded, head))
    }
}

// --------------------------------------------------------------------- scripts

/// A stored script, as `script list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSummary {
    pub site: String,
    pub name: String,
    pub description: String,
    pub steps: i64,
}

impl Storage {
    /// Saves a script of `site` (created if the site is new); an existing
    /// script of that name gets the new description and steps. Returns true
    /// when the script is new.
    pub fn save_script(&self, site: &str, name: &str, description: &str, steps: &[NewCommand]) -> Result<bool> {
        self.transaction(|conn| {
            let site = ensure_site(conn, site)?;
            let existing: Option<i64> = scripts::table
                .filter(scripts::site_id.eq(site))
                .filter(scripts::name.eq(name))
                .select(scripts::id)
                .first(conn)
                .optional()?;
            let id = match existing {
                Some(id) => {
                    diesel::update(scripts::table.find(id)).set(scripts::description.eq(description)).execute(conn)?;
                    diesel::delete(script_steps::table.filter(script_steps::script_id.eq(id))).execute(conn)?;
                    id
                }
                None => {
                    diesel::insert_into(scripts::table)
                        .values((
                            scripts::site_id.eq(site),
                            scripts::name.eq(name),
                            scripts::description.eq(description),
                            scripts::created_at.eq(now_ms()),
                        ))
                        .execute(conn)?;
                    scripts::table
                        .filter(scripts::site_id.eq(site))
                        .filter(scripts::name.eq(name))
                        .select(scripts::id)
                        .first(conn)?
                }
            };
            for (position, step) in steps.iter().enumerate() {
                diesel::insert_into(script_steps::table)
                    .values((
                        script_steps::script_id.eq(id),
                        script_steps::position.eq(position as i32),
                        script_steps::kind.eq(&step.kind),
                        script_steps::payload.eq(&step.payload),
                    ))
                    .execute(conn)?;
            }
            Ok(existing.is_none())
        })
    }

    /// The steps of a script in order, as commands to enqueue; None if no such script.
    pub fn script_steps(&self, site: &str, name: &str) -> Result<Option<Vec<NewCommand>>> {
        let mut conn = self.conn()?;
        let id: Option<i64> = scripts::table
            .inner_join(sites::table)
            .filter(sites::name.eq(site))
            .filter(scripts::name.eq(name))
            .select(scripts::id)
            .first(&mut conn)
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        let steps: Vec<(String, String)> = script_steps::table
            .filter(script_steps::script_id.eq(id))
            .order(script_steps::position)
            .select((script_steps::kind, script_steps::payload))
            .load(&mut conn)?;
        Ok(Some(steps.into_iter().map(|(kind, payload)| NewCommand { kind, payload, expires_at: None }).collect()))
    }

    pub fn scripts(&self) -> Result<Vec<ScriptSummary>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, String, String, i64)> = scripts::table
            .inner_join(sites::table)
            .order((sites::name, scripts::name))
            .select((sites::name, scripts::name, scripts::description, scripts::id))
            .load(&mut conn)?;
        let mut summaries = Vec::with_capacity(rows.len());
        for (site, name, description, id) in rows {
            let steps = script_steps::table.filter(script_steps::script_id.eq(id)).count().get_result(&mut conn)?;
            summaries.push(ScriptSummary { site, name, description, steps });
        }
        Ok(summaries)
    }

    /// Names of the devices of `model` in `site`.
    pub fn devices_of_model(&self, site: &str, model: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        Ok(devices::table
            .inner_join(models::table)
            .inner_join(sites::table)
            .filter(sites::name.eq(site))
            .filter(models::name.eq(model))
            .order(devices::name)
            .select(devices::name)
            .load(&mut conn)?)
    }
}

#[cfg(test)]
mod tests;
