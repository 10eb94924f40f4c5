//! Rust mirrors of the elements in `outfit-agent.xsd`. Every element of the XSD
//! has exactly one type here; `tests/contract.rs` checks both directions.
//!
//! yaserde silently leaves a missing element at its default, so every request
//! type has a `validate` that names the first missing required field.

use yaserde::{YaDeserialize, YaSerialize};

/// A package digest as the protocol carries it: 64 lowercase hex digits
/// (also the repository's storage key).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! required {
    ($self:ident, $($field:ident => $name:literal),+ $(,)?) => {{
        $( if $self.$field.is_empty() { return Err($name); } )+
        Ok(())
    }};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub enum CommandKind {
    #[default]
    #[yaserde(rename = "install")]
    Install,
    #[yaserde(rename = "configure")]
    Configure,
    #[yaserde(rename = "reboot")]
    Reboot,
    #[yaserde(rename = "installPlugin")]
    InstallPlugin,
    #[yaserde(rename = "rollbackPlugin")]
    RollbackPlugin,
    #[yaserde(rename = "network")]
    Network,
    #[yaserde(rename = "service")]
    Service,
    #[yaserde(rename = "upgrade")]
    Upgrade,
    #[yaserde(rename = "remove")]
    Remove,
    /// Report the device's inventory now (ReportInventory).
    #[yaserde(rename = "inventory")]
    Inventory,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Configure => "configure",
            Self::Reboot => "reboot",
            Self::InstallPlugin => "installPlugin",
            Self::RollbackPlugin => "rollbackPlugin",
            Self::Network => "network",
            Self::Service => "service",
            Self::Upgrade => "upgrade",
            Self::Remove => "remove",
            Self::Inventory => "inventory",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub enum Outcome {
    #[default]
    #[yaserde(rename = "succeeded")]
    Succeeded,
    #[yaserde(rename = "failed")]
    Failed,
    #[yaserde(rename = "rebootUnderway")]
    RebootUnderway,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RebootUnderway => "rebootUnderway",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Succeeded, Self::Failed, Self::RebootUnderway].into_iter().find(|o| o.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Package {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub version: String,
    #[yaserde(prefix = "o")]
    pub format: String,
    #[yaserde(prefix = "o")]
    pub sha256: String,
    #[yaserde(prefix = "o")]
    pub size: i64,
    #[yaserde(prefix = "o")]
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Parameter {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ConfigFile {
    #[yaserde(prefix = "o")]
    pub component: String,
    #[yaserde(prefix = "o")]
    pub path: String,
    /// Base64 of the template text; see [`ConfigFile::new`] and [`ConfigFile::template_text`].
    #[yaserde(prefix = "o")]
    pub template: String,
    #[yaserde(prefix = "o", rename = "parameter")]
    pub parameters: Vec<Parameter>,
    /// Permission bits in octal ("640"); see [`ConfigFile::mode_bits`].
    #[yaserde(prefix = "o")]
    pub mode: Option<String>,
    #[yaserde(prefix = "o")]
    pub owner: Option<String>,
    #[yaserde(prefix = "o")]
    pub group: Option<String>,
}

impl ConfigFile {
    pub fn new(component: &str, path: &str, template: &str, parameters: Vec<Parameter>) -> Self {
        use base64::Engine as _;
        Self {
            component: component.to_owned(),
            path: path.to_owned(),
            template: base64::engine::general_purpose::STANDARD.encode(template),
            parameters,
            ..Self::default()
        }
    }

    /// The permission bits `mode` names, if any.
    pub fn mode_bits(&self) -> Result<Option<u32>, String> {
        self.mode.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(permission_bits).transpose()
    }

    /// The template text exactly as the model holds it.
    pub fn template_text(&self) -> Result<String, &'static str> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.template.trim())
            .map_err(|_| "template is not valid base64")?;
        String::from_utf8(bytes).map_err(|_| "template is not UTF-8")
    }
}

/// Permission bits written in octal ("640"), at most 777: the one reading of
/// a configuration file's `mode`, for the gateway's import and the agent.
pub fn permission_bits(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text, 8) {
        Ok(bits) if bits <= 0o777 => Ok(bits),
        _ => Err(format!("mode `{text}` is not octal permission bits (at most 777), e.g. \"640\"")),
    }
}

/// An interface's IPv4 configuration: DHCP when `address` is absent.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct NetworkConfig {
    #[yaserde(prefix = "o")]
    pub interface: String,
    /// ADDRESS/PREFIX, e.g. 192.0.2.10/24.
    #[yaserde(prefix = "o")]
    pub address: Option<String>,
    #[yaserde(prefix = "o")]
    pub gateway: Option<String>,
    #[yaserde(prefix = "o")]
    pub dns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ServiceChange {
    #[yaserde(prefix = "o")]
    pub name: String,
    /// start, stop, restart, enable or disable.
    #[yaserde(prefix = "o")]
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Command {
    #[yaserde(prefix = "o")]
    pub id: String,
    #[yaserde(prefix = "o")]
    pub sequence: i64,
    #[yaserde(prefix = "o")]
    pub run: i32,
    #[yaserde(prefix = "o")]
    pub kind: Option<CommandKind>,
    #[yaserde(prefix = "o")]
    pub install: Option<Package>,
    #[yaserde(prefix = "o")]
    pub configure: Option<ConfigFile>,
    /// The plug-in a `rollbackPlugin` command returns to its previous version;
    /// for `install` and `configure`, the one the model names to serve it.
    #[yaserde(prefix = "o")]
    pub plugin: Option<String>,
    #[yaserde(prefix = "o")]
    pub network: Option<NetworkConfig>,
    #[yaserde(prefix = "o")]
    pub service: Option<ServiceChange>,
    #[yaserde(prefix = "o")]
    pub remove: Option<RemovedPackage>,
}

/// A package to remove, by name; `format` chooses the plug-in.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct RemovedPackage {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub format: String,
}

impl Command {
    /// Checks that the command carries what its kind needs.
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, id => "id")?;
        match self.kind {
            None => Err("kind"),
            Some(CommandKind::Install) if self.install.is_none() => Err("install"),
            Some(CommandKind::Configure) if self.configure.is_none() => Err("configure"),
            Some(CommandKind::InstallPlugin | CommandKind::Upgrade) if self.install.is_none() => Err("install"),
            Some(CommandKind::Remove) if self.remove.as_ref().is_none_or(|r| r.name.is_empty()) => Err("remove"),
            Some(CommandKind::RollbackPlugin) if self.plugin.as_deref().is_none_or(str::is_empty) => Err("plugin"),
            Some(CommandKind::Network) if self.network.as_ref().is_none_or(|n| n.interface.is_empty()) => {
                Err("network")
            }
            Some(CommandKind::Service) if self.service.as_ref().is_none_or(|s| s.name.is_empty()) => Err("service"),
            Some(_) => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct NoCommand {
    #[yaserde(prefix = "o")]
    pub reason: String,
}

/// The gateway's answer to `NextCommand` and `ReportResult` (XSD type
/// `Instruction`): exactly one of `command` and `no_command` is set.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Instruction {
    #[yaserde(prefix = "o")]
    pub command: Option<Command>,
    #[yaserde(prefix = "o", rename = "noCommand")]
    pub no_command: Option<NoCommand>,
}

impl Instruction {
    pub fn command(command: Command) -> Self {
        Self { command: Some(command), no_command: None }
    }
    pub fn nothing(reason: &str) -> Self {
        Self { command: None, no_command: Some(NoCommand { reason: reason.to_owned() }) }
    }
}

/// The one operation served without a client certificate: a certificate
/// signing request (PEM) for the key the agent generated, with a one-time
/// token (the fast path) or without one (the request waits for an operator's
/// approval; the agent asks again with the same key).
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Enrol", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Enrol {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o")]
    pub site: String,
    #[yaserde(prefix = "o")]
    pub token: Option<String>,
    #[yaserde(prefix = "o")]
    pub csr: String,
}

