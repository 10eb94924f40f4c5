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

/// A package being stored: written to a temporary file in the repository and
/// hashed as it arrives; it takes its place only if its digest is the one
/// claimed ([`Upload::finish`]). Dropped unfinished, it leaves nothing.
#[derive(Debug)]
pub struct Upload {
    root: PathBuf,
    staging: tempfile::NamedTempFile,
    hasher: Sha256,
    size: i64,
}

impl Upload {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), RepositoryError> {
        self.hasher.update(bytes);
        self.size += bytes.len() as i64;
        self.staging.write_all(bytes).map_err(Repository::io(self.staging.path()))
    }

    /// Bytes written so far.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// Stores the package under its digest, which must be `expected` when
    /// given (`what` names the upload in the error).
    pub fn finish(self, expected: Option<&str>, what: &str) -> Result<Stored, RepositoryError> {
        let sha256 = hex::encode(self.hasher.finalize());
        if let Some(expected) = expected
            && expected != sha256
        {
            return Err(RepositoryError::DigestMismatch {
                path: what.to_owned(),
                expected: expected.to_owned(),
                actual: sha256,
            });
        }
        let target = self.root.join(&sha256);
        self.staging
            .persist(&target)
            .map_err(|e| RepositoryError::Io { path: target.display().to_string(), source: e.error })?;
        Ok(Stored { sha256, size: self.size })
    }
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
        let mut source = std::fs::File::open(file).map_err(Self::io(file))?;
        let mut upload = self.begin()?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = source.read(&mut buffer).map_err(Self::io(file))?;
            if n == 0 {
                break;
            }
            upload.write(&buffer[..n])?;
        }
        upload.finish(expected, &file.display().to_string())
    }

    /// Starts storing a package that arrives in pieces.
    pub fn begin(&self) -> Result<Upload, RepositoryError> {
        std::fs::create_dir_all(&self.root).map_err(Self::io(&self.root))?;
        let staging = tempfile::NamedTempFile::new_in(&self.root).map_err(Self::io(&self.root))?;
        Ok(Upload { root: self.root.clone(), staging, hasher: Sha256::new(), size: 0 })
    }

    /// Every stored package, by digest.
    pub fn list(&self) -> Result<Vec<Stored>, RepositoryError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RepositoryError::Io { path: self.root.display().to_string(), source: e }),
        };
        let mut stored = Vec::new();
        for entry in entries {
            let entry = entry.map_err(Self::io(&self.root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if outfit_domain::model::is_sha256_hex(&name) {
                let size = entry.metadata().map_err(Self::io(&entry.path()))?.len() as i64;
                stored.push(Stored { sha256: name, size });
            }
        }
        stored.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(stored)
    }

    /// The size of the stored package `key`, if it is stored.
    pub fn stored(&self, key: &str) -> Result<Option<Stored>, RepositoryError> {
        let path = self.path(key)?;
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some(Stored { sha256: key.to_owned(), size: meta.len() as i64 })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RepositoryError::Io { path: path.display().to_string(), source: e }),
        }
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
