//! Commands that send content: packages (uploaded as they are), model and
//! script files (read with `outfit-files`, their packages uploaded first,
//! then imported by digest) and plug-in bundles (packed, uploaded, installed).

use crate::client::Client;
use crate::failure::{CliError, Exit};
use outfit_files::model::ModelFile;
use outfit_files::script::{ScriptFile, StepSpec};
use outfit_wsdl::operator as wire;
use std::path::Path;

fn file_error(e: outfit_files::FileError) -> CliError {
    CliError::new(Exit::Usage, e.to_string()).help("fix the file and run the command again")
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Uploads a package a file names, checking the digest the file declares.
fn upload(client: &Client, path: &Path, declared: Option<&str>) -> Result<String, CliError> {
    if let Some(declared) = declared {
        let (actual, _) = crate::client::digest(path)?;
        if actual != declared {
            return Err(CliError::new(
                Exit::Invalid,
                format!("package {} has sha256 {actual}, not the {declared} it was declared with", path.display()),
            )
            .help("fix the sha256 in the file, or rebuild the package"));
        }
    }
    Ok(client.upload(path)?.0)
}

fn parameters(map: std::collections::BTreeMap<String, String>) -> Vec<wire::ParameterValue> {
    map.into_iter().map(|(name, value)| wire::ParameterValue { name, value }).collect()
}

/// `outfit model import FILE`: the request, its packages uploaded.
pub fn model(client: &Client, file: &Path) -> Result<wire::ImportModel, CliError> {
    let spec = ModelFile::read(file).map_err(file_error)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut role = Vec::with_capacity(spec.roles.len());
    for r in spec.roles {
        let mut component = Vec::with_capacity(r.components.len());
        for c in r.components {
            let sha256 = upload(client, &base.join(&c.package), c.sha256.as_deref())?;
            let config = match c.config {
                Some(config) => Some(wire::ConfigSpec {
                    path: config.path,
                    template: base64(&outfit_files::read(&base.join(&config.template)).map_err(file_error)?),
                    mode: config.mode,
                    owner: config.owner,
                    group: config.group,
                }),
                None => None,
            };
            component.push(wire::ComponentSpec {
                name: c.name,
                package_name: c.package_name,
                version: c.version,
                format: c.format,
                sha256,
                config,
                plugin: c.plugin,
                parameter: parameters(c.parameters),
            });
        }
        role.push(wire::RoleSpec { category: r.category, name: r.name, component });
    }
    Ok(wire::ImportModel { site: spec.site, name: spec.name, role })
}

/// `outfit script import FILE`: the request, its packages uploaded.
pub fn script(client: &Client, file: &Path) -> Result<wire::ImportScript, CliError> {
    let spec = ScriptFile::read(file).map_err(file_error)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut step = Vec::with_capacity(spec.steps.len());
    for s in spec.steps {
        step.push(match s {
            StepSpec::Install { package, package_name, version, format, sha256, plugin } => wire::StepSpec {
                kind: "install".into(),
                sha256: Some(upload(client, &base.join(&package), sha256.as_deref())?),
                package_name: Some(package_name),
                version: Some(version),
                format: Some(format),
                plugin,
                ..Default::default()
            },
            StepSpec::Configure { component, path, template, parameters: values, mode, owner, group, plugin } => {
                wire::StepSpec {
                    kind: "configure".into(),
                    component: Some(component),
                    path: Some(path),
                    template: Some(base64(&outfit_files::read(&base.join(&template)).map_err(file_error)?)),
                    parameter: parameters(values),
                    mode,
                    owner,
                    group,
                    plugin,
                    ..Default::default()
                }
            }
            StepSpec::Reboot => wire::StepSpec { kind: "reboot".into(), ..Default::default() },
            StepSpec::Network { interface, address, gateway, dns } => wire::StepSpec {
                kind: "network".into(),
                interface: Some(interface),
                address,
                gateway,
                dns,
                ..Default::default()
            },
            StepSpec::Service { name, action } => wire::StepSpec {
                kind: "service".into(),
                service: Some(name),
                action: Some(action),
                ..Default::default()
            },
        });
    }
    let description = (!spec.description.is_empty()).then_some(spec.description);
    Ok(wire::ImportScript { site: spec.site, name: spec.name, description, step })
}

/// Packs the bundle directory `dir` as the agents take it and uploads it;
/// returns its sha256.
pub fn bundle(client: &Client, dir: &Path) -> Result<String, CliError> {
    let staging = tempfile::NamedTempFile::new()
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot make a temporary file: {e}")))?;
    outfit_wsdl::bundle::pack(dir, staging.as_file()).map_err(|e| {
        CliError::new(Exit::Usage, format!("{}: {e}", dir.display()))
            .help("a bundle is what `outfit-plugin sign` made: plugin.wasm, manifest.toml, signature")
    })?;
    Ok(client.upload(staging.path())?.0)
}
