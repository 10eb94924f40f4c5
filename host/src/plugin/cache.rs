//! Precompiled plug-ins on disk. Compiling a component with Cranelift costs
//! tens of milliseconds and most of the agent's peak memory; loading the
//! machine code compiled at an earlier start costs well under a millisecond.
//! Entries are keyed by the component's sha256 and the engine's compatibility
//! hash (wasmtime version and settings), so a new plug-in or a new agent build
//! compiles afresh.
//!
//! **Invariant:** only an artifact this agent wrote itself is ever loaded:
//! entries are written atomically (temp file + rename) with the sha256 of
//! their bytes beside them, and an entry whose bytes do not match is
//! discarded and compiled again.
//!
//! A runtime-only agent (without the `compiler` feature) has nothing to cache:
//! it loads signed precompiled artifacts straight from their bundles.

use std::path::PathBuf;
#[cfg(feature = "compiler")]
use {
    super::PluginError,
    sha2::{Digest, Sha256},
    std::hash::{Hash, Hasher},
    std::io::Write,
    std::path::Path,
    wasmtime::Engine,
    wasmtime::component::Component,
};

/// A directory of precompiled components (e.g. `STATE/plugin-cache`).
#[derive(Debug, Clone)]
pub struct CompileCache {
    #[cfg_attr(not(feature = "compiler"), expect(dead_code, reason = "a runtime-only agent compiles nothing"))]
    dir: PathBuf,
}

/// How a component was obtained, for the log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Loaded from an earlier start's machine code.
    Cached,
    /// Compiled now (and stored, if storing worked).
    Compiled,
}

#[cfg(feature = "compiler")]
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl CompileCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[cfg(feature = "compiler")]
impl CompileCache {
    fn entry(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir.join(format!("{}-{:016x}.cwasm", sha256_hex(wasm), hasher.finish()))
    }

    /// The component for `wasm`: from the cache when a valid entry exists,
    /// else compiled and stored. A cache that cannot be written only costs
    /// the next start a compilation.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> Result<(Component, Source), PluginError> {
        let entry = self.entry(engine, wasm);
        if let Some(component) = load(engine, &entry) {
            return Ok((component, Source::Cached));
        }
        let code = engine.precompile_component(wasm).map_err(|e| PluginError::Load(format!("{e:#}")))?;
        if let Err(e) = store(&entry, &code) {
            tracing::warn!(path = %entry.display(), error = %e, "could not store the compiled plug-in");
        }
        Ok((deserialize(engine, &code)?, Source::Compiled))
    }
}

#[cfg(feature = "compiler")]
fn digest_path(entry: &Path) -> PathBuf {
    entry.with_extension("sha256")
}

#[cfg(feature = "compiler")]
/// A valid entry's component; `None` (after removing a bad entry) otherwise.
fn load(engine: &Engine, entry: &Path) -> Option<Component> {
    let code = std::fs::read(entry).ok()?;
    let expected = std::fs::read_to_string(digest_path(entry)).unwrap_or_default();
    if expected.trim() != sha256_hex(&code) {
        tracing::warn!(path = %entry.display(), "discarding a precompiled plug-in whose digest does not match");
        let _ = std::fs::remove_file(entry);
        return None;
    }
    match deserialize(engine, &code) {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %entry.display(), error = %e, "discarding a precompiled plug-in that does not load");
            let _ = std::fs::remove_file(entry);
            None
        }
    }
}

#[cfg(feature = "compiler")]
#[expect(unsafe_code, reason = "wasmtime cannot check machine code; the bytes are ours (see the module invariant)")]
fn deserialize(engine: &Engine, code: &[u8]) -> Result<Component, PluginError> {
    // SAFETY: `code` was produced by `Engine::precompile_component` of an engine
    // with the same compatibility hash, either just now or at an earlier start,
    // in which case its sha256 matched the digest written beside it.
    unsafe { Component::deserialize(engine, code) }.map_err(|e| PluginError::Load(format!("{e:#}")))
}

#[cfg(feature = "compiler")]
fn store(entry: &Path, code: &[u8]) -> std::io::Result<()> {
    let dir = entry.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(code)?;
    file.as_file().sync_all()?;
    // The digest first: a crash between the two renames leaves a digest
    // without an entry, never an entry without its digest.
    let mut digest = tempfile::NamedTempFile::new_in(dir)?;
    digest.write_all(sha256_hex(code).as_bytes())?;
    digest.as_file().sync_all()?;
    digest.persist(digest_path(entry)).map_err(|e| e.error)?;
    file.persist(entry).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(all(test, feature = "compiler"))]
mod tests {
    use super::*;

    #[test]
    fn compiles_once_then_loads_and_discards_a_tampered_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("plugin-cache"));
        let engine = super::super::engine(super::super::Backend::Native).unwrap();
        let wasm = super::super::DEBIAN_WASM;
        assert_eq!(cache.component(&engine, wasm).unwrap().1, Source::Compiled);
        assert_eq!(cache.component(&engine, wasm).unwrap().1, Source::Cached);
        let entry = cache.entry(&engine, wasm);
        let mut code = std::fs::read(&entry).unwrap();
        let last = code.len() - 1;
        code[last] ^= 0xff;
        std::fs::write(&entry, code).unwrap();
        assert_eq!(cache.component(&engine, wasm).unwrap().1, Source::Compiled, "a changed byte is caught");
        assert_eq!(cache.component(&engine, wasm).unwrap().1, Source::Cached, "and the entry is rewritten");
    }
}
