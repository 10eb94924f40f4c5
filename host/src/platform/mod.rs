//! What differs between the operating systems the agent runs on: how a boot
//! is told apart, how the agent restarts itself as a new boot, how the machine
//! reboots, where its state lives by default, how it runs under the OS's
//! service manager (only Windows needs a protocol for that). One implementation per OS
//! family (`unix.rs`: Linux, Solaris, illumos; `windows.rs`); nothing else in
//! the agent needs `cfg`.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
pub mod service_install;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

/// Resolves when the OS's service manager asks the agent to stop (Windows:
/// Stop or Shutdown from the Service Control Manager).
pub type Stop = tokio::sync::oneshot::Receiver<()>;

/// Relaunches the agent with the arguments it was started with, as a new
/// process (for a `restart-agent` reboot where the OS cannot replace a
/// running image); returns only on failure.
#[cfg_attr(unix, allow(dead_code, reason = "unix replaces the image with exec instead"))]
fn relaunch_and_exit() -> std::io::Error {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    match std::process::Command::new(exe).args(std::env::args_os().skip(1)).spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    }
}
