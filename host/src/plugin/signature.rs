//! Signed plug-ins. A plug-in that does not come built into the agent is a
//! *bundle*: a directory holding `plugin.wasm` (the component),
//! `manifest.toml` (its name and the capabilities it is granted) and
//! `signature` (ed25519, hex). The signature covers the sha256 of both files,
//! so neither the code nor its grants can be swapped, and it must verify
//! under one of the agent's trusted public keys before the component is
//! compiled, let alone instantiated. (Built-in plug-ins are part of the
//! agent binary and trusted with it.)
//!
//! A bundle may also carry machine code compiled ahead of time for a target
//! (`precompiled-TARGET.cwasm`, TARGET an agent's target triple or
//! `pulley64`), each with its own signature (`precompiled-TARGET.signature`)
//! over the artifact's sha256 *and* the component's and manifest's, the target
//! and the wasmtime version: an artifact is never paired with other grants, and
//! an agent without a compiler runs nothing else.
//!
//! **Invariant:** the only way to get a [`Precompiled`] (the only thing
//! `Plugin::load_precompiled` deserializes) is a signature that verified.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Names the format, so a signature over something else never verifies here.
const CONTEXT: &str = "outfit-plugin-signature-v1";

pub use outfit_wsdl::bundle::{COMPONENT_FILE, MANIFEST_FILE, SIGNATURE_FILE, artifact_files, valid_target};
/// Names the artifact format, apart from [`CONTEXT`].
const ARTIFACT_CONTEXT: &str = "outfit-plugin-artifact-v1";
/// The wasmtime whose artifacts this agent loads (Cargo.toml pins it; a test
/// checks this against Cargo.lock).
pub const WASMTIME_VERSION: &str = "48.0.8";

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("unsigned: {0} is missing")]
    Unsigned(String),
    #[error("the signature is not 64 bytes of hex")]
    Malformed,
    #[error("no trusted plug-in keys are configured (--trusted-keys), so no bundle can be trusted")]
    NoTrustedKeys,
    #[error("the signature does not verify under any trusted key (tampered, or signed by an untrusted key)")]
    Untrusted,
    #[error("trusted key file {path} line {line}: not a 32-byte ed25519 public key in hex")]
    BadKey { path: String, line: usize },
    #[error("key: {0}")]
    Key(String),
    #[error("`{0}` is not a target name (letters, digits, `_`, `-`, `.`)")]
    BadTarget(String),
    #[error("precompiled artifact for {target}: {reason}")]
    Artifact { target: String, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SignatureError + '_ {
    move |source| SignatureError::Io { path: path.display().to_string(), source }
}

/// The sha256 (hex) of a bundle's component and manifest: what both kinds of
/// signature name them by, computed once per bundle read.
#[derive(Debug, Clone)]
struct Digests {
    component: String,
    manifest: String,
}

impl Digests {
    fn of(component: &[u8], manifest: &[u8]) -> Self {
        Self { component: hex::encode(Sha256::digest(component)), manifest: hex::encode(Sha256::digest(manifest)) }
    }
}

/// What a signature covers.
fn message(digests: &Digests) -> Vec<u8> {
    let Digests { component: c, manifest: m } = digests;
    format!("{CONTEXT}\ncomponent sha256 {c}\nmanifest sha256 {m}\n").into_bytes()
}

/// What an artifact's signature covers.
fn artifact_message(digests: &Digests, target: &str, artifact: &[u8]) -> Vec<u8> {
    let Digests { component: c, manifest: m } = digests;
    let a = hex::encode(Sha256::digest(artifact));
    format!(
        "{ARTIFACT_CONTEXT}\ncomponent sha256 {c}\nmanifest sha256 {m}\ntarget {target}\n\
         wasmtime {WASMTIME_VERSION}\nartifact sha256 {a}\n"
    )
    .into_bytes()
}

fn decode_signature(text: &str) -> Result<Vec<u8>, SignatureError> {
    hex::decode(text.trim()).ok().filter(|s| s.len() == 64).ok_or(SignatureError::Malformed)
}

/// An ed25519 public key in hex.
fn parse_key(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok().filter(|key| key.len() == 32)
}

/// The public keys whose signatures this agent accepts.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys(Vec<Vec<u8>>);

impl TrustedKeys {
    /// Reads one hex public key per line (`#` starts a comment).
    pub fn load(path: &Path) -> Result<Self, SignatureError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let key =
                parse_key(line).ok_or(SignatureError::BadKey { path: path.display().to_string(), line: n + 1 })?;
            keys.push(key);
        }
        Ok(Self(keys))
    }

    /// Keys given as hex strings.
    pub fn from_keys(keys: impl IntoIterator<Item = String>) -> Result<Self, SignatureError> {
        let decode = |(n, key): (usize, String)| {
            parse_key(&key).ok_or(SignatureError::BadKey { path: "(given)".into(), line: n + 1 })
        };
        Ok(Self(keys.into_iter().enumerate().map(decode).collect::<Result<_, _>>()?))
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if self.0.is_empty() {
            return Err(SignatureError::NoTrustedKeys);
        }
        let verifies = |key: &Vec<u8>| UnparsedPublicKey::new(&ED25519, key).verify(message, signature).is_ok();
        if self.0.iter().any(verifies) { Ok(()) } else { Err(SignatureError::Untrusted) }
    }
}

