//! The host capabilities a plug-in imports (WIT interface `outfit:plugin/host`).
//! Each checks the invocation's [`Policy`] before touching anything and is
//! traced with the device and command it serves. A denial is an `Err` the
//! plug-in sees (and reports); only host bugs trap.

use super::HostState;
use super::bindings::outfit::plugin::{host, types};
use super::policy::{Access, Denied};
use std::io::Read;
use std::process::{Command, Stdio};

/// Output kept per stream of a command; the rest is cut so a chatty program
/// cannot exhaust the agent's memory.
const MAX_OUTPUT: u64 = 1 << 20;

impl types::Host for HostState {}

impl HostState {
    fn denied(&self, capability: &str, denied: Denied) -> String {
        tracing::warn!(device = %self.device, command = %self.command, capability, %denied, "plug-in request denied");
        denied.to_string()
    }
}

fn capped(reader: impl Read) -> String {
    let mut buffer = Vec::new();
    let _ = reader.take(MAX_OUTPUT).read_to_end(&mut buffer);
    String::from_utf8_lossy(&buffer).into_owned()
}

impl host::Host for HostState {
    fn run(&mut self, argv: Vec<String>) -> wasmtime::Result<Result<types::CommandOutput, String>> {
        if argv.is_empty() {
            return Ok(Err("run needs at least a program name".into()));
        }
        let program = match self.policy.check_command(&argv) {
            Ok(program) => program,
            Err(denied) => return Ok(Err(self.denied("run", denied))),
        };
        tracing::info!(device = %self.device, command = %self.command, argv = ?argv, "plug-in runs a command");
        let child = Command::new(&program)
            .args(&argv[1..])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => return Ok(Err(format!("start {}: {e}", program.display()))),
        };
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let err_reader = std::thread::spawn(move || capped(stderr));
        let out = capped(stdout);
        let err = err_reader.join().unwrap_or_default();
        let status = match child.wait() {
            Ok(status) => status.code().unwrap_or(-1),
            Err(e) => return Ok(Err(format!("wait for {}: {e}", program.display()))),
        };
        Ok(Ok(types::CommandOutput { status, stdout: out, stderr: err }))
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
