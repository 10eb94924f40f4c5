//! Model files: a TOML description of a device type (one role per category,
//! each a list of components with their package and configuration), read and
//! checked, then its packages stored in the repository to give the domain's
//! [`Model`].
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
//! # optional: mode = "640", owner = "web", group = "adm" in `config`
//! plugin = "files"                          # optional: the plug-in that must serve it
//! parameters = { motd = "hello" }
//! ```

use crate::repository::{Repository, RepositoryError};
use outfit_domain::command::FileAttributes;
use outfit_domain::model::{Component, ConfigFile, Model, PackageRef, Role};
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
    /// The plug-in that must install and configure it on every device;
    /// absent: the agent picks by package format and kind of change.
    pub plugin: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    pub path: String,
    pub template: PathBuf,
    /// Permission bits in octal (`mode = "640"`), owner and group by name on
    /// the device or number; absent: keep what the file has.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl ConfigSpec {
    fn attributes(&self) -> FileAttributes {
        FileAttributes { mode: self.mode.clone(), owner: self.owner.clone(), group: self.group.clone() }
    }
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
}

fn read(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Read { path: path.display().to_string(), source })
}

/// Reads and checks a model file; nothing is stored yet.
pub fn parse(file: &Path) -> Result<ModelFile, ModelError> {
    let text = read(file)?;
    let spec: ModelFile = toml::from_str(&text)
        .map_err(|e| ModelError::Parse { path: file.display().to_string(), message: e.to_string() })?;
    for c in spec.roles.iter().flat_map(|r| &r.components) {
        let invalid = |message: String| ModelError::Component { component: c.name.clone(), message };
        if let Some(config) = &c.config {
            if !config.path.starts_with('/') {
                return Err(invalid(format!("config path `{}` must be absolute", config.path)));
            }
            config.attributes().validate().map_err(invalid)?;
        }
        if let Some(plugin) = &c.plugin {
            crate::plugin_bundle::check_name(plugin).map_err(|e| invalid(e.to_string()))?;
        }
    }
    Ok(spec)
}

impl ModelFile {
    /// The role categories the file names, as rights are checked against them.
    pub fn categories(&self) -> Vec<&str> {
        self.roles.iter().map(|r| r.category.as_str()).collect()
    }