/// A new signing key: (PKCS#8 document to keep secret, public key in hex).
pub fn generate_key() -> Result<(Vec<u8>, String), SignatureError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| SignatureError::Key(e.to_string()))?;
    let public = public_key(pkcs8.as_ref())?;
    Ok((pkcs8.as_ref().to_vec(), public))
}

/// The public key (hex) of a PKCS#8 signing key.
pub fn public_key(pkcs8: &[u8]) -> Result<String, SignatureError> {
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| SignatureError::Key(e.to_string()))?;
    Ok(hex::encode(pair.public_key().as_ref()))
}

/// A plug-in bundle on disk.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
}

/// A bundle whose signature verified: safe to compile and run.
#[derive(Debug)]
pub struct Verified {
    pub component: Vec<u8>,
    pub manifest: String,
    digests: Digests,
    /// Where it was read from, for its artifacts.
    dir: PathBuf,
}

/// Machine code for one target whose signature verified, for the component
/// and manifest of the [`Verified`] bundle it came from.
#[derive(Debug)]
pub struct Precompiled {
    pub target: String,
    code: Vec<u8>,
}

impl Precompiled {
    pub fn code(&self) -> &[u8] {
        &self.code
    }
}

impl Verified {
    /// The bundle's artifact for `target`, if it carries one. An artifact
    /// without a signature that verifies refuses the bundle: it is not quietly
    /// compiled instead, since someone tampered with it.
    pub fn precompiled(&self, target: &str, trusted: &TrustedKeys) -> Result<Option<Precompiled>, SignatureError> {
        let (artifact_file, signature_file) = artifact_files(target);
        let artifact_path = self.dir.join(&artifact_file);
        let code = match std::fs::read(&artifact_path) {
            Ok(code) => code,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SignatureError::Io { path: artifact_path.display().to_string(), source: e }),
        };
        let artifact = |reason: String| SignatureError::Artifact { target: target.to_owned(), reason };
        let signature_path = self.dir.join(&signature_file);
        let text = std::fs::read_to_string(&signature_path)
            .map_err(|_| artifact(format!("unsigned: {signature_file} is missing")))?;
        let signature = decode_signature(&text).map_err(|e| artifact(e.to_string()))?;
        let message = artifact_message(&self.digests, target, &code);
        trusted.verify(&message, &signature).map_err(|e| artifact(e.to_string()))?;
        Ok(Some(Precompiled { target: target.to_owned(), code }))
    }
}

impl Bundle {
    fn digests(&self) -> Result<Digests, SignatureError> {
        Ok(Digests::of(&self.read(COMPONENT_FILE)?, &self.read(MANIFEST_FILE)?))
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, SignatureError> {
        let path = self.dir.join(name);
        std::fs::read(&path).map_err(io(&path))
    }

    /// Signs the bundle's component and manifest with `pkcs8`; writes `signature`.
    pub fn sign(&self, pkcs8: &[u8]) -> Result<(), SignatureError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| SignatureError::Key(e.to_string()))?;
        let signature = pair.sign(&message(&self.digests()?));
        let path = self.dir.join(SIGNATURE_FILE);
        std::fs::write(&path, format!("{}\n", hex::encode(signature.as_ref()))).map_err(io(&path))
    }

    /// Reads the bundle and checks its signature; nothing is returned (so
    /// nothing can be compiled) unless it verifies under a trusted key.
    pub fn verify(&self, trusted: &TrustedKeys) -> Result<Verified, SignatureError> {
        let signature_path = self.dir.join(SIGNATURE_FILE);
        if !signature_path.exists() {
            return Err(SignatureError::Unsigned(signature_path.display().to_string()));
        }
        let text = std::fs::read_to_string(&signature_path).map_err(io(&signature_path))?;
        let signature = decode_signature(&text)?;
        let component = self.read(COMPONENT_FILE)?;
        let manifest = self.read(MANIFEST_FILE)?;
        let digests = Digests::of(&component, &manifest);
        trusted.verify(&message(&digests), &signature)?;
        let manifest = String::from_utf8(manifest).map_err(|_| SignatureError::Malformed)?;
        Ok(Verified { component, manifest, digests, dir: self.dir.clone() })
    }

    /// Adds `code` (the bundle's component compiled for `target`) with its
    /// signature by `pkcs8`.
    pub fn sign_precompiled(&self, pkcs8: &[u8], target: &str, code: &[u8]) -> Result<(), SignatureError> {
        if !valid_target(target) {
            return Err(SignatureError::BadTarget(target.to_owned()));
        }
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| SignatureError::Key(e.to_string()))?;
        let message = artifact_message(&self.digests()?, target, code);
        let (artifact_file, signature_file) = artifact_files(target);
        let artifact_path = self.dir.join(artifact_file);
        std::fs::write(&artifact_path, code).map_err(io(&artifact_path))?;
        let path = self.dir.join(signature_file);
        std::fs::write(&path, format!("{}\n", hex::encode(pair.sign(&message).as_ref()))).map_err(io(&path))
    }
}

/// The bundles in `dir` (each subdirectory is one), in name order; none if
/// `dir` does not exist.
pub fn bundles(dir: &Path) -> Result<Vec<Bundle>, SignatureError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SignatureError::Io { path: dir.display().to_string(), source: e }),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            found.push(Bundle { dir: path });
        }
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}
