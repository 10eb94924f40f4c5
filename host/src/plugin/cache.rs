//! Precompiled plug-ins on disk. Compiling a component with Cranelift costs
//! tens of milliseconds and most of the agent's peak memory; loading the
//! machine code compiled at an earlier start costs well under a millisecond.
//! Entries are keyed by the component's sha256, the backend, and the wasmtime
//! and agent versions, so a new plug-in or a new agent compiles afresh (and
//! an entry wasmtime refuses anyway, from another build's settings, is
//! discarded and compiled again).
//!
//! Compiling happens in a short-lived child process, so Cranelift's memory
//! leaves with it: the agent's own binary run with [`COMPILE_ARG`] (an agent
//! with the `compiler` feature), or `outfit-agent-compiler` installed beside
//! an agent built without Cranelift ([`COMPILER_PROGRAM`]), which then never
//! maps the code generator at all. Both speak the same arguments.
//!
//! **Invariant:** only an artifact this agent (or its compiling child) wrote
//! is ever loaded: entries are written atomically (temp file + rename) with
//! the sha256 of their bytes beside them, and an entry whose bytes do not
//! match is discarded and compiled again.
//!
//! Signed precompiled artifacts are not cached (they are on disk in their
//! bundles) but mapped through this directory: see [`CompileCache::load_verified`].

use super::PluginError;
use super::signature::Precompiled;
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime::component::Component;
#[cfg(feature = "built-in-plugins")]
use {
    sha2::{Digest, Sha256},
    std::path::Path,
};

/// A directory of precompiled components (e.g. `STATE/plugin-cache`).
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
    /// The program that compiles, in a child process.
    #[cfg(feature = "built-in-plugins")]
    child: Option<PathBuf>,
}

/// The first argument of a compiling child:
/// `PROGRAM COMPILE_ARG BACKEND WASM ENTRY`.
pub const COMPILE_ARG: &str = "--compile-plugin-into-cache";

/// The compiling program of an agent built without Cranelift, looked for in
/// the agent binary's own directory (the packages install both there).
pub const COMPILER_PROGRAM: &str = "outfit-agent-compiler";

/// How a component was obtained, for the log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Loaded from an earlier start's machine code.
    Cached,
    /// Compiled now (and stored, if storing worked).
    Compiled,
}

#[cfg(feature = "built-in-plugins")]
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl CompileCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            #[cfg(feature = "built-in-plugins")]
            child: None,
        }
    }

    /// Compiles in a short-lived child process running `program` (the
    /// agent's binary, which answers [`COMPILE_ARG`] in `main`, or
    /// [`COMPILER_PROGRAM`]), so the agent itself never holds Cranelift's memory.
    #[cfg(feature = "built-in-plugins")]
    pub fn compiling_in(mut self, program: PathBuf) -> Self {
        self.child = Some(program);
        self
    }

    /// Whether components without signed machine code can be loaded: this
    /// agent has Cranelift, or a compiling program.
    pub fn compiles(&self) -> bool {
        #[cfg(feature = "built-in-plugins")]
        if self.child.is_some() {
            return true;
        }
        cfg!(feature = "compiler")
    }

    /// The component of a signed artifact. On Unix the verified bytes are
    /// written to a new file here and mapped from it, so the machine code is
    /// file-backed pages the kernel reads in as they run and may drop again,
    /// not a private copy of all of it in the agent's memory (2.6 MB for the
    /// Debian plug-in); the file is unlinked at once, the mapping keeps it.
    pub fn load_verified(&self, engine: &Engine, code: &Precompiled) -> Result<Component, PluginError> {
        #[cfg(unix)]
        match self.map_verified(engine, code) {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "could not map the plug-in code from a file; loading it into memory")
            }
        }
        deserialize_verified(engine, code)
    }

    #[cfg(unix)]
    #[expect(unsafe_code, reason = "wasmtime cannot check machine code; the file holds verified bytes (see SAFETY)")]
    fn map_verified(&self, engine: &Engine, code: &Precompiled) -> Result<Component, PluginError> {
        use std::io::Write as _;
        let fail =
            |e: std::io::Error| PluginError::Load(format!("stage the plug-in code in {}: {e}", self.dir.display()));
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        // Created exclusively, mode 0600, in the agent's own state directory.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(fail)?;
        file.write_all(code.code()).map_err(fail)?;
        file.flush().map_err(fail)?;
        // SAFETY: the file was created by this call and holds exactly the bytes
        // of a `Precompiled`, whose signature verified (`deserialize_verified`);
        // only root could have changed it since, who could change the agent too.
        let component = unsafe { Component::deserialize_file(engine, file.path()) }
            .map_err(|e| PluginError::Load(format!("{e:#}")))?;
        Ok(component)
    }
}

