//! Commands that send content: packages (uploaded as they are), model and
//! script files (read with `outfit-files`, their packages uploaded first
//! unless the gateway has them, then imported by digest) and plug-in bundles (packed, uploaded, installed).

use crate::client::Client;
use crate::failure::{CliError, Exit};
use outfit_files::model::ModelFile;
use outfit_files::script::{ScriptFile, StepSpec};
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};
use std::collections::HashSet;
use std::path::Path;

fn file_error(e: outfit_files::FileError) -> CliError {
    CliError::new(Exit::Usage, e.to_string()).help("fix the file and run the command again")
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The packages a model or script file names, uploaded unless the gateway's
/// repository holds them already (it stores packages by digest, so the same
/// digest is the same bytes): re-importing a model sends no package again.
struct Packages<'a> {
    client: &'a Client,
    /// Asked once, at the first package (`ListPackages`); empty if the
    /// operator may not list them, and then every package is sent.
    stored: Option<HashSet<String>>,
}

impl<'a> Packages<'a> {
    fn new(client: &'a Client) -> Self {
        Self { client, stored: None }
    }

    /// Uploads the package at `path` unless it is stored, checking the digest
    /// the file declares; returns its sha256.
    fn upload(&mut self, path: &Path, declared: Option<&str>) -> Result<String, CliError> {
        let (actual, size) = crate::client::digest(path)?;
        if let Some(declared) = declared.filter(|d| *d != actual) {
            return Err(CliError::new(
                Exit::Invalid,
                format!("package {} has sha256 {actual}, not the {declared} it was declared with", path.display()),
            )
            .help("fix the sha256 in the file, or rebuild the package"));
        }
        let client = self.client;
        let stored = self.stored.get_or_insert_with(|| match client.call(Q::ListPackages(wire::ListPackages {})) {
            Ok(R::ListPackages(r)) => r.package.into_iter().map(|p| p.sha256).collect(),
            _ => HashSet::new(),
        });
        if !stored.contains(&actual) {
            client.upload_digested(path, &actual, size)?;
        }
        Ok(actual)
    }
}

fn parameters(map: std::collections::BTreeMap<String, String>) -> Vec<wire::ParameterValue> {
    map.into_iter().map(|(name, value)| wire::ParameterValue { name, value }).collect()
}

/// `outfit model import FILE`: the request, its packages uploaded.
pub fn model(client: &Client, file: &Path) -> Result<wire::ImportModel, CliError> {
    let spec = ModelFile::read(file).map_err(file_error)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut packages = Packages::new(client);
    let mut role = Vec::with_capacity(spec.roles.len());
    for r in spec.roles {
        let mut component = Vec::with_capacity(r.components.len());
        for c in r.components {
            let sha256 = match (&c.package, c.sha256) {
                (Some(package), declared) => packages.upload(&base.join(package), declared.as_deref())?,
                // A package the gateway holds already (an exported model).
                (None, Some(sha256)) => sha256,
                (None, None) => {
                    return Err(CliError::new(
                        Exit::Usage,
                        format!("{}: component `{}` names neither a package file nor a sha256", file.display(), c.name),
                    )
                    .help("give the package file (`package = \"…\"`) or its sha256"));
                }
            };
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
    Ok(wire::ImportModel { site: spec.site, name: spec.name, role, ..wire::ImportModel::default() })
}

/// `outfit script import FILE`: the request, its packages uploaded.
pub fn script(client: &Client, file: &Path) -> Result<wire::ImportScript, CliError> {
    let spec = ScriptFile::read(file).map_err(file_error)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut packages = Packages::new(client);
    let mut step = Vec::with_capacity(spec.steps.len());
    for s in spec.steps {
        step.push(match s {
            StepSpec::Install { package, package_name, version, format, sha256, plugin } => wire::StepSpec {
                kind: "install".into(),
                sha256: Some(packages.upload(&base.join(&package), sha256.as_deref())?),
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
