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
//!
//! Layout: `open/<key>.toml` for commands started or finished but not yet
//! acknowledged, `done/<key>.toml` once the gateway recorded the result. Only
//! `open/` is scanned before each drain, so the cost does not grow with history.

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
    Finished { kind: String, outcome: String, message: String },
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
/// Install, configure, install-plugin, network and service changes converge
/// on the same state however often they run. A reboot is not: one found started but unfinished may
/// already have happened; nor is a rollback, which switches to whatever came
/// before (twice is a roll forward).
pub fn safe_to_repeat(kind: CommandKind) -> bool {
    match kind {
        CommandKind::Install
        | CommandKind::Configure
        | CommandKind::InstallPlugin
        | CommandKind::Network
        | CommandKind::Service
        | CommandKind::Upgrade
        | CommandKind::Remove
        | CommandKind::Inventory => true,
        CommandKind::Reboot | CommandKind::RollbackPlugin => false,
    }
}

#[derive(Debug, Clone)]
pub struct Journal {
    open: PathBuf,
    done: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.display().to_string(), source }
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    crate::platform::sync_dir(dir).map_err(io(dir))
}

fn read(path: &Path) -> Result<Option<Entry>, JournalError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .map_err(|e| JournalError::Corrupt { path: path.display().to_string(), message: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

impl Journal {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let dir = dir.into();
        let journal = Self { open: dir.join("open"), done: dir.join("done") };
        for d in [&journal.open, &journal.done] {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        Ok(journal)
    }

    fn file(key: &str) -> Result<String, JournalError> {
        let ok = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(JournalError::BadId(key.to_owned()));
        }
        Ok(format!("{key}.toml"))
    }

    pub fn get(&self, key: &str) -> Result<Option<Entry>, JournalError> {
        let file = Self::file(key)?;
        match read(&self.open.join(&file))? {
            Some(entry) => Ok(Some(entry)),
            None => read(&self.done.join(&file)),
        }
    }

    /// Replaces an open entry atomically and durably (temp file, fsync, rename, fsync dir).
    fn put(&self, key: &str, entry: &Entry) -> Result<(), JournalError> {
        let path = self.open.join(Self::file(key)?);
        let text = toml::to_string(entry).expect("journal entries serialize");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.open).map_err(io(&self.open))?;
        tmp.write_all(text.as_bytes()).map_err(io(&path))?;
        tmp.as_file().sync_all().map_err(io(&path))?;
        tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
        sync_dir(&self.open)
    }

    pub fn start(&self, key: &str, kind: CommandKind) -> Result<(), JournalError> {
        self.put(key, &Entry::Started { kind: kind.as_str().to_owned() })
    }

    pub fn finish(&self, key: &str, kind: CommandKind, outcome: Outcome, message: &str) -> Result<(), JournalError> {
        let entry = Entry::Finished {
            kind: kind.as_str().to_owned(),
            outcome: outcome.as_str().to_owned(),
            message: message.to_owned(),
        };
        self.put(key, &entry)
    }

    /// The gateway has recorded this result: the entry moves from `open/` to `done/`.
    pub fn acknowledge(&self, key: &str) -> Result<(), JournalError> {
        let file = Self::file(key)?;
        let (from, to) = (self.open.join(&file), self.done.join(&file));
        if !matches!(read(&from)?, Some(Entry::Finished { .. })) {
            return Ok(());
        }
        std::fs::rename(&from, &to).map_err(io(&to))?;
        sync_dir(&self.done)?;
        sync_dir(&self.open)
    }

    /// Finished results the gateway has not acknowledged, oldest command first.
    pub fn unacknowledged(&self) -> Result<Vec<(String, Outcome, String)>, JournalError> {
        let mut pending = Vec::new();
        for dirent in std::fs::read_dir(&self.open).map_err(io(&self.open))? {
            let path = dirent.map_err(io(&self.open))?.path();
            let Some(key) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".toml")) else {
                continue; // a temporary file of an interrupted write
            };
            if let Some(entry @ Entry::Finished { .. }) = read(&path)? {
                let (outcome, message) = entry.outcome().expect("finished");
                pending.push((key.to_owned(), outcome, message));
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
        // Acknowledged entries leave the directory scanned before each drain;
        // no temporary files are left behind.
        let count = |d: &str| std::fs::read_dir(dir.path().join(d)).unwrap().count();
        assert_eq!((count("open"), count("done")), (1, 1));
    }
}
