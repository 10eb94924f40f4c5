//! The agent's life: say Hello, then drain the queue (NextCommand → execute →
//! ReportResult … until NoCommand) whenever a poke arrives or the poll timer
//! fires. Gateway outages are waited out; they never stop the agent.

use crate::client::{ClientError, GatewayClient};
use crate::execute::{Execution, Executor};
use crate::identity::Renewal;
use crate::journal::{self, Entry, Journal};
use crate::reboot::{Owed, Reboot};
use outfit_wsdl::messages::{Command, CommandKind, Outcome};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Why a drain stopped before the gateway said "no command".
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    #[error(transparent)]
    Gateway(#[from] ClientError),
    #[error("a command could not run now: {0}")]
    Unavailable(String),
}

#[derive(Debug)]
pub struct Agent {
    pub client: GatewayClient,
    pub executor: Executor,
    pub journal: Journal,
    pub reboot: Reboot,
    pub poke_url: Option<String>,
    pub poll_interval: Duration,
    pub wake: Arc<Notify>,
    pub renewal: Renewal,
    /// A plug-in was installed or rolled back since the last Hello.
    pub plugins_changed: AtomicBool,
    /// `STATE/local-changes.jsonl`, reported with the inventory.
    pub changes: std::path::PathBuf,
    pub inventory_interval: Duration,
}

/// How often the agent looks at its certificate's expiry.
const RENEWAL_CHECK: Duration = Duration::from_secs(3600);

/// How long after a drain that changed the device its inventory is sent.
/// Commands that follow within it (a script, then a provisioning) share one
/// report, and the gateway is not storing inventories while the rest of a
/// fleet still fetches the commands that set them off.
pub const INVENTORY_SETTLE: Duration = Duration::from_secs(1);

/// `interval` ± 10 %, so that a fleet restarted together does not poll in step.
fn jittered(interval: Duration) -> Duration {
    let tenth = interval.as_millis() as u64 / 10;
    interval - Duration::from_millis(tenth) + Duration::from_millis(fastrand::u64(0..=2 * tenth))
}