impl Enrol {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", site => "site", csr => "csr")
    }

    /// The token, if one was sent (an empty element counts as none).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref().filter(|t| !t.is_empty())
    }
}

/// The device's certificate (PEM), signed by the gateway's CA, or, for a
/// request without a token, word that it waits for an operator's approval.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "EnrolResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct EnrolResponse {
    #[yaserde(prefix = "o")]
    pub certificate: Option<String>,
    #[yaserde(prefix = "o")]
    pub waiting: Option<String>,
}

/// Asks for a new certificate before the one presented expires, for a new
/// key (the request is signed with it). Served only to a valid certificate
/// of the device named.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Renew", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Renew {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o")]
    pub csr: String,
}

impl Renew {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", csr => "csr")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "RenewResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct RenewResponse {
    #[yaserde(prefix = "o")]
    pub certificate: String,
}

/// Asks whether the person holding `operator` (a client certificate they
/// presented at the agent's access endpoint, base64 DER) may do `action` on this
/// device, for role `category` (absent: any category of the device's site).
/// The gateway decides from its trust hierarchy and audits the question.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Authorise", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Authorise {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o")]
    pub operator: String,
    #[yaserde(prefix = "o")]
    pub action: String,
    #[yaserde(prefix = "o")]
    pub category: Option<String>,
    /// For a configuration change: the component of the device's model (of
    /// `category`) whose configuration file is at `path`; a change to any
    /// other file is refused.
    #[yaserde(prefix = "o")]
    pub component: Option<String>,
    #[yaserde(prefix = "o")]
    pub path: Option<String>,
    /// What the person asked for, for the audit log.
    #[yaserde(prefix = "o")]
    pub object: String,
    /// The person's network address as the agent saw it.
    #[yaserde(prefix = "o")]
    pub from: String,
}

