//! The layout of a plug-in bundle, as it travels from an operator through the
//! gateway's repository to an agent (one tar archive, package format
//! `oplugin`): the file names the packer (the `outfit` CLI, the gateway) and
//! the unpacker (agent) must agree on, how a bundle directory is packed, and
//! what a packed bundle says of itself. What the files mean — signatures,
//! grants, machine code — is the agent's business.

use std::io::{Read, Write};
use std::path::Path;

/// The component.
pub const COMPONENT_FILE: &str = "plugin.wasm";
/// Its name, version, world and granted capabilities.
pub const MANIFEST_FILE: &str = "manifest.toml";
/// The publisher's signature over both.
pub const SIGNATURE_FILE: &str = "signature";
/// The files every bundle has, in the order they are packed (its precompiled
/// artifacts follow, in name order).
pub const FILES: [&str; 3] = [MANIFEST_FILE, COMPONENT_FILE, SIGNATURE_FILE];

const PRECOMPILED_PREFIX: &str = "precompiled-";
const ARTIFACT_SUFFIX: &str = ".cwasm";
const ARTIFACT_SIGNATURE_SUFFIX: &str = ".signature";

/// A target name as it may appear in a file name: a target triple or a Pulley
/// target (`pulley64`), never a path.
pub fn valid_target(target: &str) -> bool {
    !target.is_empty()
        && target.len() <= 64
        && target.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        && !target.starts_with('.')
}

/// The file names of `target`'s machine code and of its signature.
pub fn artifact_files(target: &str) -> (String, String) {
    (
        format!("{PRECOMPILED_PREFIX}{target}{ARTIFACT_SUFFIX}"),
        format!("{PRECOMPILED_PREFIX}{target}{ARTIFACT_SIGNATURE_SUFFIX}"),
    )
}

/// An artifact file of a bundle, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactFile<'a> {
    Code { target: &'a str },
    Signature { target: &'a str },
}

impl<'a> ArtifactFile<'a> {
    /// What `name` is, if it is an artifact file of a valid target.
    pub fn parse(name: &'a str) -> Option<Self> {
        let rest = name.strip_prefix(PRECOMPILED_PREFIX)?;
        let file = match (rest.strip_suffix(ARTIFACT_SUFFIX), rest.strip_suffix(ARTIFACT_SIGNATURE_SUFFIX)) {
            (Some(target), _) => Self::Code { target },
            (None, Some(target)) => Self::Signature { target },
            (None, None) => return None,
        };
        let (Self::Code { target } | Self::Signature { target }) = file;
        valid_target(target).then_some(file)
    }
}

/// Whether `name` looks meant as an artifact file (so a bad one is refused by
/// name instead of left behind unnoticed).
pub fn looks_like_artifact(name: &str) -> bool {
    name.starts_with(PRECOMPILED_PREFIX)
}

/// The package format of a packed bundle.
pub const FORMAT: &str = "oplugin";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
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
    #[error("not a packed plug-in bundle: {0}")]
    NotABundle(String),
}

/// What a bundle says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub name: String,
    pub version: String,
    /// Targets it carries signed precompiled code for.
    pub precompiled: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Manifest {
    name: String,
    version: String,
}

/// Plug-in names become directory names on the device.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn manifest(text: &[u8], path: &str) -> Result<Manifest, BundleError> {
    let manifest: Manifest = std::str::from_utf8(text)
        .map_err(|e| e.to_string())
        .and_then(|text| toml::from_str::<Manifest>(text).map_err(|e| e.message().to_owned()))
        .map_err(|message| BundleError::Manifest { path: path.to_owned(), message })?;
    if !valid_name(&manifest.name) {
        return Err(BundleError::BadName(manifest.name));
    }
    if manifest.version.is_empty() || manifest.version.len() > 64 {
        return Err(BundleError::Manifest {
            path: path.to_owned(),
            message: "the version is empty or too long".into(),
        });
    }
    Ok(manifest)
}

