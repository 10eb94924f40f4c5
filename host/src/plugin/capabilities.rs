//! The host capabilities a plug-in imports (WIT interface `outfit:plugin/host`
//! in every released version, and 1.2's `repository`). Each checks the invocation's [`Policy`] before
//! touching anything and is traced with the device and command it serves. A
//! denial is an `Err` the plug-in sees (and reports); only host bugs trap.
//! The capabilities are written once, on [`HostState`]; each WIT version's
//! `Host` trait is a thin binding of them.

use super::HostState;
use super::os::Output;
use super::policy::{Access, Denied};
use super::{bindings as v0, bindings_v1 as v1, bindings_v11 as v11, bindings_v12 as v12};

impl HostState {
    fn denied(&self, capability: &str, denied: Denied) -> String {
        tracing::warn!(device = %self.device, command = %self.command, capability, %denied, "plug-in request denied");
        denied.to_string()
    }

    fn run_allowed(&mut self, argv: Vec<String>) -> Result<Output, String> {
        if argv.is_empty() {
            return Err("run needs at least a program name".into());
        }
        if let Err(denied) = self.policy.check_command(&argv) {
            return Err(self.denied("run", denied));
        }
        let Some(program) = self.os.locate(&argv[0]) else {
            return Err(self.denied("run", Denied::NoProgram(argv[0].clone())));
        };
        tracing::info!(device = %self.device, command = %self.command, argv = ?argv, "plug-in runs a command");
        self.os.run(&program, &argv)
    }

    fn read_granted(&mut self, path: String) -> Result<Vec<u8>, String> {
        let host_path = self.policy.resolve(&path, Access::Read).map_err(|d| self.denied("read-file", d))?;
        std::fs::read(&host_path).map_err(|e| format!("read {path}: {e}"))
    }

    fn write_granted(&mut self, path: String, contents: Vec<u8>) -> Result<(), String> {
        let host_path = self.policy.resolve(&path, Access::Write).map_err(|d| self.denied("write-file", d))?;
        tracing::info!(device = %self.device, command = %self.command, %path, bytes = contents.len(), "plug-in writes a file");
        let parent = host_path.parent().expect("resolved paths lie under the root");
        let written = std::fs::create_dir_all(parent).and_then(|()| tempfile::NamedTempFile::new_in(parent)).and_then(
            |mut tmp| {
                std::io::Write::write_all(&mut tmp, &contents)?;
                keep_attributes(&host_path, tmp.as_file())?;
                tmp.persist(&host_path).map_err(|e| e.error)?;
                Ok(())
            },
        );
        written.map_err(|e| format!("write {path}: {e}"))
    }

    fn stat_granted(&mut self, path: String) -> Result<Option<(u32, u32, u32, u64)>, String> {
        let host_path = self.policy.resolve(&path, Access::Read).map_err(|d| self.denied("stat", d))?;
        match std::fs::symlink_metadata(&host_path) {
            Ok(meta) => Ok(Some(status(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("stat {path}: {e}")),
        }
    }

    fn set_owner_granted(&mut self, path: String, uid: u32, gid: u32) -> Result<(), String> {
        let host_path = self.policy.resolve(&path, Access::Write).map_err(|d| self.denied("set-owner", d))?;
        if !self.policy.may_change_owners() {
            return Err(self.denied("set-owner", Denied::Owners(path)));
        }
        tracing::info!(device = %self.device, command = %self.command, %path, uid, gid, "plug-in sets a file owner");
        #[cfg(unix)]
        {
            // lchown: a symlink planted at the path is changed itself, never
            // what it points to.
            std::os::unix::fs::lchown(&host_path, Some(uid), Some(gid))
                .map_err(|e| format!("set the owner of {path}: {e}"))
        }
        #[cfg(not(unix))]
        {
            let _ = host_path;
            Err(format!("set the owner of {path}: this system has no numeric owners"))
        }
    }

    fn create_granted(&mut self, path: String) -> Result<(), String> {
        let host_path = self.policy.resolve(&path, Access::Write).map_err(|d| self.denied("create-dir", d))?;
        std::fs::create_dir_all(&host_path).map_err(|e| format!("create {path}: {e}"))
    }

    fn set_mode_granted(&mut self, path: String, mode: u32) -> Result<(), String> {
        let host_path = self.policy.resolve(&path, Access::Write).map_err(|d| self.denied("set-mode", d))?;
        if mode > 0o777 {
            return Err(format!("mode {mode:o} of {path}: only permission bits (at most 0777) may be set"));
        }
        tracing::info!(device = %self.device, command = %self.command, %path, mode = format!("{mode:o}"), "plug-in sets a file mode");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&host_path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("set the mode of {path}: {e}"))
        }
        #[cfg(not(unix))]
        {
            let _ = host_path;
            Err(format!("set the mode of {path}: this system has no permission bits"))
        }
    }

