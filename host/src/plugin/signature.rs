//! Signed plug-ins. A plug-in that does not come built into the agent is a
//! *bundle*: a directory holding `plugin.wasm` (the component),
//! `manifest.toml` (its name and the capabilities it is granted) and
//! `signature` (ed25519, hex). The signature covers the sha256 of both files,
//! so neither the code nor its grants can be swapped, and it must verify
//! under one of the agent's trusted public keys before the component is
//! compiled, let alone instantiated. (Built-in plug-ins are part of the
//! agent binary and trusted with it.)

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Names the format, so a signature over something else never verifies here.
const CONTEXT: &str = "outfit-plugin-signature-v1";

pub const COMPONENT_FILE: &str = "plugin.wasm";
pub const MANIFEST_FILE: &str = "manifest.toml";
pub const SIGNATURE_FILE: &str = "signature";

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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SignatureError + '_ {
    move |source| SignatureError::Io { path: path.display().to_string(), source }
}

/// What a signature covers.
fn message(component: &[u8], manifest: &[u8]) -> Vec<u8> {
    let c = hex::encode(Sha256::digest(component));
    let m = hex::encode(Sha256::digest(manifest));
    format!("{CONTEXT}\ncomponent sha256 {c}\nmanifest sha256 {m}\n").into_bytes()
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
            match hex::decode(line) {
                Ok(key) if key.len() == 32 => keys.push(key),
                _ => return Err(SignatureError::BadKey { path: path.display().to_string(), line: n + 1 }),
            }
        }
        Ok(Self(keys))
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
}

impl Bundle {
    fn read(&self, name: &str) -> Result<Vec<u8>, SignatureError> {
        let path = self.dir.join(name);
        std::fs::read(&path).map_err(io(&path))
    }

    /// Signs the bundle's component and manifest with `pkcs8`; writes `signature`.
    pub fn sign(&self, pkcs8: &[u8]) -> Result<(), SignatureError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| SignatureError::Key(e.to_string()))?;
        let signature = pair.sign(&message(&self.read(COMPONENT_FILE)?, &self.read(MANIFEST_FILE)?));
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
        let signature = hex::decode(text.trim()).ok().filter(|s| s.len() == 64).ok_or(SignatureError::Malformed)?;
        let component = self.read(COMPONENT_FILE)?;
        let manifest = self.read(MANIFEST_FILE)?;
        trusted.verify(&message(&component, &manifest), &signature)?;
        let manifest = String::from_utf8(manifest).map_err(|_| SignatureError::Malformed)?;
        Ok(Verified { component, manifest })
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
