//! A script file (`outfit_files::script`) made into the steps the store
//! keeps: its templates read, each step checked, then the packages its steps
//! install stored in the repository.

use crate::repository::{Repository, RepositoryError};
use outfit_domain::command::{FileAttributes, Payload};
use outfit_domain::queue::NewCommand;
use outfit_files::FileError;
use outfit_files::script::{ScriptFile, StepSpec};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("step {step}: {message}")]
    Step { step: usize, message: String },
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// A script file read, its packages stored: what the store keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub site: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<NewCommand>,
}

/// The site and name of the script in `file`.
pub fn site_of(file: &Path) -> Result<(String, String), ScriptError> {
    let spec = ScriptFile::read(file)?;
    Ok((spec.site, spec.name))
}

/// Reads a script file, checks its steps, and stores the packages they install.
pub fn read_script(repository: &Repository, file: &Path) -> Result<Script, ScriptError> {
    let spec = ScriptFile::read(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut payloads = Vec::with_capacity(spec.steps.len());
    let mut packages = Vec::new();
    for (i, step) in spec.steps.into_iter().enumerate() {
        let payload = match step {
            StepSpec::Install { package, package_name, version, format, sha256, plugin } => {
                packages.push((i, base.join(&package), sha256));
                Payload::Install {
                    component: package_name.clone(),
                    package_name,
                    version,
                    format,
                    sha256: String::new(),
                    size: 0,
                    storage_key: String::new(),
                    plugin,
                }
            }
            StepSpec::Configure { component, path, template, parameters, mode, owner, group, plugin } => {
                let template = outfit_files::read(&base.join(&template))?;
                let attributes = FileAttributes { mode, owner, group };
                let parameters = parameters.into_iter().collect();
                Payload::Configure { component, path, template, parameters, attributes, plugin }
            }
            StepSpec::Reboot => Payload::Reboot,
            StepSpec::Network { interface, address, gateway, dns } => {
                Payload::Network { interface, address, gateway, dns }
            }
            StepSpec::Service { name, action } => Payload::Service { name, action },
        };
        payload.validate().map_err(|message| ScriptError::Step { step: i + 1, message })?;
        payloads.push(payload);
    }
    for (i, path, expected) in packages {
        let stored = repository.put_file(&path, expected.as_deref())?;
        if let Payload::Install { sha256, size, storage_key, .. } = &mut payloads[i] {
            (*sha256, *size, *storage_key) = (stored.sha256.clone(), stored.size, stored.sha256);
        }
    }
    let steps = NewCommand::all(&payloads, None);
    Ok(Script { site: spec.site, name: spec.name, description: spec.description, steps })
}
