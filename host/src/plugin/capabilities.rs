//! The host capabilities a plug-in imports (WIT interface `outfit:plugin/host`).
//! Each checks the invocation's [`Policy`] before touching anything and is
//! traced with the device and command it serves. A denial is an `Err` the
//! plug-in sees (and reports); only host bugs trap.

use super::HostState;
use super::bindings::outfit::plugin::{host, types};
use super::policy::{Access, Denied};

impl types::Host for HostState {}

impl HostState {
    fn denied(&self, capability: &str, denied: Denied) -> String {
        tracing::warn!(device = %self.device, command = %self.command, capability, %denied, "plug-in request denied");
        denied.to_string()
    }
}

impl host::Host for HostState {
    fn run(&mut self, argv: Vec<String>) -> wasmtime::Result<Result<types::CommandOutput, String>> {
        if argv.is_empty() {
            return Ok(Err("run needs at least a program name".into()));
        }
        if let Err(denied) = self.policy.check_command(&argv) {
            return Ok(Err(self.denied("run", denied)));
        }
        let Some(program) = self.os.locate(&argv[0]) else {
            return Ok(Err(self.denied("run", Denied::NoProgram(argv[0].clone()))));
        };
        tracing::info!(device = %self.device, command = %self.command, argv = ?argv, "plug-in runs a command");
        Ok(self.os.run(&program, &argv))
    }

    fn read_file(&mut self, path: String) -> wasmtime::Result<Result<Vec<u8>, String>> {
        let host_path = match self.policy.resolve(&path, Access::Read) {
            Ok(p) => p,
            Err(denied) => return Ok(Err(self.denied("read-file", denied))),
        };
        Ok(std::fs::read(&host_path).map_err(|e| format!("read {path}: {e}")))
    }

    fn write_file(&mut self, path: String, contents: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        let host_path = match self.policy.resolve(&path, Access::Write) {
            Ok(p) => p,
            Err(denied) => return Ok(Err(self.denied("write-file", denied))),
        };
        tracing::info!(device = %self.device, command = %self.command, %path, bytes = contents.len(), "plug-in writes a file");
        let parent = host_path.parent().expect("resolved paths lie under the root");
        let written = std::fs::create_dir_all(parent).and_then(|()| tempfile::NamedTempFile::new_in(parent)).and_then(
            |mut tmp| {
                std::io::Write::write_all(&mut tmp, &contents)?;
                tmp.persist(&host_path).map_err(|e| e.error)?;
                Ok(())
            },
        );
        Ok(written.map_err(|e| format!("write {path}: {e}")))
    }

    fn create_dir(&mut self, path: String) -> wasmtime::Result<Result<(), String>> {
        let host_path = match self.policy.resolve(&path, Access::Write) {
            Ok(p) => p,
            Err(denied) => return Ok(Err(self.denied("create-dir", denied))),
        };
        Ok(std::fs::create_dir_all(&host_path).map_err(|e| format!("create {path}: {e}")))
    }

    fn log(&mut self, level: types::LogLevel, message: String) -> wasmtime::Result<()> {
        let (device, command) = (&self.device, &self.command);
        match level {
            types::LogLevel::Debug => tracing::debug!(%device, %command, "plug-in: {message}"),
            types::LogLevel::Info => tracing::info!(%device, %command, "plug-in: {message}"),
            types::LogLevel::Warn => tracing::warn!(%device, %command, "plug-in: {message}"),
            types::LogLevel::Error => tracing::error!(%device, %command, "plug-in: {message}"),
        }
        Ok(())
    }
}
