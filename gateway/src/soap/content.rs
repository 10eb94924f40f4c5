//! Model content as the contracts carry it (`RoleSpec`, shared by the
//! operator and peer services) and as the domain holds it.

use outfit_app::Refusal;
use outfit_domain::command::FileAttributes;
use outfit_domain::model::{Component, ConfigFile, PackageRef, Role};
use outfit_wsdl::operator as wire;

pub(crate) fn template_text(base64_text: &str, what: &str) -> Result<String, Refusal> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text.trim())
        .map_err(|e| Refusal::invalid(format!("{what}: the template is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Refusal::invalid(format!("{what}: the template is not UTF-8 text")))
}

fn template_base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A role as the contract carries it, as the domain's (packages by sha256;
/// their sizes are filled in from the repository).
pub(crate) fn role(r: wire::RoleSpec) -> Result<Role, Refusal> {
    let mut components = Vec::with_capacity(r.component.len());
    for c in r.component {
        let config = match c.config {
            Some(config) => Some(ConfigFile {
                template: template_text(&config.template, &format!("component `{}`", c.name))?,
                path: config.path,
                attributes: FileAttributes { mode: config.mode, owner: config.owner, group: config.group },
            }),
            None => None,
        };
        let mut parameters: Vec<(String, String)> = c.parameter.into_iter().map(|p| (p.name, p.value)).collect();
        parameters.sort();
        components.push(Component {
            name: c.name,
            package: PackageRef {
                name: c.package_name,
                version: c.version,
                format: c.format,
                storage_key: c.sha256.clone(),
                sha256: c.sha256,
                size: 0,
            },
            config,
            plugin: c.plugin,
            parameters,
        });
    }
    Ok(Role { category: r.category, name: r.name, components })
}

pub(crate) fn role_spec(r: Role) -> wire::RoleSpec {
    let component = r
        .components
        .into_iter()
        .map(|c| wire::ComponentSpec {
            name: c.name,
            package_name: c.package.name,
            version: c.package.version,
            format: c.package.format,
            sha256: c.package.sha256,
            config: c.config.map(|f| wire::ConfigSpec {
                template: template_base64(&f.template),
                path: f.path,
                mode: f.attributes.mode,
                owner: f.attributes.owner,
                group: f.attributes.group,
            }),
            plugin: c.plugin,
            parameter: c.parameters.into_iter().map(|(name, value)| wire::ParameterValue { name, value }).collect(),
        })
        .collect();
    wire::RoleSpec { category: r.category, name: r.name, component }
}
