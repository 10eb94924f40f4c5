//! A rollout round's moves: devices by what their commands say, then
//! applied devices by what their inventories say (verified convergence).
//! Set-based: a stage may hold thousands of devices.

use crate::queue::parse_state;
use crate::schema::*;
use crate::{DbConnection, Result, now_ms};
use diesel::prelude::*;
use outfit_domain::ids::RolloutId;
use outfit_domain::queue::CommandState;
use outfit_domain::rollout::DeviceState;
use std::collections::{BTreeMap, HashMap};

/// Moves devices of a rollout that are still in state `was` to `now`.
fn move_devices(
    conn: &mut DbConnection,
    id: RolloutId,
    was: &str,
    devices: &[i64],
    now: &str,
    detail: Option<String>,
) -> QueryResult<usize> {
    diesel::update(
        rollout_devices::table
            .filter(rollout_devices::rollout_id.eq(id.0))
            .filter(rollout_devices::device_id.eq_any(devices))
            .filter(rollout_devices::state.eq(was)),
    )
    .set((rollout_devices::state.eq(now), rollout_devices::detail.eq(detail), rollout_devices::updated_at.eq(now_ms())))
    .execute(conn)
}

/// Verified convergence: an applied device (of `only`, when given)
/// converges when an inventory that arrived after its plan's last command
/// finished, compared with the target, shows no difference; one that shows
/// differences has failed. Set-based (a stage may hold thousands of
/// devices). Returns how many moved.
fn converge(conn: &mut DbConnection, id: RolloutId, only: Option<&[i64]>) -> Result<usize> {
    let target: i64 = rollouts::table.find(id.0).select(rollouts::target_version_id).first(conn)?;
    let applied = DeviceState::Applied.as_str();
    // The applied devices, and when each plan's last command finished (none for an empty plan).
    let mut rows = rollout_devices::table
        .left_join(
            commands::table.on(commands::device_id
                .eq(rollout_devices::device_id)
                .and(commands::sequence.nullable().eq(rollout_devices::last_sequence))),
        )
        .filter(rollout_devices::rollout_id.eq(id.0))
        .filter(rollout_devices::state.eq(applied))
        .select((rollout_devices::device_id, commands::finished_at.nullable()))
        .into_boxed();
    if let Some(only) = only {
        rows = rows.filter(rollout_devices::device_id.eq_any(only));
    }
    let finished: HashMap<i64, Option<i64>> = rows.load::<(i64, Option<i64>)>(conn)?.into_iter().collect();
    let devices: Vec<i64> = finished.keys().copied().collect();
    // Each device's latest report, 1,000 devices a query (a full round may hold a whole stage).
    let mut reports: Vec<(i64, Option<i64>, i32, i64)> = Vec::new();
    for chunk in devices.chunks(1000) {
        let latest: Vec<Option<i64>> = inventories::table
            .filter(inventories::device_id.eq_any(chunk))
            .group_by(inventories::device_id)
            .select(diesel::dsl::max(inventories::id))
            .load(conn)?;
        let latest: Vec<i64> = latest.into_iter().flatten().collect();
        reports.extend(
            inventories::table
                .filter(inventories::id.eq_any(latest))
                .select((
                    inventories::device_id,
                    inventories::model_version_id,
                    inventories::drift,
                    inventories::received_at,
                ))
                .load::<(i64, Option<i64>, i32, i64)>(conn)?,
        );
    }
    let (mut converged, mut failed) = (Vec::new(), Vec::new());
    for (device, version, drift, received) in reports {
        let after = finished.get(&device).copied().flatten().unwrap_or(0);
        if version != Some(target) || received < after {
            continue; // not yet reported after the plan
        }
        if drift == 0 { converged.push(device) } else { failed.push((device, drift)) }
    }
    let mut moved = 0;
    for chunk in converged.chunks(1000) {
        let detail = Some("its inventory matches the target".to_owned());
        moved += move_devices(conn, id, applied, chunk, DeviceState::Converged.as_str(), detail)?;
    }
    for (device, drift) in failed {
        let detail =
            format!("its inventory after the plan shows {drift} differences from the target (`outfit drift list`)");
        moved += move_devices(conn, id, applied, &[device], DeviceState::Failed.as_str(), Some(detail))?;
    }
    Ok(moved)
}

/// [`Storage::refresh_rollout`] in its transaction, for the devices `only` (all when `None`).
pub(super) fn refresh(conn: &mut DbConnection, id: RolloutId, only: Option<&[i64]>) -> Result<usize> {
    let open = [DeviceState::Queued.as_str(), DeviceState::Failed.as_str()];
    let mut query = rollout_devices::table
        .inner_join(
            commands::table.on(commands::device_id
                .eq(rollout_devices::device_id)
                .and(commands::sequence.nullable().ge(rollout_devices::first_sequence))
                .and(commands::sequence.nullable().le(rollout_devices::last_sequence))),
        )
        .filter(rollout_devices::rollout_id.eq(id.0))
        .filter(rollout_devices::state.eq_any(open))
        .order((commands::device_id, commands::sequence))
        // Not the results: a full round reads every command of a stage, and
        // only a failed one's result is wanted (read apart, below).
        .select((commands::device_id, rollout_devices::state, commands::id, commands::state))
        .into_boxed();
    if let Some(only) = only {
        query = query.filter(rollout_devices::device_id.eq_any(only));
    }
    let rows: Vec<(i64, String, i64, String)> = query.load(conn)?;
    let mut by_device: BTreeMap<(i64, String), Vec<(i64, CommandState)>> = BTreeMap::new();
    for (device, was, command, state) in rows {
        by_device.entry((device, was)).or_default().push((command, parse_state(&state)?));
    }
    let mut moved = 0;
    // Devices moving alike without a detail (most: queued -> applied) move in one statement.
    let mut alike: BTreeMap<(String, &str), Vec<i64>> = BTreeMap::new();
    for ((device, was), commands) in by_device {
        let states: Vec<CommandState> = commands.iter().map(|(_, s)| *s).collect();
        let now = DeviceState::of_commands(&states).unwrap_or(DeviceState::Queued);
        if now.as_str() == was {
            continue;
        }
        let Some((command, state)) =
            commands.iter().find(|(_, s)| matches!(s, CommandState::Failed | CommandState::TimedOut))
        else {
            alike.entry((was, now.as_str())).or_default().push(device);
            continue;
        };
        let result: Option<String> = commands::table.find(command).select(commands::result).first(conn)?;
        let detail = format!("command {command} {}: {}", state.as_str(), result.as_deref().unwrap_or(""));
        moved += move_devices(conn, id, &was, &[device], now.as_str(), Some(detail))?;
    }
    for ((was, now), devices) in alike {
        for chunk in devices.chunks(1000) {
            moved += move_devices(conn, id, &was, chunk, now, None)?;
        }
    }
    Ok(moved + converge(conn, id, only)?)
}
