//! The network contract of Outfit: the agent protocol's SOAP messages (mirroring
//! `outfit-agent.wsdl` / `outfit-agent.xsd`), the SOAP 1.1 envelope codec, and the
//! HTTPS transport both the gateway and the agent speak.
//!
//! **Boundary:** this crate knows XML, SOAP and TLS, and the file names of a
//! plug-in bundle as it travels (`bundle`); it knows nothing of SQL, queues or
//! what a plug-in does. Gateway and agent convert these types to their own at
//! their edge.

pub mod bundle;
pub mod envelope;
pub mod file_server;
pub mod identity;
pub mod inventory;
pub mod messages;
pub mod operator;
mod operator_messages;
pub mod peer;
pub mod transport;

/// Target namespace of the agent protocol (WSDL and XSD).
pub const NS: &str = "urn:outfit:agent:1";
/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The WSDL and XSD, shipped inside the binaries so the gateway can serve them.
pub const WSDL: &str = include_str!("../outfit-agent.wsdl");
pub const XSD: &str = include_str!("../outfit-agent.xsd");
/// The operator services' contract (namespace `urn:outfit:operator:1`).
pub const OPERATOR_NS: &str = "urn:outfit:operator:1";
pub const OPERATOR_WSDL: &str = include_str!("../outfit-operator.wsdl");
pub const OPERATOR_XSD: &str = include_str!("../outfit-operator.xsd");
/// The peer service's contract (namespace `urn:outfit:peer:1`).
pub const PEER_NS: &str = "urn:outfit:peer:1";
pub const PEER_WSDL: &str = include_str!("../outfit-peer.wsdl");
pub const PEER_XSD: &str = include_str!("../outfit-peer.xsd");
/// Path of the peer endpoint on the gateway's operator listener, and of the
/// packages a peer fetches there (`PEER_PACKAGES` + sha256).
pub const PEER_PATH: &str = "/soap/peer";
pub const PEER_PACKAGES: &str = "/peer/packages/";
/// The file-server service's contract (namespace `urn:outfit:file-server:1`).
pub const FILE_SERVER_NS: &str = "urn:outfit:file-server:1";
pub const FILE_SERVER_WSDL: &str = include_str!("../outfit-file-server.wsdl");
pub const FILE_SERVER_XSD: &str = include_str!("../outfit-file-server.xsd");
/// Path of the file-server endpoint on the gateway's operator listener, and
/// of the packages a file server copies there (`FILE_SERVER_PACKAGES` + sha256).
pub const FILE_SERVER_PATH: &str = "/soap/file-server";
pub const FILE_SERVER_PACKAGES: &str = "/file-server/packages/";
/// Path of the operator endpoint on the gateway's operator listener.
pub const OPERATOR_PATH: &str = "/soap/operator";
/// Path of the gateway's agent endpoint and of the agent's poke endpoint.
pub const GATEWAY_AGENT_PATH: &str = "/soap/agent";
pub const AGENT_POKE_PATH: &str = "/soap/poke";