    /// Stores the packages (paths relative to `file`) in the repository and
    /// reads the templates: the model as the store keeps it.
    pub fn into_model(self, file: &Path, repository: &Repository) -> Result<Model, ModelError> {
        let base = file.parent().unwrap_or(Path::new("."));
        let mut roles = Vec::with_capacity(self.roles.len());
        for role in self.roles {
            let mut components = Vec::with_capacity(role.components.len());
            for c in role.components {
                let stored = repository.put_file(&base.join(&c.package), c.sha256.as_deref())?;
                let config = match &c.config {
                    Some(config) => Some(ConfigFile {
                        path: config.path.clone(),
                        template: read(&base.join(&config.template))?,
                        attributes: config.attributes(),
                    }),
                    None => None,
                };
                components.push(Component {
                    name: c.name,
                    package: PackageRef {
                        name: c.package_name,
                        version: c.version,
                        format: c.format,
                        sha256: stored.sha256.clone(),
                        size: stored.size,
                        storage_key: stored.sha256,
                    },
                    config,
                    plugin: c.plugin,
                    parameters: c.parameters.into_iter().collect(),
                });
            }
            roles.push(Role { category: role.category, name: role.name, components });
        }
        Ok(Model { site: self.site, name: self.name, roles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outfit_domain::command::Payload;
    use outfit_domain::model::{self, ImportedModel};
    use outfit_store::Storage;

    fn import(storage: &Storage, repository: &Repository, file: &Path) -> Result<ImportedModel, String> {
        let model = parse(file).and_then(|m| m.into_model(file, repository)).map_err(|e| e.to_string())?;
        storage.import_model(&model).map_err(|e| e.to_string())
    }

    fn model(dir: &Path, config: &str) -> PathBuf {
        model_with(dir, config, "")
    }

    /// `component` is added to the component's table (e.g. `plugin = "files"\n`).
    fn model_with(dir: &Path, config: &str, component: &str) -> PathBuf {
        std::fs::write(dir.join("web_1.0_all.deb"), b"not really a deb").unwrap();
        std::fs::write(dir.join("web.conf.j2"), "port={{ port }}\n").unwrap();
        let text = format!(
            "site = \"s\"\nname = \"web\"\n[[roles]]\ncategory = \"OS\"\nname = \"base\"\n[[roles.components]]\n\
             name = \"web\"\npackage = \"web_1.0_all.deb\"\npackage_name = \"web\"\nversion = \"1.0\"\nformat = \"deb\"\n\
             config = {{ path = \"/etc/web.conf\", template = \"web.conf.j2\"{config} }}\nparameters = {{ port = \"80\" }}\n{component}"
        );
        let file = dir.join("model.toml");
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn file_attributes_go_from_the_model_file_into_the_configure_command() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
        let repository = Repository::new(dir.path().join("repository"));
        let file = model(dir.path(), ", mode = \"640\", owner = \"web\", group = \"adm\"");
        let imported = import(&storage, &repository, &file).unwrap();
        let plan = model::plan(&storage.desired_components(imported.model_version_id).unwrap());
        let Payload::Configure { attributes, .. } = &plan[1] else { panic!("{plan:?}") };
        let wanted = FileAttributes { mode: Some("640".into()), owner: Some("web".into()), group: Some("adm".into()) };
        assert_eq!(attributes, &wanted);
        // The same file again is the same version; without attributes it is a new one.
        assert!(!import(&storage, &repository, &file).unwrap().created);
        let plain = import(&storage, &repository, &model(dir.path(), "")).unwrap();
        assert!(plain.created);
        let plan = model::plan(&storage.desired_components(plain.model_version_id).unwrap());
        let Payload::Configure { attributes, .. } = &plan[1] else { panic!("{plan:?}") };
        assert!(attributes.is_empty());
        // Stored rows without attributes still decode, and a payload without
        // them serializes as it did before.
        assert!(!serde_json::to_string(&plan[1]).unwrap().contains("attributes"));
    }

    #[test]
    fn a_plugin_the_model_names_goes_into_both_commands_of_the_component() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
        let repository = Repository::new(dir.path().join("repository"));
        let plain = import(&storage, &repository, &model(dir.path(), "")).unwrap();
        let named = import(&storage, &repository, &model_with(dir.path(), "", "plugin = \"files\"\n")).unwrap();
        assert!(named.created && named.version == plain.version + 1, "naming a plug-in is a new version");
        let plan = model::plan(&storage.desired_components(named.model_version_id).unwrap());
        let pins: Vec<Option<&str>> = plan
            .iter()
            .map(|p| match p {
                Payload::Install { plugin, .. } | Payload::Configure { plugin, .. } => plugin.as_deref(),
                _ => panic!("{p:?}"),
            })
            .collect();
        assert_eq!(pins, [Some("files"), Some("files")]);
        let plan = model::plan(&storage.desired_components(plain.model_version_id).unwrap());
        assert!(!serde_json::to_string(&plan[0]).unwrap().contains("plugin"), "no pin, no field");
        let err = import(&storage, &repository, &model_with(dir.path(), "", "plugin = \"../x\"\n")).unwrap_err();
        assert!(err.to_string().contains("`../x` is not a plug-in name"), "{err}");
    }

    #[test]
    fn bad_modes_and_owner_names_fail_the_import_and_store_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
        let repository = Repository::new(dir.path().join("repository"));
        for (config, expected) in [
            (", mode = \"4755\"", "mode `4755` is not octal permission bits"),
            (", mode = \"rw-r--r--\"", "is not octal permission bits"),
            (", owner = \"-rf\"", "owner `-rf` is not a user or group name"),
            (", group = \"a:b\"", "group `a:b` is not a user or group name"),
        ] {
            let err = import(&storage, &repository, &model(dir.path(), config)).unwrap_err();
            assert!(err.contains(expected), "{config}: {err}");
        }
        assert!(
            !dir.path().join("repository").exists()
                || std::fs::read_dir(dir.path().join("repository")).unwrap().next().is_none()
        );
    }
}
