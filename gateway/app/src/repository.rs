//! The package repository: content-addressed files under the gateway directory,
//! keyed by their sha256. Served to agents over the gateway's HTTPS listener at
//! `/repository/<sha256>`.
//!
//! **Invariant:** a file is stored only under the digest of its own bytes; an
//! upload whose bytes do not match the digest it claims is refused and leaves
//! nothing behind.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("package {path} has sha256 {actual}, not the {expected} it was declared with")]
    DigestMismatch { path: String, expected: String, actual: String },
    #[error("`{0}` is not a sha256 digest (64 lowercase hex digits)")]
    BadKey(String),
}

#[derive(Debug, Clone)]
pub struct Repository {
    root: PathBuf,
}

/// A stored package: its digest, which is also its storage key, and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: i64,
}

impl Repository {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RepositoryError + '_ {
        move |source| RepositoryError::Io { path: path.display().to_string(), source }
    }

    /// Copies `file` into the repository. If `expected` is given, the bytes must
    /// hash to it. Streams through a temporary file so a failed upload leaves nothing.
    pub fn put_file(&self, file: &Path, expected: Option<&str>) -> Result<Stored, RepositoryError> {
        std::fs::create_dir_all(&self.root).map_err(Self::io(&self.root))?;
        let mut source = std::fs::File::open(file).map_err(Self::io(file))?;
        let mut staging = tempfile::NamedTempFile::new_in(&self.root).map_err(Self::io(&self.root))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut size = 0i64;
        loop {
            let n = source.read(&mut buffer).map_err(Self::io(file))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            staging.write_all(&buffer[..n]).map_err(Self::io(staging.path()))?;
            size += n as i64;
        }
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = expected
            && expected != sha256
        {
            return Err(RepositoryError::DigestMismatch {
                path: file.display().to_string(),
                expected: expected.to_owned(),
                actual: sha256,
            });
        }
        let target = self.root.join(&sha256);
        staging
            .persist(&target)
            .map_err(|e| RepositoryError::Io { path: target.display().to_string(), source: e.error })?;
        Ok(Stored { sha256, size })
    }

    /// Where the package with this key lives, if the key is well-formed.
    pub fn path(&self, key: &str) -> Result<PathBuf, RepositoryError> {
        if !outfit_domain::model::is_sha256_hex(key) {
            return Err(RepositoryError::BadKey(key.to_owned()));
        }
        Ok(self.root.join(key))
    }
}

impl From<RepositoryError> for crate::Failure {
    /// A package that cannot be read or does not match its digest is the
    /// caller's to fix; the message names the file.
    fn from(e: RepositoryError) -> Self {
        crate::Refusal::invalid(e.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_digest_and_refuses_a_wrong_digest() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::new(dir.path().join("repo"));
        let file = dir.path().join("p.deb");
        std::fs::write(&file, b"package bytes").unwrap();
        let stored = repo.put_file(&file, None).unwrap();
        assert_eq!(stored.size, 13);
        assert_eq!(std::fs::read(repo.path(&stored.sha256).unwrap()).unwrap(), b"package bytes");

        let wrong = "0".repeat(64);
        let err = repo.put_file(&file, Some(&wrong)).unwrap_err();
        assert!(matches!(err, RepositoryError::DigestMismatch { .. }), "{err}");
        // Only the one good file is left: no staging file survives the refusal.
        assert_eq!(std::fs::read_dir(dir.path().join("repo")).unwrap().count(), 1);
        assert!(repo.path("../etc/passwd").is_err());
    }
}
