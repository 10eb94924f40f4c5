//! Plug-ins delivered like packages: a signed bundle directory (made with
//! `outfit-plugin sign`: `plugin.wasm`, `manifest.toml`, `signature`, and
//! from `outfit-plugin precompile` signed artifacts `precompiled-TARGET.cwasm`
//! with `precompiled-TARGET.signature`) is packed
//! into one tar archive (package format `oplugin`), stored in the repository,
//! and queued as an `install-plugin` command; `rollback-plugin` returns a
//! device to the version it ran before.
//!
//! **Boundary:** the gateway does not judge a plug-in. It reads the manifest
//! only for the plug-in's name and version; the agent verifies the signature
//! against its own trusted keys before it compiles anything.

use crate::repository::{Repository, RepositoryError};
use outfit_domain::command::Payload;
use outfit_wsdl::bundle::{self, ArtifactFile, FILES};
use serde::Deserialize;
use std::path::Path;

/// The package format of a packed bundle.
pub const FORMAT: &str = "oplugin";
/// The bundle's precompiled artifacts and their signatures, in name order,
/// and the targets they are for. Each piece of code must come with its
/// signature and the other way round, and a `precompiled-` file must be named
/// as the agent expects: otherwise every agent would refuse the delivery.
fn precompiled_files(dir: &Path) -> Result<(Vec<String>, Vec<String>), PluginError> {
    let read_dir = |source| PluginError::Read { path: dir.display().to_string(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let name = entry.map_err(read_dir)?.file_name().to_string_lossy().into_owned();
        if bundle::looks_like_artifact(&name) {
            files.push(name);
        }
    }
    files.sort();
    let (mut code, mut signed) = (Vec::new(), Vec::new());
    for name in &files {
        match ArtifactFile::parse(name) {
            Some(ArtifactFile::Code { target }) => code.push(target.to_owned()),
            Some(ArtifactFile::Signature { target }) => signed.push(target.to_owned()),
            None => {
                return Err(PluginError::Artifact(format!(
                    "{name} is not named precompiled-TARGET.cwasm or precompiled-TARGET.signature"
                )));
            }
        }
    }
    if let Some(target) = code.iter().chain(&signed).find(|t| !(code.contains(t) && signed.contains(t))) {
        let (code_file, signature_file) = bundle::artifact_files(target);
        return Err(PluginError::Artifact(format!(
            "{code_file} and {signature_file} come together; run `outfit-plugin precompile --target {target}` again"
        )));
    }
    Ok((files, code))
}

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: not a plug-in manifest with a name and a version: {message}")]
    Manifest { path: String, message: String },
    #[error("`{0}` is not a plug-in name (letters, digits, `-` and `_`)")]
    BadName(String),
    #[error("pack the bundle: {0}")]
    Pack(std::io::Error),
    #[error("precompiled code of the bundle: {0}")]
    Artifact(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

#[derive(Debug, Deserialize)]
struct Manifest {
    name: String,
    version: String,
}

/// Plug-in names become directory names on the device.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// [`valid_name`], as the error that says what a name may hold.
pub fn check_name(name: &str) -> Result<(), PluginError> {
    if valid_name(name) { Ok(()) } else { Err(PluginError::BadName(name.to_owned())) }
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

/// Packs the bundle in `dir` into the repository.
pub fn pack(repository: &Repository, dir: &Path) -> Result<Packed, PluginError> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read(&path).map_err(|source| PluginError::Read { path: path.display().to_string(), source })
    };
    let manifest_path = dir.join(bundle::MANIFEST_FILE).display().to_string();
    let manifest: Manifest = std::str::from_utf8(&read(bundle::MANIFEST_FILE)?)
        .map_err(|e| e.to_string())
        .and_then(|text| toml::from_str::<Manifest>(text).map_err(|e| e.message().to_owned()))
        .map_err(|message| PluginError::Manifest { path: manifest_path.clone(), message })?;
    check_name(&manifest.name)?;
    if manifest.version.is_empty() || manifest.version.len() > 64 {
        return Err(PluginError::Manifest { path: manifest_path, message: "the version is empty or too long".into() });
    }
    let staging = tempfile::NamedTempFile::new().map_err(PluginError::Pack)?;
    let mut archive = tar::Builder::new(staging.as_file());
    let (artifacts, precompiled) = precompiled_files(dir)?;
    let files = FILES.iter().map(|f| f.to_string()).chain(artifacts);
    for file in files {
        let bytes = read(&file)?;
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        // A fixed time: packing the same bundle twice gives the same digest.
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive.append_data(&mut header, &file, bytes.as_slice()).map_err(PluginError::Pack)?;
    }
    archive.finish().map_err(PluginError::Pack)?;
    drop(archive);
    let stored = repository.put_file(staging.path(), None)?;
    Ok(Packed { name: manifest.name, version: manifest.version, sha256: stored.sha256, size: stored.size, precompiled })
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
        assert_eq!(names, FILES);
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
            [&FILES[..], &["precompiled-pulley64.cwasm", "precompiled-pulley64.signature"]].concat(),
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
        assert!(matches!(pack(&repository, &bundle), Err(PluginError::BadName(_))));
        std::fs::write(bundle.join("manifest.toml"), "version = \"1\"\n").unwrap();
        let err = pack(&repository, &bundle).unwrap_err();
        assert!(err.to_string().contains("not a plug-in manifest"), "{err}");
        std::fs::remove_file(bundle.join("signature")).unwrap();
        std::fs::write(bundle.join("manifest.toml"), "name = \"debian\"\nversion = \"1\"\n").unwrap();
        assert!(matches!(pack(&repository, &bundle), Err(PluginError::Read { .. })));
    }
}
