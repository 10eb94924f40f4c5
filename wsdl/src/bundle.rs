//! The layout of a plug-in bundle, as it travels from the gateway's repository
//! to an agent (one tar archive, package format `oplugin`): the file names
//! both the packer (gateway) and the unpacker (agent) must agree on. What the
//! files mean — signatures, grants, machine code — is the agent's business.

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
