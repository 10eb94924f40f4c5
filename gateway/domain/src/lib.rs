//! The gateway's domain: what Outfit knows of models, devices, queues and the
//! trust hierarchy, with no I/O — no database, no network, no files. The store
//! persists these types, the use cases (`outfit-app`) combine them, the edges
//! (SOAP, CLI, console) show them.
//!
//! Code map: `ids` (typed ids), `device`, `enrolment`, `audit`, `model` (models, roles, components),
//! `plan` (the commands from one version to another), `diff` (what changed between versions), `rollout` (stages, thresholds, device states), `inventory` (what an agent reports), `drift`
//! (inventory against model), `command` (the command vocabulary kept in queue rows), `queue`
//! (command states, the head of a queue, counts), `serving` (what a device's
//! agent can serve, judged before anything is queued), `rights` (principals,
//! actions, the rights decision).
//!
//! **Boundary:** imports no crate of ours; knows nothing of SQL, SOAP or WIT.

pub mod audit;
pub mod command;
pub mod device;
pub mod diff;
pub mod drift;
pub mod enrolment;
pub mod federation;
pub mod ids;
pub mod inventory;
pub mod model;
pub mod plan;
pub mod queue;
pub mod rights;
pub mod rollout;
pub mod serving;

/// Milliseconds since the Unix epoch: how every time is kept.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
