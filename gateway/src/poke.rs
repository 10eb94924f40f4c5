//! The poke: the gateway tells an agent "there is work" over HTTPS. The poke
//! carries no command; the agent always asks over a new connection of its own.

use crate::home::Home;
use outfit_wsdl::envelope::{Answer, Body, decode_answer, encode};
use outfit_wsdl::messages::Poke;
use outfit_wsdl::transport::{self, Endpoint, TransportError};

#[derive(Debug, thiserror::Error)]
pub enum PokeError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("agent answered the poke with a fault: {0}")]
    Fault(String),
    #[error("agent answered the poke with something that is not a PokeResponse: {0}")]
    Garbled(String),
}

/// Pokes the agent at `url`, trusting only certificates signed by our CA and
/// presenting the gateway's own certificate (agents refuse pokes without one).
pub async fn poke(home: &Home, url: &str, gateway: &str) -> Result<bool, PokeError> {
    let me = transport::Identity { cert: &home.server_cert(), key: &home.server_key() };
    let tls = transport::client_config(&home.ca_cert(), Some(me))?;
    let endpoint = Endpoint::parse(url)?;
    let envelope = encode(Body { poke: Some(Poke { gateway: gateway.to_owned() }), ..Body::default() });
    let reply = transport::soap_call(&tls, &endpoint, "Poke", envelope).await?;
    match decode_answer(&reply, |b| b.poke_response) {
        Ok(Answer::Ok(response)) => Ok(response.accepted),
        Ok(Answer::Fault(f)) => Err(PokeError::Fault(f.message)),
        Err(f) => Err(PokeError::Garbled(f.message)),
    }
}

/// Pokes agents for the use cases, from this gateway's directory, in the
/// background: a served request must not wait on an agent.
#[derive(Debug, Clone)]
pub struct Pokes {
    home: Home,
    /// The gateway's name, which a poke carries.
    name: String,
}

impl Pokes {
    pub fn background(home: Home, name: String) -> Self {
        Self { home, name }
    }
}

impl outfit_app::Notify for Pokes {
    fn poke(&self, device: &str, url: &str) -> outfit_app::Poked {
        use outfit_app::Poked;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Poked::Failed("no async runtime to poke from".into());
        };
        let (home, name, url, device) = (self.home.clone(), self.name.clone(), url.to_owned(), device.to_owned());
        runtime.spawn(async move {
            if let Err(e) = poke(&home, &url, &name).await {
                tracing::info!(%device, error = %e, "poke failed; the agent will poll");
            }
        });
        Poked::Sent
    }
}