#[expect(
    unsafe_code,
    reason = "wasmtime cannot check machine code; a `Precompiled` exists only once its signature verified"
)]
pub(super) fn deserialize_verified(engine: &Engine, code: &Precompiled) -> Result<Component, PluginError> {
    // SAFETY: a `Precompiled` is made only by `Verified::precompiled`, after
    // the artifact's signature (over its bytes, the component, the manifest,
    // the target and the wasmtime version) verified under a trusted key; the
    // bytes are the ones verified, held in memory since. wasmtime itself then
    // refuses an artifact of another version or engine configuration.
    unsafe { Component::deserialize(engine, code.code()) }.map_err(|e| PluginError::Load(format!("{e:#}")))
}

#[cfg(feature = "built-in-plugins")]
impl CompileCache {
    fn entry(&self, backend: super::Backend, wasm: &[u8]) -> PathBuf {
        let build = format!("wasmtime-{}-agent-{}", super::signature::WASMTIME_VERSION, env!("CARGO_PKG_VERSION"));
        self.dir.join(format!("{}-{}-{build}.cwasm", sha256_hex(wasm), backend.as_str()))
    }

    /// The component for `wasm`: from the cache when a valid entry exists,
    /// else compiled and stored. A cache that cannot be written only costs
    /// the next start a compilation.
    pub fn component(
        &self,
        backend: super::Backend,
        engine: &Engine,
        wasm: &[u8],
    ) -> Result<(Component, Source), PluginError> {
        let entry = self.entry(backend, wasm);
        if let Some(component) = load(engine, &entry) {
            return Ok((component, Source::Cached));
        }
        if let Some(program) = &self.child {
            let then = if cfg!(feature = "compiler") { "compiling here" } else { "not loading it" };
            let started = std::time::Instant::now();
            match self.compile_in_child(program, backend, wasm, &entry) {
                Ok(()) => {
                    if let Some(component) = load(engine, &entry) {
                        let ms = started.elapsed().as_millis() as u64;
                        tracing::info!(ms, entry = %entry.display(), "plug-in compiled in a child process");
                        return Ok((component, Source::Compiled));
                    }
                    tracing::warn!(path = %entry.display(), "the compiling child's entry does not load; {then}");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not compile the plug-in in a child process; {then}")
                }
            }
        }
        self.compile_here(engine, wasm, &entry)
    }

    #[cfg(feature = "compiler")]
    fn compile_here(&self, engine: &Engine, wasm: &[u8], entry: &Path) -> Result<(Component, Source), PluginError> {
        let code = engine.precompile_component(wasm).map_err(|e| PluginError::Load(format!("{e:#}")))?;
        if let Err(e) = store(entry, &code) {
            tracing::warn!(path = %entry.display(), error = %e, "could not store the compiled plug-in");
        }
        Ok((deserialize(engine, &code)?, Source::Compiled))
    }

    #[cfg(not(feature = "compiler"))]
    fn compile_here(&self, _: &Engine, _: &[u8], _: &Path) -> Result<(Component, Source), PluginError> {
        Err(PluginError::Load(format!(
            "this agent has no compiler and its compiling program ({COMPILER_PROGRAM} beside the agent) did not \
             compile the plug-in (see the warning before); install it, or deliver the plug-in precompiled"
        )))
    }

    fn compile_in_child(
        &self,
        program: &Path,
        backend: super::Backend,
        wasm: &[u8],
        entry: &Path,
    ) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let mut input = tempfile::NamedTempFile::new_in(&self.dir)?;
        input.write_all(wasm)?;
        input.flush()?;
        let output = std::process::Command::new(program)
            .arg(COMPILE_ARG)
            .arg(backend.as_str())
            .arg(input.path())
            .arg(entry)
            .stdin(std::process::Stdio::null())
            .output()?;
        if output.status.success() {
            Ok(())
        } else {
            let said = String::from_utf8_lossy(&output.stderr);
            Err(std::io::Error::other(format!("{}: {}", output.status, said.trim())))
        }
    }
}

