//! The reboot capability and the boot id.
//!
//! The boot id tells the gateway a reboot from a reconnect: it changes when the
//! machine boots (`platform::machine_boot_id`) and, in `restart-agent` mode, each
//! time the agent performs a simulated reboot (a generation counter kept in the
//! state directory). A plain agent crash and restart keeps the boot id.
//!
//! **Invariant:** a reboot the gateway recorded as under way happens exactly
//! once. Before the agent marks that result acknowledged it writes what it
//! owes (the command and this boot's id); an agent that starts and finds it
//! owed in the same boot (it was killed before rebooting) reboots first, and
//! one that finds it from an earlier boot settles it without rebooting again.

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
    /// The reboot owed: `KEY BOOT-ID` of the command and the boot it came in.
    owed_file: PathBuf,
}

/// What a start finds of a reboot it owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owed {
    /// The reboot of this command (its journal key) has not happened yet.
    Pending(String),
    /// It happened: the command's result is acknowledged, nothing more to do.
    Done(String),
}

impl Reboot {
    pub fn new(mode: RebootMode, state_dir: &Path) -> Self {
        Self { mode, generation_file: state_dir.join("boot-generation"), owed_file: state_dir.join("reboot-owed") }
    }

    /// Records, durably, that the reboot command `key` is owed in this boot.
    pub fn owe(&self, key: &str) -> std::io::Result<()> {
        use std::io::Write as _;
        let dir = self.owed_file.parent().expect("a file in the state directory");
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(format!("{key} {}", self.boot_id()).as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.owed_file).map_err(|e| e.error)?;
        crate::platform::sync_dir(dir)
    }

    /// The reboot recorded by [`Self::owe`], if any, and whether it happened.
    pub fn owed(&self) -> Option<Owed> {
        let text = std::fs::read_to_string(&self.owed_file).ok()?;
        let (key, boot) = text.trim().split_once(' ')?;
        Some(if boot == self.boot_id() { Owed::Pending(key.to_owned()) } else { Owed::Done(key.to_owned()) })
    }

    /// Forgets an owed reboot that happened.
    pub fn settle(&self) {
        if let Err(e) = std::fs::remove_file(&self.owed_file) {
            tracing::warn!(error = %e, "could not remove the record of a reboot that happened");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owed_reboot_is_pending_in_its_boot_and_done_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let reboot = Reboot::new(RebootMode::RestartAgent, dir.path());
        assert_eq!(reboot.owed(), None);
        reboot.owe("42-1").unwrap();
        assert_eq!(reboot.owed(), Some(Owed::Pending("42-1".into())), "killed before rebooting: still owed");
        // What `perform` does first in restart-agent mode: a new generation, a new boot.
        std::fs::write(dir.path().join("boot-generation"), "1").unwrap();
        assert_eq!(reboot.owed(), Some(Owed::Done("42-1".into())), "the next boot owes nothing");
        reboot.settle();
        assert_eq!(reboot.owed(), None);
    }
}
