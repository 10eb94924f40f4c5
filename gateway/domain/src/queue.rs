//! A device's command queue: the states a command moves through, the head of a
//! queue as the agent is answered, and a queue's counts as an operator reads them.
//!
//! **Invariant:** a command moves `pending → sent → succeeded | failed |
//! rebooting`, each move a compare-and-set on its current state (the store does
//! them), so a repeated or stale report never moves it twice.

use crate::ids::{CommandId, DeviceId, ModelVersionId};

/// Where a command is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandState {
    Pending,
    Sent,
    Succeeded,
    Failed,
    /// An operator let the queue go on past this failed command.
    Skipped,
    /// An operator cancelled this command before it succeeded.
    Aborted,
    /// A reboot command the agent answered with RebootUnderway; the queue waits
    /// until the agent says Hello with a new boot id.
    Rebooting,
    /// Handed out and not answered within its kind's timeout. The queue halts
    /// as for a failure; a late result from the agent is still accepted.
    TimedOut,
    /// Not handed out before the deadline the operator gave it (the device was
    /// offline); closed without running.
    Expired,
}

impl CommandState {
    pub const ALL: [CommandState; 9] = [
        Self::Pending,
        Self::Sent,
        Self::Succeeded,
        Self::Failed,
        Self::Skipped,
        Self::Aborted,
        Self::Rebooting,
        Self::TimedOut,
        Self::Expired,
    ];
    /// States in which a command is done and no longer blocks its queue.
    pub const CLOSED: [CommandState; 4] = [Self::Succeeded, Self::Skipped, Self::Aborted, Self::Expired];
    /// Every other state: the head of a queue is the first command in one of
    /// these. The database derives `commands.in_queue` from the same list
    /// (migration 000008), which a store test checks against this one.
    pub const OPEN: [CommandState; 5] = [Self::Pending, Self::Sent, Self::Failed, Self::Rebooting, Self::TimedOut];
    /// States an operator's retry, skip or abort acts on: the queue is halted.
    pub const HALTING: [CommandState; 2] = [Self::Failed, Self::TimedOut];

    /// As stored in `commands.state` and shown to operators.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Aborted => "aborted",
            Self::Rebooting => "rebooting",
            Self::TimedOut => "timedout",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

impl std::fmt::Display for CommandState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command of a device's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedCommand {
    pub id: CommandId,
    pub device: DeviceId,
    /// Its place in the queue (1, 2, …).
    pub sequence: i64,
    pub kind: String,
    /// JSON of [`crate::command::Payload`].
    pub payload: String,
    pub state: CommandState,
    /// How often it was handed out.
    pub attempts: i32,
    /// Raised by an operator's retry, so the agent runs it anew.
    pub run: i32,
    pub result: Option<String>,
    /// The model version it helps build (`None` for a reboot, a script step …).
    pub model_version: Option<ModelVersionId>,
    /// Unix ms after which it is no longer handed out.
    pub expires_at: Option<i64>,
}

/// A command to append to a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCommand {
    pub kind: String,
    /// JSON of [`crate::command::Payload`]; shared, because a rollout
    /// queues the same plan on thousands of devices.
    pub payload: std::sync::Arc<str>,
    /// Unix ms after which the command is no longer handed out (None: never).
    pub expires_at: Option<i64>,
}

impl NewCommand {
    /// The queue rows for `payloads`, each to be handed out before `expires_at`
    /// (Unix ms) or not at all.
    pub fn all(payloads: &[crate::command::Payload], expires_at: Option<i64>) -> Vec<Self> {
        payloads.iter().map(|p| Self { kind: p.kind().to_owned(), payload: p.to_json().into(), expires_at }).collect()
    }
}

/// What the head of a device's queue is.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    Command(QueuedCommand),
    Empty,
    /// A command failed; nothing more is handed out until an operator acts.
    Halted,
    /// A reboot is under way; nothing is handed out until the device is back.
    Rebooting,
}

/// What an agent reported for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Succeeded,
    Failed,
    /// Only for reboot commands: the device is going down now.
    RebootUnderway,
}

/// How a result report was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The row moved from sent to its final state.
    Final,
    /// The row was already final: a repeated report, accepted and ignored.
    Repeated,
}

/// What one sweep closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub expired: usize,
    /// (command, device, kind) of each command that timed out.
    pub timed_out: Vec<(CommandId, DeviceId, String)>,
}

/// How many commands of a queue are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: i64,
    pub sent: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub rebooting: i64,
    pub timed_out: i64,
    /// Skipped or aborted by an operator, or expired.
    pub closed: i64,
}

impl QueueCounts {
    /// Tallies `(state, count)` pairs.
    pub fn tally(rows: impl IntoIterator<Item = (CommandState, i64)>) -> Self {
        let mut counts = Self::default();
        for (state, n) in rows {
            match state {
                CommandState::Pending => counts.pending += n,
                CommandState::Sent => counts.sent += n,
                CommandState::Succeeded => counts.succeeded += n,
                CommandState::Failed => counts.failed += n,
                CommandState::Rebooting => counts.rebooting += n,
                CommandState::TimedOut => counts.timed_out += n,
                CommandState::Skipped | CommandState::Aborted | CommandState::Expired => counts.closed += n,
            }
        }
        counts
    }

    /// The queue's state as an operator reads it: `halted` (a command failed or
    /// timed out; an operator must act), `rebooting`, `running` (a command is
    /// out), `waiting` (work queued, none out: the agent is offline or not yet
    /// asked) or `idle`.
    pub fn state(&self) -> &'static str {
        if self.failed + self.timed_out > 0 {
            "halted"
        } else if self.rebooting > 0 {
            "rebooting"
        } else if self.sent > 0 {
            "running"
        } else if self.pending > 0 {
            "waiting"
        } else {
            "idle"
        }
    }

    pub fn total(&self) -> i64 {
        self.pending + self.sent + self.succeeded + self.failed + self.rebooting + self.timed_out + self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_open_or_closed_and_reads_back() {
        for state in CommandState::ALL {
            assert_ne!(CommandState::OPEN.contains(&state), CommandState::CLOSED.contains(&state), "{state}");
            assert_eq!(CommandState::parse(state.as_str()), Some(state));
        }
        assert!(CommandState::HALTING.iter().all(|s| s.is_open()));
    }

    #[test]
    fn counts_say_what_an_operator_must_know_first() {
        let counts = |rows: &[(CommandState, i64)]| QueueCounts::tally(rows.iter().copied());
        assert_eq!(counts(&[]).state(), "idle");
        assert_eq!(counts(&[(CommandState::Pending, 2)]).state(), "waiting");
        assert_eq!(counts(&[(CommandState::Pending, 2), (CommandState::Sent, 1)]).state(), "running");
        assert_eq!(counts(&[(CommandState::Rebooting, 1), (CommandState::Sent, 1)]).state(), "rebooting");
        let halted = counts(&[(CommandState::TimedOut, 1), (CommandState::Expired, 2), (CommandState::Skipped, 1)]);
        assert_eq!((halted.state(), halted.closed, halted.total()), ("halted", 3, 4));
    }
}
