//! Windows.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

/// The service name `sc create` registers the agent under. Windows ignores
/// it for a service that has its own process, so another name works too.
pub const SERVICE_NAME: &str = "OutfitAgent";

type AgentMain = Box<dyn FnOnce(super::Stop) -> std::process::ExitCode + Send>;

/// The agent, handed from `main` to the service thread Windows starts.
static AGENT: Mutex<Option<AgentMain>> = Mutex::new(None);

define_windows_service!(ffi_service_main, service_main);

/// Runs `agent` as a Windows service: connects to the Service Control
/// Manager (which started this process, `sc start`), says Running, passes a
/// Stop or Shutdown on as `Stop`, and says Stopped with the agent's exit code
/// when it returns. Blocks until then.
pub fn run_as_service(
    agent: impl FnOnce(super::Stop) -> std::process::ExitCode + Send + 'static,
) -> std::process::ExitCode {
    *AGENT.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(agent));
    match service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: failed to connect to the service manager ({e}); --windows-service is for a process \
                 the service manager starts (`sc create {SERVICE_NAME} binPath= \"outfit-agent.exe \
                 --windows-service …\"`, then `sc start {SERVICE_NAME}`); from a console, leave it out"
            );
            std::process::ExitCode::FAILURE
        }
    }
}

fn service_main(_arguments: Vec<std::ffi::OsString>) {
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let stop = Mutex::new(Some(stop));
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            if let Some(stop) = stop.lock().unwrap_or_else(PoisonError::into_inner).take() {
                let _ = stop.send(());
            }
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = match service_control_handler::register(SERVICE_NAME, handler) {
        Ok(status) => status,
        Err(e) => {
            tracing::error!(error = %e, "could not register with the service manager");
            return;
        }
    };
    let report = |state, accepted, code| {
        let status_now = ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accepted,
            exit_code: ServiceExitCode::Win32(code),
            checkpoint: 0,
            wait_hint: Duration::from_secs(10),
            process_id: None,
        };
        if let Err(e) = status.set_service_status(status_now) {
            tracing::warn!(error = %e, ?state, "could not report the service state");
        }
    };
    report(ServiceState::Running, ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN, 0);
    let agent = AGENT.lock().unwrap_or_else(PoisonError::into_inner).take();
    let code = match agent.map(|agent| agent(stopped)) {
        Some(code) if code == std::process::ExitCode::SUCCESS => 0,
        // ERROR_SERVICE_SPECIFIC_ERROR would need a second code; a generic
        // failure tells the service manager to apply its recovery actions.
        _ => 1,
    };
    report(ServiceState::Stopped, ServiceControlAccept::empty(), code);
}

/// Changes at every boot: the boot time, from the milliseconds since boot
/// (`GetTickCount64`), rounded to ten seconds so that two reads agree.
pub fn machine_boot_id() -> String {
    // SAFETY: GetTickCount64 takes no arguments and cannot fail.
    #[expect(unsafe_code, reason = "a plain Win32 call without arguments")]
    let up_ms = unsafe { windows_sys::Win32::System::SystemInformation::GetTickCount64() };
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    format!("boot-{}", now_ms.saturating_sub(up_ms) / 10_000)
}

/// Starts a fresh agent (same arguments) and exits: Windows cannot replace a
/// running process image. Returns only on failure.
pub fn restart_agent() -> std::io::Error {
    super::relaunch_and_exit()
}

/// Asks Windows to reboot now.
pub fn reboot_machine() -> std::io::Result<std::process::ExitStatus> {
    std::process::Command::new("shutdown").args(["/r", "/t", "0"]).status()
}

/// The agent's state directory when none is given.
pub fn default_state_dir(root: &Path) -> PathBuf {
    root.join("ProgramData").join("Outfit").join("agent")
}

/// Nothing to do: NTFS journals its metadata, so a completed rename is durable,
/// and a directory cannot be opened as a file to sync it.
pub fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
