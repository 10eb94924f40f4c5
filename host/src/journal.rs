//! The agent's durable journal: for each command id, that it started and how it
//! ended, written (and fsynced) before the next step. It is what makes execution
//! exactly-once from the agent's side:
//!
//! - a command delivered again after its result was lost is answered from the
//!   journal, not run again;
//! - a command found started but unfinished (the agent died while running it)
//!   is re-run only if its kind is safe to repeat, else reported as interrupted;
//! - a result the gateway has not acknowledged stays on disk and is sent again
//!   before the agent asks for new work.

use outfit_wsdl::messages::{CommandKind, Outcome};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("journal entry {path} is unreadable: {message}")]
    Corrupt { path: String, message: String },
    #[error("command id `{0}` cannot name a journal entry")]
    BadId(String),
}

/// Where a command stands in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Entry {
    Started { kind: String },
    Finished { kind: String, outcome: String, message: String, acknowledged: bool },
}

impl Entry {
    pub fn outcome(&self) -> Option<(Outcome, String)> {
        match self {
            Self::Finished { outcome, message, .. } => {
                Some((Outcome::parse(outcome).unwrap_or(Outcome::Failed), message.clone()))
            }
            Self::Started { .. } => None,
        }
    }
}

/// The journal key of one run of a command: `<id>-<run>`. An operator's retry
/// raises `run`, so a retried command is a new entry and really runs again.
pub fn key(command: &outfit_wsdl::messages::Command) -> String {
    format!("{}-{}", command.id, command.run)
}

/// The command id inside a journal key.
pub fn command_id(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(id, _)| id)
}

/// Whether a command of this kind may run again after an interruption.
/// Install and configure converge on the same state however often they run.
/// A reboot is not: one found started but unfinished may already have happened.
pub fn safe_to_repeat(kind: CommandKind) -> bool {
    match kind {
        CommandKind::Install | CommandKind::Configure => true,
        CommandKind::Reboot => false,
    }
}

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.display().to_string(), source }
}

impl Journal {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Self { dir })
    }

    fn path(&self, id: &str) -> Result<PathBuf, JournalError> {
        let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(JournalError::BadId(id.to_owned()));
        }
        Ok(self.dir.join(format!("{id}.toml")))
    }

    pub fn get(&self, id: &str) -> Result<Option<Entry>, JournalError> {
        let path = self.path(id)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| JournalError::Corrupt { path: path.display().to_string(), message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Replaces an entry atomically and durably (temp file, fsync, rename, fsync dir).
    fn put(&self, id: &str, entry: &Entry) -> Result<(), JournalError> {
        let path = self.path(id)?;
        let text = toml::to_string(entry).expect("journal entries serialize");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io(&self.dir))?;
        tmp.write_all(text.as_bytes()).map_err(io(&path))?;
        tmp.as_file().sync_all().map_err(io(&path))?;
        tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
        std::fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))
    }

    pub fn start(&self, id: &str, kind: CommandKind) -> Result<(), JournalError> {
        self.put(id, &Entry::Started { kind: kind.as_str().to_owned() })
    }

    pub fn finish(&self, id: &str, kind: CommandKind, outcome: Outcome, message: &str) -> Result<(), JournalError> {
        let entry = Entry::Finished {
            kind: kind.as_str().to_owned(),
            outcome: outcome.as_str().to_owned(),
            message: message.to_owned(),
            acknowledged: false,
        };
        self.put(id, &entry)
    }

    /// The gateway has recorded this result.
    pub fn acknowledge(&self, id: &str) -> Result<(), JournalError> {
        if let Some(Entry::Finished { kind, outcome, message, .. }) = self.get(id)? {
            self.put(id, &Entry::Finished { kind, outcome, message, acknowledged: true })?;
        }
        Ok(())
    }

    /// Finished results the gateway has not acknowledged, oldest command first.
    pub fn unacknowledged(&self) -> Result<Vec<(String, Outcome, String)>, JournalError> {
        let mut pending = Vec::new();
        for dirent in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = dirent.map_err(io(&self.dir))?.path();
            let Some(id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".toml")) else {
                continue;
            };
            if let Some(entry @ Entry::Finished { acknowledged: false, .. }) = self.get(id)? {
                let (outcome, message) = entry.outcome().expect("finished");
                pending.push((id.to_owned(), outcome, message));
            }
        }
        // Ids are the gateway's increasing row ids; report in that order.
        let order = |key: &str| {
            let (id, run) = key.rsplit_once('-').unwrap_or((key, "0"));
            (id.parse::<u64>().unwrap_or(u64::MAX), run.parse::<u64>().unwrap_or(0))
        };
        pending.sort_by_key(|p| order(&p.0));
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_track_acknowledgement() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.get("7").unwrap(), None);
        journal.start("7-1", CommandKind::Install).unwrap();
        journal.start("12-1", CommandKind::Configure).unwrap();
        assert_eq!(journal.get("7-1").unwrap(), Some(Entry::Started { kind: "install".into() }));
        journal.finish("12-1", CommandKind::Configure, Outcome::Failed, "boom").unwrap();
        journal.finish("7-1", CommandKind::Install, Outcome::Succeeded, "ok").unwrap();

        let reopened = Journal::open(dir.path()).unwrap();
        let pending = reopened.unacknowledged().unwrap();
        assert_eq!(
            pending,
            vec![("7-1".into(), Outcome::Succeeded, "ok".into()), ("12-1".into(), Outcome::Failed, "boom".into())]
        );
        assert_eq!(command_id("12-1"), "12");
        reopened.acknowledge("7-1").unwrap();
        assert_eq!(reopened.unacknowledged().unwrap().len(), 1);
        // An acknowledged result is still known, so a re-delivery is answered, not re-run.
        assert_eq!(reopened.get("7-1").unwrap().unwrap().outcome(), Some((Outcome::Succeeded, "ok".into())));
        // A retried command (run 2) is a new entry.
        assert_eq!(reopened.get("12-2").unwrap(), None);
        assert!(matches!(reopened.start("../x", CommandKind::Install), Err(JournalError::BadId(_))));
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
