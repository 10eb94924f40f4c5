//! The agent's life: say Hello, then drain the queue (NextCommand → execute →
//! ReportResult … until NoCommand) whenever a poke arrives or the poll timer
//! fires. Gateway outages are waited out; they never stop the agent.

use crate::client::GatewayClient;
use crate::execute::Executor;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug)]
pub struct Agent {
    pub client: GatewayClient,
    pub executor: Executor,
    /// New at every start of the agent; lets the gateway tell a restart from a reconnect.
    pub boot_id: String,
    pub poke_url: Option<String>,
    pub poll_interval: Duration,
    pub wake: Arc<Notify>,
}

impl Agent {
    pub async fn run(self) {
        self.say_hello().await;
        let mut retry = Duration::from_millis(500);
        loop {
            // After a failure, try again soon (backing off) rather than waiting a whole poll interval.
            let wait = match self.drain().await {
                Ok(()) => {
                    retry = Duration::from_millis(500);
                    self.poll_interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not finish the queue; retrying in {retry:?}");
                    let wait = retry.min(self.poll_interval);
                    retry = (retry * 2).min(Duration::from_secs(60));
                    wait
                }
            };
            tokio::select! {
                () = self.wake.notified() => tracing::debug!("woken by a poke"),
                () = tokio::time::sleep(wait) => tracing::debug!("polling"),
            }
        }
    }

    /// Retries Hello with backoff until the gateway answers.
    async fn say_hello(&self) {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.client.hello(&self.boot_id, self.poke_url.as_deref()).await {
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

    /// Runs commands until the gateway says there is none.
    pub async fn drain(&self) -> Result<(), crate::client::ClientError> {
        let mut instruction = self.client.next_command().await?;
        while let Some(command) = instruction.command {
            let (outcome, message) = self.executor.execute(&self.client, &command).await;
            instruction = self.client.report(&command.id, outcome, &message).await?;
        }
        if let Some(none) = instruction.no_command {
            tracing::info!(reason = %none.reason, "no command");
        }
        Ok(())
    }
}