    /// A package of the device's model, fetched and verified by the agent.
    /// The manifest's grant is checked first, so a plug-in without it causes
    /// no network traffic at all; the gateway then checks entitlement.
    fn fetch_granted(&mut self, name: String, version: String) -> Result<super::PackageFile, String> {
        if let Err(denied) = self.policy.check_fetch(&name) {
            return Err(self.denied("fetch", denied));
        }
        let Some(repository) = &self.repository else {
            return Err(format!("fetch {name} {version}: this call has no repository (no gateway connection)"));
        };
        tracing::info!(device = %self.device, command = %self.command, package = %name, %version, "plug-in fetches a package");
        repository.fetch(&name, &version).map_err(|e| format!("fetch {name} {version}: {e}"))
    }

    fn log_line(&self, level: tracing::Level, message: &str) {
        let (device, command) = (&self.device, &self.command);
        match level {
            tracing::Level::DEBUG => tracing::debug!(%device, %command, "plug-in: {message}"),
            tracing::Level::INFO => tracing::info!(%device, %command, "plug-in: {message}"),
            tracing::Level::WARN => tracing::warn!(%device, %command, "plug-in: {message}"),
            _ => tracing::error!(%device, %command, "plug-in: {message}"),
        }
    }
}

/// A file written over another keeps its mode and owner (the replacement is
/// a new file, which would otherwise be 0600 and the agent's); a new file is
/// 0644, as with the usual umask.
fn keep_attributes(replaced: &std::path::Path, new: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        match std::fs::metadata(replaced) {
            Ok(old) => {
                new.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))?;
                std::os::unix::fs::fchown(new, Some(old.uid()), Some(old.gid()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                new.set_permissions(std::fs::Permissions::from_mode(0o644))
            }
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (replaced, new);
        Ok(())
    }
}

/// (mode, uid, gid, size) of a file; Windows has no numeric owners (0).
fn status(meta: &std::fs::Metadata) -> (u32, u32, u32, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.mode() & 0o7777, meta.uid(), meta.gid(), meta.len())
    }
    #[cfg(not(unix))]
    {
        (0, 0, 0, meta.len())
    }
}

/// The `Host` traits of one WIT version, bound to the capabilities above;
/// `$extra` holds the functions only that version has.
macro_rules! bind_host {
    ($version:ident { $($extra:item)* }) => {
        impl $version::outfit::plugin::types::Host for HostState {}

        impl $version::outfit::plugin::host::Host for HostState {
            fn run(
                &mut self,
                argv: Vec<String>,
            ) -> wasmtime::Result<Result<$version::outfit::plugin::types::CommandOutput, String>> {
                let output = self.run_allowed(argv);
                Ok(output.map(|o| $version::outfit::plugin::types::CommandOutput {
                    status: o.status,
                    stdout: o.stdout,
                    stderr: o.stderr,
                }))
            }

            fn read_file(&mut self, path: String) -> wasmtime::Result<Result<Vec<u8>, String>> {
                Ok(self.read_granted(path))
            }

            fn write_file(&mut self, path: String, contents: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
                Ok(self.write_granted(path, contents))
            }

            fn create_dir(&mut self, path: String) -> wasmtime::Result<Result<(), String>> {
                Ok(self.create_granted(path))
            }

            fn log(&mut self, level: $version::outfit::plugin::types::LogLevel, message: String) -> wasmtime::Result<()> {
                use $version::outfit::plugin::types::LogLevel;
                let level = match level {
                    LogLevel::Debug => tracing::Level::DEBUG,
                    LogLevel::Info => tracing::Level::INFO,
                    LogLevel::Warn => tracing::Level::WARN,
                    LogLevel::Error => tracing::Level::ERROR,
                };
                self.log_line(level, &message);
                Ok(())
            }

            $($extra)*
        }
    };
}

bind_host!(v0 {});

/// What 1.0 added: `set-mode` and `now`, the same in every later version.
macro_rules! since_v1 {
    () => {
        fn set_mode(&mut self, path: String, mode: u32) -> wasmtime::Result<Result<(), String>> {
            Ok(self.set_mode_granted(path, mode))
        }

        fn now(&mut self) -> wasmtime::Result<u64> {
            let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            Ok(since.as_millis() as u64)
        }
    };
}

bind_host!(v1 { since_v1!(); });

bind_host!(v11 {
    since_v1!();

    fn stat(&mut self, path: String) -> wasmtime::Result<Result<Option<v11::outfit::plugin::types::FileStatus>, String>> {
        Ok(self.stat_granted(path).map(|found| {
            found.map(|(mode, uid, gid, size)| v11::outfit::plugin::types::FileStatus { mode, uid, gid, size })
        }))
    }

    fn set_owner(&mut self, path: String, uid: u32, gid: u32) -> wasmtime::Result<Result<(), String>> {
        Ok(self.set_owner_granted(path, uid, gid))
    }
});

impl v12::outfit::plugin1_2_0::repository::Host for HostState {
    fn fetch(
        &mut self,
        name: String,
        version: String,
    ) -> wasmtime::Result<Result<v11::outfit::plugin::types::PackageFile, String>> {
        Ok(self.fetch_granted(name, version).map(|f| v11::outfit::plugin::types::PackageFile {
            name: f.name,
            version: f.version,
            format: f.format,
            path: f.path,
        }))
    }
}
