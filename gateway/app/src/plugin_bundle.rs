//! Plug-ins delivered like packages: a signed bundle directory (made with
//! `outfit-plugin sign`: `plugin.wasm`, `manifest.toml`, `signature`, and
//! from `outfit-plugin precompile` signed artifacts `precompiled-TARGET.cwasm`
//! with `precompiled-TARGET.signature`) is packed into one tar archive
//! (`outfit_wsdl::bundle`, package format `oplugin`), stored in the
//! repository — packed here, or uploaded packed by the `outfit` CLI — and
//! queued as an `install-plugin` command; `rollback-plugin` returns a device
//! to the version it ran before.
//!
//! **Boundary:** the gateway does not judge a plug-in. It reads the manifest
//! only for the plug-in's name and version; the agent verifies the signature
//! against its own trusted keys before it compiles anything.

use crate::repository::{Repository, RepositoryError, Stored};
use outfit_domain::command::Payload;
use outfit_wsdl::bundle::{self, BundleError};
use std::path::Path;

pub use outfit_wsdl::bundle::FORMAT;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    #[error("no package {0} in the repository; upload the packed bundle first")]
    NotStored(String),
}

/// A bundle stored in the repository, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub size: i64,
    /// Targets it carries precompiled code for.
    pub precompiled: Vec<String>,
}

impl Packed {
    fn of(contents: bundle::Contents, stored: Stored) -> Self {
        Self {
            name: contents.name,
            version: contents.version,
            sha256: stored.sha256,
            size: stored.size,
            precompiled: contents.precompiled,
        }
    }

    pub fn payload(&self) -> Payload {
        Payload::InstallPlugin {
            name: self.name.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            storage_key: self.sha256.clone(),
            precompiled: self.precompiled.clone(),
        }
    }
}

/// Packs the bundle directory `dir` into the repository.
pub fn pack(repository: &Repository, dir: &Path) -> Result<Packed, PluginError> {
    let staging = tempfile::NamedTempFile::new().map_err(BundleError::Pack)?;
    let contents = bundle::pack(dir, staging.as_file())?;
    let stored = repository.put_file(staging.path(), None)?;
    Ok(Packed::of(contents, stored))
}

/// The packed bundle stored under `sha256` (uploaded by the CLI), checked.
pub fn stored(repository: &Repository, sha256: &str) -> Result<Packed, PluginError> {
    let found = repository.stored(sha256)?.ok_or_else(|| PluginError::NotStored(sha256.to_owned()))?;
    let path = repository.path(sha256)?;
    let file = std::fs::File::open(&path)
        .map_err(|source| RepositoryError::Io { path: path.display().to_string(), source })?;
    Ok(Packed::of(bundle::inspect(file)?, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_a_bundle_reproducibly_and_refuses_a_bad_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let repository = Repository::new(dir.path().join("repo"));
        let bundle = dir.path().join("bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(bundle.join("manifest.toml"), "name = \"debian\"\nversion = \"0.2.0\"\nworld = \"w\"\n")
            .unwrap();
        std::fs::write(bundle.join("plugin.wasm"), b"\0asm").unwrap();
        std::fs::write(bundle.join("signature"), "00").unwrap();
        let first = pack(&repository, &bundle).unwrap();
        assert_eq!((first.name.as_str(), first.version.as_str()), ("debian", "0.2.0"));
        assert_eq!(pack(&repository, &bundle).unwrap(), first, "the same bundle packs to the same digest");
        let mut archive = tar::Archive::new(std::fs::File::open(repository.path(&first.sha256).unwrap()).unwrap());
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(names, bundle::FILES);
        assert_eq!(stored(&repository, &first.sha256).unwrap(), first, "an uploaded bundle reads back the same");
        std::fs::write(bundle.join("precompiled-pulley64.signature"), "00").unwrap();
        std::fs::write(bundle.join("precompiled-pulley64.cwasm"), b"ELF").unwrap();
        std::fs::write(bundle.join("notes.txt"), "not packed").unwrap();
        let with_artifact = pack(&repository, &bundle).unwrap();
        let mut archive =
            tar::Archive::new(std::fs::File::open(repository.path(&with_artifact.sha256).unwrap()).unwrap());
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(
            names,
            [&bundle::FILES[..], &["precompiled-pulley64.cwasm", "precompiled-pulley64.signature"]].concat(),
            "artifacts travel with the bundle, other files do not"
        );
        assert_eq!(with_artifact.precompiled, ["pulley64"]);
        // Code without its signature, or a name no agent accepts, would be
        // refused on every device: refused here instead, saying why.
        std::fs::remove_file(bundle.join("precompiled-pulley64.signature")).unwrap();
        let err = pack(&repository, &bundle).unwrap_err().to_string();
        assert!(err.contains("precompiled-pulley64.signature come together"), "{err}");
        std::fs::remove_file(bundle.join("precompiled-pulley64.cwasm")).unwrap();
        std::fs::write(bundle.join("precompiled-x86 64.cwasm"), b"ELF").unwrap();
        let err = pack(&repository, &bundle).unwrap_err().to_string();
        assert!(err.contains("precompiled-x86 64.cwasm is not named precompiled-TARGET.cwasm"), "{err}");
        std::fs::remove_file(bundle.join("precompiled-x86 64.cwasm")).unwrap();

        std::fs::write(bundle.join("manifest.toml"), "name = \"../etc\"\nversion = \"1\"\n").unwrap();
        assert!(matches!(pack(&repository, &bundle), Err(PluginError::Bundle(BundleError::BadName(_)))));
        std::fs::write(bundle.join("manifest.toml"), "version = \"1\"\n").unwrap();
        let err = pack(&repository, &bundle).unwrap_err();
        assert!(err.to_string().contains("not a plug-in manifest"), "{err}");
        std::fs::remove_file(bundle.join("signature")).unwrap();
        std::fs::write(bundle.join("manifest.toml"), "name = \"debian\"\nversion = \"1\"\n").unwrap();
        assert!(matches!(pack(&repository, &bundle), Err(PluginError::Bundle(BundleError::Read { .. }))));
    }
}