impl Authorise {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", operator => "operator", action => "action", object => "object", from => "from")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "AuthoriseResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct AuthoriseResponse {
    #[yaserde(prefix = "o")]
    pub allowed: bool,
    /// The operator the certificate belongs to (empty if none).
    #[yaserde(prefix = "o")]
    pub operator: String,
    /// Why not, when not allowed.
    #[yaserde(prefix = "o")]
    pub reason: String,
}

/// Asks where package `name` at `version` is, for a plug-in that needs it
/// mid-change (WIT 1.2 `fetch`). The gateway answers only for a component of
/// the device's model; the agent downloads and verifies it like any package.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "LocatePackage", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct LocatePackage {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub version: String,
}

impl LocatePackage {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", name => "name", version => "version")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "LocatePackageResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct LocatePackageResponse {
    #[yaserde(prefix = "o")]
    pub package: Package,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Hello", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Hello {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o", rename = "bootId")]
    pub boot_id: String,
    #[yaserde(prefix = "o", rename = "agentVersion")]
    pub agent_version: String,
    #[yaserde(prefix = "o", rename = "pokeUrl")]
    pub poke_url: Option<String>,
    /// OS family and architecture (`linux-x86_64`); absent from agents that
    /// predate the report, which is how the gateway tells them apart.
    #[yaserde(prefix = "o")]
    pub platform: Option<String>,
    #[yaserde(prefix = "o", rename = "plugin")]
    pub plugins: Vec<PluginReport>,
    /// Set by an agent without a compiler: the target its bundles must carry
    /// signed precompiled code for.
    #[yaserde(prefix = "o", rename = "precompiledOnly")]
    pub precompiled_only: Option<String>,
}

/// One plug-in an agent has loaded, as it reports it in `Hello`.
#[derive(Debug, Clone, PartialEq, Eq, Default, YaSerialize, YaDeserialize)]
#[yaserde(prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct PluginReport {
    #[yaserde(prefix = "o")]
    pub name: String,
    #[yaserde(prefix = "o")]
    pub version: String,
    /// The WIT world it was built against (`outfit:plugin/os-plugin@1.1.0`).
    #[yaserde(prefix = "o")]
    pub world: String,
    /// Package formats it installs.
    #[yaserde(prefix = "o", rename = "format")]
    pub formats: Vec<String>,
    /// Kinds of change it handles (`configure`, `network`, `service`).
    #[yaserde(prefix = "o", rename = "change")]
    pub changes: Vec<String>,
}

impl Hello {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", boot_id => "bootId", agent_version => "agentVersion")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "HelloResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct HelloResponse {
    #[yaserde(prefix = "o", rename = "pendingCommands")]
    pub pending_commands: i64,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "NextCommand", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct NextCommand {
    #[yaserde(prefix = "o")]
    pub device: String,
}

impl NextCommand {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "NextCommandResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct NextCommandResponse {
    #[yaserde(prefix = "o")]
    pub command: Option<Command>,
    #[yaserde(prefix = "o", rename = "noCommand")]
    pub no_command: Option<NoCommand>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "ReportResult", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ReportResult {
    #[yaserde(prefix = "o")]
    pub device: String,
    #[yaserde(prefix = "o", rename = "commandId")]
    pub command_id: String,
    #[yaserde(prefix = "o")]
    pub outcome: Option<Outcome>,
    #[yaserde(prefix = "o")]
    pub message: String,
}

impl ReportResult {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, device => "device", command_id => "commandId")?;
        self.outcome.map(|_| ()).ok_or("outcome")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "ReportResultResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct ReportResultResponse {
    #[yaserde(prefix = "o")]
    pub command: Option<Command>,
    #[yaserde(prefix = "o", rename = "noCommand")]
    pub no_command: Option<NoCommand>,
}

macro_rules! instruction_conversions {
    ($($ty:ident),+) => {$(
        impl From<Instruction> for $ty {
            fn from(i: Instruction) -> Self {
                Self { command: i.command, no_command: i.no_command }
            }
        }
        impl From<$ty> for Instruction {
            fn from(r: $ty) -> Self {
                Self { command: r.command, no_command: r.no_command }
            }
        }
    )+};
}
instruction_conversions!(NextCommandResponse, ReportResultResponse);

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "Poke", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct Poke {
    #[yaserde(prefix = "o")]
    pub gateway: String,
}

impl Poke {
    pub fn validate(&self) -> Result<(), &'static str> {
        required!(self, gateway => "gateway")
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "PokeResponse", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct PokeResponse {
    #[yaserde(prefix = "o")]
    pub accepted: bool,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(rename = "FaultDetail", prefix = "o", namespaces = { "o" = "urn:outfit:agent:1" })]
pub struct FaultDetail {
    #[yaserde(prefix = "o")]
    pub code: String,
}
