//! Windows.

use std::path::{Path, PathBuf};

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