/// The compiling child: when the process was started with [`COMPILE_ARG`],
/// compiles `WASM` for `BACKEND` into the cache entry `ENTRY` and returns how
/// the process must exit; `None` for an ordinary start.
#[cfg(feature = "compiler")]
pub fn compiling_child() -> Option<std::process::ExitCode> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).map(|a| a.as_os_str()) != Some(std::ffi::OsStr::new(COMPILE_ARG)) {
        return None;
    }
    let compiled = (|| -> Result<(), String> {
        let [_, _, backend, wasm, entry] = args.as_slice() else {
            return Err(format!("usage: PROGRAM {COMPILE_ARG} BACKEND WASM ENTRY"));
        };
        let backend: super::Backend = backend.to_string_lossy().parse()?;
        let wasm = std::fs::read(wasm).map_err(|e| format!("read the component: {e}"))?;
        let engine = super::engine(backend).map_err(|e| e.to_string())?;
        let code = engine.precompile_component(&wasm).map_err(|e| format!("compile: {e:#}"))?;
        store(Path::new(entry), &code).map_err(|e| format!("store the compiled plug-in: {e}"))
    })();
    Some(match compiled {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    })
}

#[cfg(feature = "built-in-plugins")]
fn digest_path(entry: &Path) -> PathBuf {
    entry.with_extension("sha256")
}

#[cfg(feature = "built-in-plugins")]
/// A valid entry's component; `None` (after removing a bad entry) otherwise.
fn load(engine: &Engine, entry: &Path) -> Option<Component> {
    let code = std::fs::read(entry).ok()?;
    let expected = std::fs::read_to_string(digest_path(entry)).unwrap_or_default();
    if expected.trim() != sha256_hex(&code) {
        tracing::warn!(path = %entry.display(), "discarding a precompiled plug-in whose digest does not match");
        let _ = std::fs::remove_file(entry);
        return None;
    }
    drop(code);
    match deserialize_entry(engine, entry) {
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

/// An entry whose digest matched, mapped from its file: the machine code is
/// file-backed pages the kernel may drop and read in again, not a private
/// copy in the agent's memory.
#[cfg(feature = "built-in-plugins")]
#[expect(unsafe_code, reason = "wasmtime cannot check machine code; the bytes are ours (see the module invariant)")]
fn deserialize_entry(engine: &Engine, entry: &Path) -> Result<Component, PluginError> {
    // SAFETY: the entry's sha256 matched the digest written beside it by
    // `store`, so it holds code `Engine::precompile_component` produced for an
    // engine with this compatibility hash; only root could change it since,
    // who could change the agent too.
    unsafe { Component::deserialize_file(engine, entry) }.map_err(|e| PluginError::Load(format!("{e:#}")))
}

#[cfg(feature = "compiler")]
fn store(entry: &Path, code: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
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
    use super::super::Backend;
    use super::*;

    #[test]
    fn compiles_once_then_loads_and_discards_a_tampered_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("plugin-cache"));
        let engine = super::super::engine(super::super::Backend::Native).unwrap();
        let wasm = super::super::DEBIAN_WASM;
        assert_eq!(cache.component(Backend::Native, &engine, wasm).unwrap().1, Source::Compiled);
        assert_eq!(cache.component(Backend::Native, &engine, wasm).unwrap().1, Source::Cached);
        let entry = cache.entry(Backend::Native, wasm);
        let mut code = std::fs::read(&entry).unwrap();
        let last = code.len() - 1;
        code[last] ^= 0xff;
        std::fs::write(&entry, code).unwrap();
        assert_eq!(
            cache.component(Backend::Native, &engine, wasm).unwrap().1,
            Source::Compiled,
            "a changed byte is caught"
        );
        assert_eq!(
            cache.component(Backend::Native, &engine, wasm).unwrap().1,
            Source::Cached,
            "and the entry is rewritten"
        );
    }
}
