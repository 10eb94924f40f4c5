//! The Outfit gateway: the only component that touches the database. It keeps
//! the models, turns them into per-device command queues, serves agents over
//! SOAP/HTTPS, stores packages and pokes agents when their queue has work.
//!
//! Code map: `home` (gateway directory, `init`), `pki` (CA), `storage` (all
//! SQL), `repository` (packages by sha256), `model` (model files → versions),
//! `enrol` (device registration), `queue` (model version → commands), `script`
//! (predefined scripts → commands), `serving` (is there a plug-in on the device
//! for a command, from its agent's Hello), `plugin` (signed plug-in bundles → repository
//! and `install-plugin` / `rollback-plugin` commands), `soap` (agent operations), `server` (HTTPS
//! routes, queue sweep), `poke`, `demo` (the one-command main job), `bench`
//! (load generator).

pub mod bench;
pub mod demo;
pub mod enrol;
pub mod home;
pub mod model;
pub mod operator;
pub mod pki;
pub mod plugin;
pub mod poke;
pub mod queue;
pub mod repository;
pub mod script;
pub mod server;
pub mod serving;
pub mod soap;
pub mod storage;
