//! The fleet at a glance, for the metrics: how many commands and rollouts
//! are in each state, agents seen lately, enrolment requests waiting, and
//! this gateway's share of database connections. Counts over indexed
//! columns, read at each scrape.

use super::approval::request_state::WAITING;
use super::schema::*;
use super::{Result, Storage};
use diesel::prelude::*;

/// What the gauges of `/metrics` show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetGauges {
    /// (state, how many), every state present.
    pub commands: Vec<(String, i64)>,
    pub rollouts: Vec<(String, i64)>,
    /// Devices whose agent exchanged since the time asked for.
    pub agents_seen: i64,
    pub enrolments_waiting: i64,
    pub pool_connections: u32,
    pub pool_idle: u32,
}

impl Storage {
    /// The gauges now; agents count as seen from `seen_since` (ms since the epoch).
    pub fn fleet_gauges(&self, seen_since: i64) -> Result<FleetGauges> {
        let pool = self.pool.state();
        let mut conn = self.conn()?;
        let commands: Vec<(String, i64)> = commands::table
            .group_by(commands::state)
            .select((commands::state, diesel::dsl::count_star()))
            .load(&mut conn)?;
        let rollouts: Vec<(String, i64)> = rollouts::table
            .group_by(rollouts::state)
            .select((rollouts::state, diesel::dsl::count_star()))
            .load(&mut conn)?;
        let agents_seen = devices::table.filter(devices::last_seen_at.ge(seen_since)).count().get_result(&mut conn)?;
        let enrolments_waiting =
            enrolment_requests::table.filter(enrolment_requests::state.eq(WAITING)).count().get_result(&mut conn)?;
        Ok(FleetGauges {
            commands,
            rollouts,
            agents_seen,
            enrolments_waiting,
            pool_connections: pool.connections,
            pool_idle: pool.idle_connections,
        })
    }
}
