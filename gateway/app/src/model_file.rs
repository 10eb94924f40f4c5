//! A model file (`outfit_files::model`) made into the domain's [`Model`]: its
//! templates read, its meaning checked, and only then its packages stored in
//! the repository, so a file with a mistake stores nothing.

use crate::repository::{Repository, RepositoryError};
use outfit_domain::command::FileAttributes;
use outfit_domain::model::{Component, ConfigFile, Model, PackageRef, Role};
use outfit_files::FileError;
use outfit_files::model::ModelFile;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Reads a model file; nothing is stored yet.
pub fn parse(file: &Path) -> Result<ModelFile, ModelError> {
    Ok(ModelFile::read(file)?)
}

/// The model `spec` (read from `file`) describes, checked, with its packages
/// stored in the repository.
pub fn into_model(spec: ModelFile, file: &Path, repository: &Repository) -> Result<Model, ModelError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut model = Model { site: spec.site, name: spec.name, roles: Vec::with_capacity(spec.roles.len()) };
    let mut packages = Vec::new();
    for role in spec.roles {
        let mut components = Vec::with_capacity(role.components.len());
        for c in role.components {
            let config = match &c.config {
                Some(config) => Some(ConfigFile {
                    path: config.path.clone(),
                    template: outfit_files::read(&base.join(&config.template))?,
                    attributes: FileAttributes {
                        mode: config.mode.clone(),
                        owner: config.owner.clone(),
                        group: config.group.clone(),
                    },
                }),
                None => None,
            };
            packages.push((c.package.as_ref().map(|p| base.join(p)), c.sha256.clone()));
            let package = PackageRef {
                name: c.package_name,
                version: c.version,
                format: c.format,
                sha256: String::new(),
                size: 0,
                storage_key: String::new(),
            };
            let parameters = c.parameters.into_iter().collect();
            components.push(Component { name: c.name, package, config, plugin: c.plugin, parameters });
        }
        model.roles.push(Role { category: role.category, name: role.name, components });
    }
    model.validate().map_err(ModelError::Invalid)?;
    let components = model.roles.iter_mut().flat_map(|r| r.components.iter_mut());
    for (component, (path, expected)) in components.zip(packages) {
        let stored = match (path, expected) {
            (Some(path), expected) => repository.put_file(&path, expected.as_deref())?,
            (None, Some(sha256)) => repository.stored(&sha256)?.ok_or_else(|| {
                ModelError::Invalid(format!(
                    "component `{}`: no package {sha256} in the repository; name its file with `package`",
                    component.name
                ))
            })?,
            (None, None) => {
                return Err(ModelError::Invalid(format!(
                    "component `{}` names neither a package file nor a sha256",
                    component.name
                )));
            }
        };
        component.package.size = stored.size;
        component.package.storage_key = stored.sha256.clone();
        component.package.sha256 = stored.sha256;
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outfit_domain::command::Payload;
    use outfit_domain::model::ImportedModel;
    use outfit_store::Storage;
    use std::path::PathBuf;

    fn import(storage: &Storage, repository: &Repository, file: &Path) -> Result<ImportedModel, String> {
        let model = parse(file).and_then(|m| into_model(m, file, repository)).map_err(|e| e.to_string())?;
        storage.import_model(&model, &outfit_domain::model::Authorship::new("test", None)).map_err(|e| e.to_string())
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
        let plan = outfit_domain::plan::build(&storage.desired_components(imported.model_version_id).unwrap());
        let Payload::Configure { attributes, .. } = &plan[1] else { panic!("{plan:?}") };
        let wanted = FileAttributes { mode: Some("640".into()), owner: Some("web".into()), group: Some("adm".into()) };
        assert_eq!(attributes, &wanted);
        // The same file again is the same version; without attributes it is a new one.
        assert!(!import(&storage, &repository, &file).unwrap().created);
        let plain = import(&storage, &repository, &model(dir.path(), "")).unwrap();
        assert!(plain.created);
        let plan = outfit_domain::plan::build(&storage.desired_components(plain.model_version_id).unwrap());
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
        let plan = outfit_domain::plan::build(&storage.desired_components(named.model_version_id).unwrap());
        let pins: Vec<Option<&str>> = plan
            .iter()
            .map(|p| match p {
                Payload::Install { plugin, .. } | Payload::Configure { plugin, .. } => plugin.as_deref(),
                _ => panic!("{p:?}"),
            })
            .collect();
        assert_eq!(pins, [Some("files"), Some("files")]);
        let plan = outfit_domain::plan::build(&storage.desired_components(plain.model_version_id).unwrap());
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
