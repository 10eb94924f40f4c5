//! Model files: a TOML description of a device type (one role per category,
//! each a list of components with their package and configuration) and its
//! import into the repository and database as new immutable versions.
//!
//! ```toml
//! site = "demo"
//! name = "webserver"
//! [[roles]]
//! category = "OS"
//! name = "base"
//! [[roles.components]]
//! name = "base"
//! package = "packages/base_1.0.0_all.deb"   # relative to this file
//! package_name = "outfit-demo-base"
//! version = "1.0.0"
//! format = "deb"
//! sha256 = "…"                              # optional: checked on upload
//! config = { path = "/etc/demo/base.conf", template = "templates/base.conf.j2" }
//! parameters = { motd = "hello" }
//! ```

use crate::repository::{Repository, RepositoryError};
use crate::storage::{ImportedModel, NewComponent, NewModel, NewRole, Storage, StorageError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub site: String,
    pub name: String,
    pub roles: Vec<RoleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub components: Vec<ComponentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: String,
    pub package: PathBuf,
    pub package_name: String,
    pub version: String,
    pub format: String,
    pub sha256: Option<String>,
    pub config: Option<ConfigSpec>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    pub path: String,
    pub template: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a valid model file: {message}")]
    Parse { path: String, message: String },
    #[error("component `{component}`: {message}")]
    Component { component: String, message: String },
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn read(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Read { path: path.display().to_string(), source })
}

/// Reads a model file, stores its packages and records it as a model version.
pub fn import(storage: &Storage, repository: &Repository, file: &Path) -> Result<ImportedModel, ModelError> {
    let text = read(file)?;
    let spec: ModelFile = toml::from_str(&text)
        .map_err(|e| ModelError::Parse { path: file.display().to_string(), message: e.to_string() })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut roles = Vec::with_capacity(spec.roles.len());
    for role in &spec.roles {
        let mut components = Vec::with_capacity(role.components.len());
        for c in &role.components {
            let invalid = |message: String| ModelError::Component { component: c.name.clone(), message };
            if let Some(config) = &c.config
                && !config.path.starts_with('/')
            {
                return Err(invalid(format!("config path `{}` must be absolute", config.path)));
            }
            let stored = repository.put_file(&base.join(&c.package), c.sha256.as_deref())?;
            let template = match &c.config {
                Some(config) => Some(read(&base.join(&config.template))?),
                None => None,
            };
            components.push(NewComponent {
                name: c.name.clone(),
                package_name: c.package_name.clone(),
                package_version: c.version.clone(),
                package_format: c.format.clone(),
                sha256: stored.sha256.clone(),
                size: stored.size,
                storage_key: stored.sha256,
                config_path: c.config.as_ref().map(|c| c.path.clone()),
                config_template: template,
                parameters: c.parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            });
        }
        roles.push(NewRole { category: role.category.clone(), name: role.name.clone(), components });
    }
    Ok(storage.import_model(&NewModel { site: spec.site, name: spec.name, roles })?)
}
