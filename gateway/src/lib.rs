//! The Outfit gateway process: the edges around the use cases of
//! `outfit-app`. It serves agents and operators over SOAP/HTTPS, pokes agents,
//! keeps its directory (settings, CA, certificates), and runs the one-command
//! main job and the load generator.
//!
//! Code map: `home` (the gateway directory, `init`), `server` (HTTPS routes
//! on two listeners, package downloads, the queue sweep), `soap` (the agent,
//! operator, peer and file-server endpoints: decode → use case → encode,
//! Faults from one mapping), `console` (the web console's pages, from
//! `outfit-console`), `poke` (telling agents there is work), `upload`
//! (packages streamed in over HTTPS PUT), `federation` (pulling from peer
//! data centres), `local`, `peers` and `file_servers` (the `outfit-gateway`
//! subcommands of the local administrator), `memory` (huge pages off),
//! `demo` (the main job), `bench` (load generator).
//!
//! **Boundary:** no SQL here (no diesel in this crate's dependencies); every
//! action goes through a use case of `outfit-app`.

pub mod bench;
pub mod console;
pub mod demo;
pub mod federation;
pub mod file_servers;
pub mod home;
pub mod local;
pub mod memory;
pub mod metrics;
pub mod peers;
pub mod poke;
pub mod server;
pub mod soap;
pub mod upload;
