//! The operator messages beyond `SetParameter` and `Provision`, mirroring
//! `outfit-operator.xsd` element by element (checked by `tests/contract.rs`).
//! They serialize to JSON with the same names (`outfit --json`).

mod devices;
mod queue;
mod models;
mod scripts;
mod trust;
mod audit;

pub use devices::*;
pub use queue::*;
pub use models::*;
pub use scripts::*;
pub use trust::*;
pub use audit::*;
