//! The poke: the gateway tells an agent "there is work" over HTTPS. The poke
//! carries no command; the agent always asks over a new connection of its own.

use crate::home::Home;
use outfit_wsdl::envelope::{Answer, Body, decode_answer, encode};
use outfit_wsdl::messages::Poke;
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// Pokes in flight at once: a rollout stage or a script may poke thousands of
/// agents; more connections at once would only compete for the same cores.
const IN_FLIGHT: usize = 64;

/// How long a poke may take: an agent that does not answer in time will
/// poll, and its turn must not hold up the pokes behind it.
const POKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// TLS sessions remembered for resumption (one per agent poked lately).
const SESSIONS: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum PokeError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("agent answered the poke with a fault: {0}")]
    Fault(String),
    #[error("the agent did not answer the poke within {POKE_TIMEOUT:?}")]
    Timeout,
    #[error("agent answered the poke with something that is not a PokeResponse: {0}")]
    Garbled(String),
}

/// The client pokes go out with: trusts only certificates signed by our CA
/// and presents the gateway's own certificate (agents refuse pokes without
/// one). Built once per process and shared, so an agent poked again resumes
/// its TLS session.
fn client(home: &Home) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let me = transport::Identity { cert: &home.server_cert(), key: &home.server_key() };
    let mut tls = (*transport::client_config(&home.ca_cert(), Some(me))?).clone();
    tls.resumption = rustls::client::Resumption::in_memory_sessions(SESSIONS);
    Ok(Arc::new(tls))
}

/// Pokes the agent at `url`.
pub async fn poke(tls: &Arc<rustls::ClientConfig>, url: &str, gateway: &str) -> Result<bool, PokeError> {
    let endpoint = Endpoint::parse(url)?;
    let envelope = encode(Body { poke: Some(Poke { gateway: gateway.to_owned() }), ..Body::default() });
    let call = transport::soap_call(tls, &endpoint, "Poke", envelope);
    let reply = tokio::time::timeout(POKE_TIMEOUT, call).await.map_err(|_| PokeError::Timeout)??;
    match decode_answer(&reply, |b| b.poke_response) {
        Ok(Answer::Ok(response)) => Ok(response.accepted),
        Ok(Answer::Fault(f)) => Err(PokeError::Fault(f.message)),
        Err(f) => Err(PokeError::Garbled(f.message)),
    }
}

/// Pokes agents for the use cases, from this gateway's directory, in the
/// background (a served request must not wait on an agent), at most
/// [`IN_FLIGHT`] at once. Pokes wait their turn as a queue of addresses, not
/// as tasks: a task's future holds a whole HTTPS exchange's state (kilobytes),
/// and a rollout stage pokes tens of thousands of agents at once.
#[derive(Debug)]
pub struct Pokes {
    home: Home,
    /// The gateway's name, which a poke carries.
    name: String,
    /// Built at the first poke that can build it: a failure (a certificate
    /// file unreadable for a moment) is reported and tried again next time.
    tls: OnceLock<Arc<rustls::ClientConfig>>,
    waiting: Arc<Mutex<Waiting>>,
}

/// The pokes not yet sent, and how many workers send them.
#[derive(Debug, Default)]
struct Waiting {
    queue: VecDeque<(String, String)>,
    workers: usize,
}

impl Pokes {
    pub fn background(home: Home, name: String) -> Self {
        Self { home, name, tls: OnceLock::new(), waiting: Arc::default() }
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, TransportError> {
        if let Some(tls) = self.tls.get() {
            return Ok(tls.clone());
        }
        let tls = client(&self.home)?;
        Ok(self.tls.get_or_init(|| tls).clone())
    }
}

/// Sends queued pokes one after another until none is left. The queue and
/// the count of workers share one lock, so a poke queued just as the last
/// worker leaves finds it gone and starts another.
async fn send_queued(waiting: Arc<Mutex<Waiting>>, tls: Arc<rustls::ClientConfig>, name: String) {
    loop {
        let next = {
            let mut waiting = waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = waiting.queue.pop_front();
            if next.is_none() {
                waiting.workers -= 1;
            }
            next
        };
        let Some((device, url)) = next else { return };
        if let Err(e) = poke(&tls, &url, &name).await {
            tracing::info!(%device, error = %e, "poke failed; the agent will poll");
        }
    }
}

impl outfit_app::Notify for Pokes {
    fn poke(&self, device: &str, url: &str) -> outfit_app::Poked {
        use outfit_app::Poked;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Poked::Failed("no async runtime to poke from".into());
        };
        let tls = match self.tls() {
            Ok(tls) => tls,
            Err(e) => return Poked::Failed(format!("no TLS client to poke with: {e}")),
        };
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        waiting.queue.push_back((device.to_owned(), url.to_owned()));
        if waiting.workers < IN_FLIGHT {
            waiting.workers += 1;
            runtime.spawn(send_queued(self.waiting.clone(), tls, self.name.clone()));
        }
        Poked::Sent
    }
}
