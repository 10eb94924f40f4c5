//! The files operators write by hand — model files and script files (TOML) —
//! read into plain specs. The gateway turns a spec into the domain's model or
//! script (storing its packages); the `outfit` CLI turns it into an operator
//! API request (uploading its packages). Neither checks meaning here: the
//! gateway does, whoever sent the request.

pub mod model;
pub mod script;

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a valid {kind} file: {message}")]
    Parse { path: String, kind: &'static str, message: String },
}

/// Reads a text file the spec names (a template), relative to `base`.
pub fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|source| FileError::Read { path: path.display().to_string(), source })
}

fn parse<T: serde::de::DeserializeOwned>(file: &Path, kind: &'static str) -> Result<T, FileError> {
    toml::from_str(&read(file)?).map_err(|e| FileError::Parse {
        path: file.display().to_string(),
        kind,
        message: e.to_string(),
    })
}