impl Agent {
    pub async fn run(self) {
        // A reboot the gateway recorded but this boot has not carried out yet
        // (the agent was stopped in between) comes before anything else.
        match self.reboot.owed() {
            Some(Owed::Pending(key)) => {
                tracing::warn!(command = %journal::command_id(&key), "a reboot is owed; rebooting now");
                let _ = self.reboot_now();
            }
            Some(Owed::Done(key)) => {
                self.acknowledge(&key);
                self.reboot.settle();
            }
            None => {}
        }
        self.say_hello().await;
        self.renewal.check(&self.client).await;
        self.report_inventory("start").await;
        let mut retry = Duration::from_millis(500);
        let mut renewal_due = Instant::now() + RENEWAL_CHECK;
        let mut inventory_due = Instant::now() + jittered(self.inventory_interval);
        // The inventory a drain that changed the device owes, and when; a
        // later drain within the settle time does not push it back.
        let mut settled: Option<Instant> = None;
        let mut drain_at = Instant::now();
        loop {
            let now = Instant::now();
            if now >= renewal_due {
                self.renewal.check(&self.client).await;
                renewal_due = Instant::now() + RENEWAL_CHECK;
            }
            if now >= inventory_due {
                self.report_inventory("periodic").await;
                inventory_due = Instant::now() + jittered(self.inventory_interval);
            }
            if settled.is_some_and(|at| now >= at) {
                settled = None;
                self.report_inventory("drained").await;
            }
            if now >= drain_at {
                let mut changed = false;
                let drained = self.drain(&mut changed).await;
                if changed {
                    settled.get_or_insert_with(|| Instant::now() + INVENTORY_SETTLE);
                }
                // After a failure, try again soon (backing off) rather than waiting a whole poll interval.
                let wait = match drained {
                    Ok(()) => {
                        retry = Duration::from_millis(500);
                        jittered(self.poll_interval)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not finish the queue; retrying in {retry:?}");
                        let wait = retry.min(self.poll_interval);
                        retry = (retry * 2).min(Duration::from_secs(60));
                        wait
                    }
                };
                drain_at = Instant::now() + wait;
            }
            let until = settled.map_or(drain_at, |at| at.min(drain_at));
            tokio::select! {
                () = self.wake.notified() => {
                    tracing::debug!("woken by a poke");
                    drain_at = Instant::now();
                }
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Gathers and sends the inventory; returns how many differences from its
    /// model the gateway found.
    async fn send_inventory(&self, occasion: &'static str) -> Result<i32, String> {
        let (executor, device, changes) = (self.executor.clone(), self.client.device.clone(), self.changes.clone());
        let report =
            tokio::task::spawn_blocking(move || crate::inventory::collect(&executor, &device, &changes, occasion))
                .await
                .map_err(|e| format!("gathering the inventory crashed: {e}"))?;
        self.client.report_inventory(report).await.map_err(|e| e.to_string())
    }

    /// An inventory the agent sends of its own accord; a failure waits for the next occasion.
    async fn report_inventory(&self, occasion: &'static str) {
        match self.send_inventory(occasion).await {
            Ok(drift) => tracing::info!(occasion, drift, "inventory reported"),
            Err(e) => tracing::warn!(occasion, error = %e, "could not report the inventory"),
        }
    }

    /// Retries Hello with backoff until the gateway answers.
    async fn say_hello(&self) {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.hello().await {
                Ok(pending) => {
                    tracing::info!(pending, "gateway acknowledged Hello");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Hello failed; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// `Hello` with this boot's id and the plug-ins serving now.
    async fn hello(&self) -> Result<i64, ClientError> {
        let plugins = self.executor.plugin_report();
        let precompiled_only = self.executor.plugins.precompiled_only();
        self.client.hello(&self.reboot.boot_id(), self.poke_url.as_deref(), plugins, precompiled_only).await
    }

    /// After a plug-in switch, tells the gateway before anything else (a
    /// Hello with the same boot id is a reconnect, not a reboot), so what it
    /// queues next is checked against the plug-ins the agent has now. Until
    /// that Hello gets through, every drain tries again.
    async fn report_plugins_if_changed(&self) -> Result<(), DrainError> {
        if self.plugins_changed.swap(false, Ordering::SeqCst)
            && let Err(e) = self.hello().await
        {
            self.plugins_changed.store(true, Ordering::SeqCst);
            return Err(e.into());
        }
        Ok(())
    }

    /// Delivers results the gateway has not acknowledged, then runs commands
    /// until the gateway says there is none. Sets `changed` once a command
    /// that changes the device (anything but an inventory) has run, even if
    /// the drain then fails: the inventory is owed either way.
    pub async fn drain(&self, changed: &mut bool) -> Result<(), DrainError> {
        self.report_plugins_if_changed().await?;
        let mut instruction = None;
        for (key, outcome, message) in self.unacknowledged() {
            let id = journal::command_id(&key);
            tracing::info!(command = %id, "re-sending a result the gateway did not acknowledge");
            instruction = Some(self.client.report(id, outcome, &message).await?);
            if outcome == Outcome::RebootUnderway {
                return self.acknowledged_reboot(&key);
            }
            self.acknowledge(&key);
        }
        let mut instruction = match instruction {
            Some(instruction) => instruction,
            None => self.client.next_command().await?,
        };
        while let Some(command) = instruction.command {
            let (outcome, message) = self.run_once(&command).await?;
            *changed |= command.kind != Some(CommandKind::Inventory);
            let switches = matches!(command.kind, Some(CommandKind::InstallPlugin | CommandKind::RollbackPlugin));
            if switches && outcome == Outcome::Succeeded {
                self.plugins_changed.store(true, Ordering::SeqCst);
                self.report_plugins_if_changed().await?;
            }
            instruction = self.client.report(&command.id, outcome, &message).await?;
            if outcome == Outcome::RebootUnderway {
                return self.acknowledged_reboot(&journal::key(&command));
            }
            self.acknowledge(&journal::key(&command));
        }
        if let Some(none) = instruction.no_command {
            tracing::info!(reason = %none.reason, "no command");
        }
        Ok(())
    }

    /// Runs a command at most once, consulting the journal first. An
    /// `Unavailable` error leaves it started-but-unfinished in the journal and
    /// unreported, so it runs again (it is safe to repeat) on the next attempt.
    async fn run_once(&self, command: &Command) -> Result<(Outcome, String), DrainError> {
        let Some(kind) = command.kind else {
            return Ok((Outcome::Failed, format!("command {} has no kind", command.id)));
        };
        let key = journal::key(command);
        match self.journal.get(&key) {
            Ok(Some(entry @ Entry::Finished { .. })) => {
                tracing::info!(command = %command.id, "already executed; answering from the journal");
                return Ok(entry.outcome().expect("finished entries have an outcome"));
            }
            Ok(Some(Entry::Started { .. })) if !journal::safe_to_repeat(kind) => {
                let message = format!(
                    "interrupted: the agent stopped while running command {}; it is not safe to repeat, so it was not run again",
                    command.id
                );
                return Ok(self.finish(command, kind, Outcome::Failed, message));
            }
            Ok(Some(Entry::Started { .. })) => {
                tracing::warn!(command = %command.id, "interrupted earlier; running it again (safe to repeat)");
            }
            Ok(None) => {}
            Err(e) => return Ok((Outcome::Failed, format!("cannot run without a journal: {e}"))),
        }
        if let Err(e) = self.journal.start(&key, kind) {
            return Ok((Outcome::Failed, format!("cannot run without a journal: {e}")));
        }
        if kind == outfit_wsdl::messages::CommandKind::Reboot {
            // Journalled as underway before the gateway hears of it, so a crash
            // here never reboots twice.
            let mode = format!("{:?}", self.reboot.mode);
            return Ok(self.finish(command, kind, Outcome::RebootUnderway, format!("reboot underway ({mode})")));
        }
        if kind == CommandKind::Inventory {
            return match self.send_inventory("demand").await {
                Ok(drift) => {
                    let message = format!("inventory reported; the gateway found {drift} differences");
                    Ok(self.finish(command, kind, Outcome::Succeeded, message))
                }
                // Safe to repeat: it runs again when the gateway answers.
                Err(e) => Err(DrainError::Unavailable(format!("could not report the inventory: {e}"))),
            };
        }
        match self.executor.execute(&self.client, command).await {
            Execution::Done(outcome, message) => Ok(self.finish(command, kind, outcome, message)),
            Execution::Unavailable(message) => Err(DrainError::Unavailable(message)),
        }
    }

    fn finish(
        &self,
        command: &Command,
        kind: outfit_wsdl::messages::CommandKind,
        outcome: Outcome,
        message: String,
    ) -> (Outcome, String) {
        if let Err(e) = self.journal.finish(&journal::key(command), kind, outcome, &message) {
            tracing::error!(command = %command.id, error = %e, "could not journal a result");
        }
        (outcome, message)
    }

    /// The gateway recorded reboot command `key` as under way: owe it, mark it
    /// acknowledged, reboot. Returns only if the reboot failed.
    fn acknowledged_reboot(&self, key: &str) -> Result<(), DrainError> {
        if let Err(e) = self.reboot.owe(key) {
            tracing::error!(error = %e, "could not record the reboot owed");
        }
        self.acknowledge(key);
        self.reboot_now()
    }

    /// Carries out a reboot the gateway has acknowledged. Returns only if it failed.
    fn reboot_now(&self) -> Result<(), DrainError> {
        let error = self.reboot.perform();
        tracing::error!(%error, "reboot failed; the gateway will flag it as overdue");
        Ok(())
    }

    fn unacknowledged(&self) -> Vec<(String, Outcome, String)> {
        self.journal.unacknowledged().unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not read the journal");
            Vec::new()
        })
    }

    fn acknowledge(&self, id: &str) {
        if let Err(e) = self.journal.acknowledge(id) {
            tracing::error!(command = %id, error = %e, "could not mark a result acknowledged");
        }
    }
}
