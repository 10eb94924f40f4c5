//! The Outfit agent: a small root daemon on every device. It accepts pokes,
//! fetches each command from its gateway over a new connection, runs it through
//! a sandboxed WebAssembly OS plug-in and reports the result.
//!
//! **Boundary:** the agent knows SOAP (through `outfit-wsdl`) and the WIT
//! contract; it knows nothing of SQL or of models.
//!
//! Code map: `agent` (main loop), `client` (gateway protocol), `identity` (key, enrolment, certificate),
//! `poke` (listener), `access` (people at the device, authorised by the gateway), `reboot` (reboot capability, boot id),
//! `execute` (one command), `journal` (exactly-once), `library` (package fetch + verify), `plugin`
//! (wasmtime host, capabilities, policy), `platform` (what differs per OS: boot id, restart, reboot, paths),
//! `settings` (the command line) and `start` (settings → a running agent).

pub mod access;
mod access_page;
pub mod agent;
pub mod client;
pub mod execute;
pub mod identity;
pub mod inventory;
pub mod journal;
pub mod library;
pub mod platform;
pub mod plugin;
pub mod poke;
pub mod reboot;
pub mod settings;
pub mod start;
