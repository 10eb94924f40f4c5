//! The operator messages beyond `SetParameter` and `Provision`, mirroring
//! `outfit-operator.xsd` element by element (checked by `tests/contract.rs`).
//! They serialize to JSON with the same names (`outfit --json`).

mod audit;
mod devices;
mod drift;
mod models;
mod queue;
mod rollouts;
mod scripts;
mod trust;
mod versions;

pub use audit::*;
pub use devices::*;
pub use drift::*;
pub use models::*;
pub use queue::*;
pub use rollouts::*;
pub use scripts::*;
pub use trust::*;
pub use versions::*;
