//! Models and what they are made of: a model is one role per category, a role a
//! list of components, a component one package plus its configuration file and
//! parameter values. Declared once here; the model file, the store and the
//! planner all speak these types.

use crate::command::FileAttributes;
use crate::ids::ModelVersionId;

/// A package in the gateway's repository, by the digest of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    /// `deb`, `rpm`, `msi`, `pkg`, …: which plug-in installs it.
    pub format: String,
    pub sha256: String,
    pub size: i64,
    /// Where the repository keeps it (its sha256 today).
    pub storage_key: String,
}

/// Whether `text` is a sha256 digest as the repository names packages: 64
/// lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A component's configuration file: a template rendered with the component's
/// parameters, and the attributes the file must have.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigFile {
    pub path: String,
    pub template: String,
    pub attributes: FileAttributes,
}

/// One software item of a role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Component {
    pub name: String,
    pub package: PackageRef,
    pub config: Option<ConfigFile>,
    /// The plug-in that must serve it (`None`: the agent picks).
    pub plugin: Option<String>,
    /// Parameter values, sorted by name.
    pub parameters: Vec<(String, String)>,
}

/// A named set of components of one role category.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Role {
    pub category: String,
    pub name: String,
    pub components: Vec<Component>,
}

/// A device type of a site: one role per category.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub site: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Model {
    /// Checks what an operator gave, so a mistake fails the import rather
    /// than every device's command: one role per category, absolute
    /// configuration paths, valid file attributes and plug-in names.
    pub fn validate(&self) -> Result<(), String> {
        for (i, role) in self.roles.iter().enumerate() {
            if self.roles[..i].iter().any(|r| r.category == role.category) {
                return Err(format!("model has two roles of category {}", role.category));
            }
            for c in &role.components {
                let invalid = |message: String| format!("component `{}`: {message}", c.name);
                if let Some(config) = &c.config {
                    if !config.path.starts_with('/') {
                        return Err(invalid(format!("config path `{}` must be absolute", config.path)));
                    }
                    config.attributes.validate().map_err(invalid)?;
                }
                if let Some(plugin) = &c.plugin {
                    crate::command::check_plugin_name(plugin).map_err(invalid)?;
                }
            }
        }
        Ok(())
    }
}

/// Who made a version, and why (their words; may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorship {
    pub author: String,
    pub reason: Option<String>,
}

impl Authorship {
    pub fn new(author: impl Into<String>, reason: Option<&str>) -> Self {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        Self { author: author.into(), reason }
    }
}

/// One version of a model as its history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub id: ModelVersionId,
    pub version: i32,
    /// `None` for versions made before authors were recorded.
    pub author: Option<String>,
    pub reason: Option<String>,
    /// A rollback's version: the number of the version whose content it restores.
    pub restores: Option<i32>,
    pub created_at: i64,
    pub current: bool,
}

/// A role category: its rank is the install order (low first; removals go
/// the other way), and how often its software changes (claim 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub rank: i32,
    pub description: Option<String>,
}

/// Category names are what rights and files name: letters, digits, `-`, `_`, at most 64.
pub fn check_category_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid { Ok(()) } else { Err(format!("`{name}` is not a category name (letters, digits, `-` and `_`)")) }
}

/// What storing a model's content gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedModel {
    pub model_version_id: ModelVersionId,
    pub version: i32,
    /// False when the content matched the current version and nothing was added.
    pub created: bool,
    /// The site's home is another data centre: the change went there as this
    /// proposal instead (nothing was added here).
    pub proposed: Option<crate::federation::ProposalRef>,
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

/// A component a model version asks for, with the category of its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredComponent {
    pub category: String,
    pub component: Component,
}
