//! Linux, Solaris and illumos.

use std::path::{Path, PathBuf};

/// Changes at every boot of the machine: the kernel's boot id on Linux; on
/// Solaris and illumos, which have none, the boot time from `who -b`.
pub fn machine_boot_id() -> String {
    if let Ok(id) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
        return id.trim().to_owned();
    }
    std::process::Command::new("who")
        .arg("-b")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join("-"))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "boot".into())
}

/// Replaces this process with a fresh agent (same arguments); returns only on failure.
pub fn restart_agent() -> std::io::Error {
    use std::os::unix::process::CommandExt;
    match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe).args(std::env::args_os().skip(1)).exec(),
        Err(e) => e,
    }
}

/// Asks the OS to reboot now.
pub fn reboot_machine() -> std::io::Result<std::process::ExitStatus> {
    std::process::Command::new("shutdown").args(["-r", "now"]).status()
}

/// The agent's state directory when none is given.
pub fn default_state_dir(root: &Path) -> PathBuf {
    root.join("var/lib/outfit-agent")
}

/// A Windows service exists only on Windows; on Unix the service manager
/// (systemd, SMF) runs the agent as a plain process and stops it with a signal.
pub fn run_as_service(_agent: impl FnOnce(super::Stop) -> std::process::ExitCode) -> std::process::ExitCode {
    eprintln!(
        "error: --windows-service is for Windows' service manager; on this system run the agent as a plain \
         process (systemd: `ExecStart=outfit-agent …`, SMF: a method script)"
    );
    std::process::ExitCode::FAILURE
}

/// Makes a rename in `dir` durable (the directory's own entry list is synced).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
