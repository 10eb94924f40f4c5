//! The poke: the gateway tells an agent "there is work" over HTTPS. The poke
//! carries no command; the agent always asks over a new connection of its own.

use outfit_wsdl::envelope::{Answer, Body, decode_answer, encode};
use outfit_wsdl::messages::Poke;
use outfit_wsdl::transport::{self, Endpoint, TransportError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum PokeError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("agent answered the poke with a fault: {0}")]
    Fault(String),
    #[error("agent answered the poke with something that is not a PokeResponse: {0}")]
    Garbled(String),
}

/// Pokes the agent at `url`, trusting only certificates signed by our CA.
pub async fn poke(ca_pem: &Path, url: &str, gateway: &str) -> Result<bool, PokeError> {
    let tls = transport::client_config(ca_pem)?;
    let endpoint = Endpoint::parse(url)?;
    let envelope = encode(Body { poke: Some(Poke { gateway: gateway.to_owned() }), ..Body::default() });
    let reply = transport::soap_call(&tls, &endpoint, "Poke", envelope).await?;
    match decode_answer(&reply, |b| b.poke_response) {
        Ok(Answer::Ok(response)) => Ok(response.accepted),
        Ok(Answer::Fault(f)) => Err(PokeError::Fault(f.message)),
        Err(f) => Err(PokeError::Garbled(f.message)),
    }
}