/// The artifact files among `names`, in name order, and the targets they
/// are for. Each piece of code must come with its signature and the other
/// way round, and a `precompiled-` file must be named as the agent expects:
/// otherwise every agent would refuse the delivery.
fn artifacts(names: impl IntoIterator<Item = String>) -> Result<(Vec<String>, Vec<String>), BundleError> {
    let mut files: Vec<String> = names.into_iter().filter(|n| looks_like_artifact(n)).collect();
    files.sort();
    let (mut code, mut signed) = (Vec::new(), Vec::new());
    for name in &files {
        match ArtifactFile::parse(name) {
            Some(ArtifactFile::Code { target }) => code.push(target.to_owned()),
            Some(ArtifactFile::Signature { target }) => signed.push(target.to_owned()),
            None => {
                return Err(BundleError::Artifact(format!(
                    "{name} is not named precompiled-TARGET.cwasm or precompiled-TARGET.signature"
                )));
            }
        }
    }
    if let Some(target) = code.iter().chain(&signed).find(|t| !(code.contains(t) && signed.contains(t))) {
        let (code_file, signature_file) = artifact_files(target);
        return Err(BundleError::Artifact(format!(
            "{code_file} and {signature_file} come together; run `outfit-plugin precompile --target {target}` again"
        )));
    }
    Ok((files, code))
}

/// Packs the bundle directory `dir` into one tar archive written to `out`:
/// [`FILES`] in that order, then the artifacts in name order, each with a
/// fixed time and mode, so the same bundle always packs to the same bytes.
pub fn pack(dir: &Path, out: impl Write) -> Result<Contents, BundleError> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read(&path).map_err(|source| BundleError::Read { path: path.display().to_string(), source })
    };
    let manifest_path = dir.join(MANIFEST_FILE).display().to_string();
    let manifest = manifest(&read(MANIFEST_FILE)?, &manifest_path)?;
    let read_dir = |source| BundleError::Read { path: dir.display().to_string(), source };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        names.push(entry.map_err(read_dir)?.file_name().to_string_lossy().into_owned());
    }
    let (artifact_files, precompiled) = artifacts(names)?;
    let mut archive = tar::Builder::new(out);
    for file in FILES.iter().map(|f| f.to_string()).chain(artifact_files) {
        let bytes = read(&file)?;
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        archive.append_data(&mut header, &file, bytes.as_slice()).map_err(BundleError::Pack)?;
    }
    archive.finish().map_err(BundleError::Pack)?;
    Ok(Contents { name: manifest.name, version: manifest.version, precompiled })
}

/// What a packed bundle (a tar archive, as uploaded) says of itself, checked
/// as [`pack`] would: its manifest, every file of [`FILES`], artifacts in pairs.
pub fn inspect(packed: impl Read) -> Result<Contents, BundleError> {
    let not = |e: std::io::Error| BundleError::NotABundle(e.to_string());
    let mut archive = tar::Archive::new(packed);
    let (mut names, mut manifest_text) = (Vec::new(), None);
    for entry in archive.entries().map_err(not)? {
        let mut entry = entry.map_err(not)?;
        let name = entry.path().map_err(not)?.display().to_string();
        if name == MANIFEST_FILE {
            let mut text = Vec::new();
            entry.by_ref().take(64 * 1024).read_to_end(&mut text).map_err(not)?;
            manifest_text = Some(text);
        }
        names.push(name);
    }
    if let Some(missing) = FILES.iter().find(|f| !names.iter().any(|n| n == *f)) {
        return Err(BundleError::NotABundle(format!("it has no {missing}")));
    }
    let manifest = manifest(&manifest_text.unwrap_or_default(), MANIFEST_FILE)?;
    let (_, precompiled) = artifacts(names)?;
    Ok(Contents { name: manifest.name, version: manifest.version, precompiled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_artifact_names_of_a_plain_target_are_bundle_files() {
        assert_eq!(
            ArtifactFile::parse("precompiled-x86_64-unknown-linux-gnu.cwasm"),
            Some(ArtifactFile::Code { target: "x86_64-unknown-linux-gnu" })
        );
        assert_eq!(
            ArtifactFile::parse("precompiled-pulley64.signature"),
            Some(ArtifactFile::Signature { target: "pulley64" })
        );
        // A path out of the bundle, an empty or hidden target, another suffix.
        for name in [
            "precompiled-../../etc/x.cwasm",
            "precompiled-a/b.cwasm",
            "precompiled-.cwasm",
            "precompiled-.hidden.cwasm",
            "precompiled-pulley64.so",
            "plugin.cwasm",
        ] {
            assert_eq!(ArtifactFile::parse(name), None, "{name}");
        }
        assert_eq!(
            artifact_files("pulley64"),
            ("precompiled-pulley64.cwasm".to_owned(), "precompiled-pulley64.signature".to_owned())
        );
    }
}
