//! Where the CLI connects and as whom: named profiles in the user's config
//! directory (`~/.config/outfit/profiles.toml`), each overridable per call by
//! flags or `OUTFIT_*` variables. The password is never stored: it comes from
//! `OUTFIT_PASSWORD` or a prompt.

use crate::failure::{CliError, Exit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One way to reach a gateway's operator listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `https://HOST:PORT` of the operator listener (`operator.url` on the gateway).
    pub gateway: Option<String>,
    /// The gateway's CA certificate (`ca.pem`), pinned.
    pub ca: Option<PathBuf>,
    /// An operator client certificate and its key (`outfit operator cert`) …
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// … or a user name for a UsernameToken (password from OUTFIT_PASSWORD or a prompt).
    pub user: Option<String>,
}

impl Profile {
    /// `self`, with every setting `over` has replacing its own.
    pub fn overridden(self, over: Profile) -> Profile {
        Profile {
            gateway: over.gateway.or(self.gateway),
            ca: over.ca.or(self.ca),
            cert: over.cert.or(self.cert),
            key: over.key.or(self.key),
            user: over.user.or(self.user),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfileFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The profiles file: `$OUTFIT_CONFIG`, else `outfit/profiles.toml` in the
/// user's config directory.
pub fn path() -> Result<PathBuf, CliError> {
    if let Some(path) = std::env::var_os("OUTFIT_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    let dir = dirs::config_dir().ok_or_else(|| {
        CliError::new(Exit::Usage, "cannot tell where your config directory is")
            .help("set OUTFIT_CONFIG to the profiles file to use")
    })?;
    Ok(dir.join("outfit").join("profiles.toml"))
}

fn load() -> Result<ProfileFile, CliError> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            CliError::new(Exit::Usage, format!("{} is not a profiles file: {e}", path.display()))
                .help("fix it, or write it anew with `outfit profile set`")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfileFile::default()),
        Err(e) => Err(CliError::new(Exit::Usage, format!("cannot read {}: {e}", path.display()))),
    }
}

/// The named profile (missing is empty unless it was asked for by name).
pub fn get(name: &str, asked: bool) -> Result<Profile, CliError> {
    match load()?.profiles.remove(name) {
        Some(profile) => Ok(profile),
        None if !asked => Ok(Profile::default()),
        None => Err(CliError::new(Exit::Usage, format!("no profile named `{name}`"))
            .help(format!("create it with `outfit profile set {name} --gateway URL --ca FILE …`"))),
    }
}

/// Saves `profile` under `name` (merged into what that profile had).
pub fn set(name: &str, profile: Profile) -> Result<PathBuf, CliError> {
    let mut file = load()?;
    let merged = file.profiles.remove(name).unwrap_or_default().overridden(profile);
    file.profiles.insert(name.to_owned(), merged);
    let path = path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::new(Exit::Usage, format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = toml::to_string(&file).expect("profiles serialize");
    std::fs::write(&path, text)
        .map_err(|e| CliError::new(Exit::Usage, format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// Every profile, by name.
pub fn all() -> Result<BTreeMap<String, Profile>, CliError> {
    Ok(load()?.profiles)
}
