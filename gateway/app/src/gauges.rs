//! Reading the fleet's gauges for the metrics endpoint: counts across every
//! site, so only an operator who may read every site sees them.

use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::now_ms;
use outfit_domain::rights::{Action, Caller};
use outfit_store::FleetGauges;

/// How far back an agent's last exchange counts as "seen recently".
pub const SEEN_WITHIN_MS: i64 = 15 * 60 * 1000;

impl Services {
    /// The fleet's gauges now. Needs `read` on every site (the counts span them all).
    pub fn fleet_gauges(&self, caller: &Caller) -> Result<FleetGauges, Failure> {
        if caller.principal.sites(Action::Read).is_some() {
            return Err(Refusal::new(
                RefusalKind::Forbidden,
                format!(
                    "{} may not read the metrics: they count every site, which needs `read` on every site \
                     (`outfit operator grant NAME --action read`, without --site)",
                    caller.principal.name()
                ),
            )
            .into());
        }
        self.storage.fleet_gauges(now_ms() - SEEN_WITHIN_MS).map_err(Failure::internal)
    }
}
