//! The reboot capability and the boot id.
//!
//! The boot id tells the gateway a reboot from a reconnect: it changes when the
//! machine boots (`platform::machine_boot_id`) and, in `restart-agent` mode, each
//! time the agent performs a simulated reboot (a generation counter kept in the
//! state directory). A plain agent crash and restart keeps the boot id.

use std::path::{Path, PathBuf};

/// How this agent carries out a `reboot` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RebootMode {
    /// Reboot the machine (`shutdown -r now`; on Windows `shutdown /r /t 0`).
    System,
    /// Restart only the agent process, as a new boot. For agents managing a
    /// `--root` directory rather than a whole machine (tests, the demo).
    RestartAgent,
}

#[derive(Debug, Clone)]
pub struct Reboot {
    pub mode: RebootMode,
    generation_file: PathBuf,
}

impl Reboot {
    pub fn new(mode: RebootMode, state_dir: &Path) -> Self {
        Self { mode, generation_file: state_dir.join("boot-generation") }
    }

    fn generation(&self) -> u64 {
        std::fs::read_to_string(&self.generation_file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
    }

    /// The id of the current boot, as sent in Hello.
    pub fn boot_id(&self) -> String {
        format!("{}.{}", crate::platform::machine_boot_id(), self.generation())
    }

    /// Reboots. In `restart-agent` mode this replaces the process with a fresh
    /// agent (same arguments) and does not return on success.
    pub fn perform(&self) -> std::io::Error {
        match self.mode {
            RebootMode::RestartAgent => {
                if let Err(e) = std::fs::write(&self.generation_file, (self.generation() + 1).to_string()) {
                    return e;
                }
                tracing::warn!("rebooting: restarting the agent as a new boot");
                crate::platform::restart_agent()
            }
            RebootMode::System => {
                tracing::warn!("rebooting the machine");
                match crate::platform::reboot_machine() {
                    Ok(status) if status.success() => std::io::Error::other("shutdown accepted; waiting to be stopped"),
                    Ok(status) => std::io::Error::other(format!("shutdown exited with {status}")),
                    Err(e) => e,
                }
            }
        }
    }
}
