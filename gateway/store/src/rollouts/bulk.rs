//! A rollout's device rows written many at a statement: a rollout of ten
//! thousand devices is created, and a stage of thousands is queued, in a
//! few dozen statements rather than one per device. Raw SQL because
//! diesel's multi-row insert does not build for the two-backend connection;
//! every statement is the same on MariaDB and SQLite.

use crate::{DbConnection, Result, now_ms};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use outfit_domain::rollout::{DeviceState, StagePlan};
use std::collections::{BTreeMap, HashMap};

/// Rows per `INSERT` (7 values a row) and devices per `UPDATE` (5 values a
/// device): well under SQLite's limit of bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Adds devices (with the version their plan starts from, and their stage)
/// to rollout `id`, waiting.
pub(super) fn insert_members(
    conn: &mut DbConnection,
    id: i64,
    devices: &[(i64, Option<i64>, i32)],
    detail: Option<&str>,
) -> Result<()> {
    let now = now_ms();
    for chunk in devices.chunks(ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?, ?, 0, ?, ?)"; chunk.len()].join(", ");
        let mut insert = diesel::sql_query(format!(
            "INSERT INTO rollout_devices (rollout_id, device_id, stage, state, from_version_id, commands, detail, \
             updated_at) VALUES {values}"
        ))
        .into_boxed();
        for (device, from, stage) in chunk {
            insert = insert
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(*device)
                .bind::<Integer, _>(*stage)
                .bind::<Text, _>(DeviceState::Waiting.as_str())
                .bind::<Nullable<BigInt>, _>(*from)
                .bind::<Nullable<Text>, _>(detail)
                .bind::<BigInt, _>(now);
        }
        insert.execute(conn)?;
    }
    Ok(())
}

/// Records each device's plan in its row of rollout `id`: its state, start,
/// detail and, when it queued commands, the queue positions they took
/// (right after `before[device]`). Devices whose plans agree in all but the
/// positions share a statement, the positions picked by `CASE`.
pub(super) fn record_plans(
    conn: &mut DbConnection,
    id: i64,
    plans: &[StagePlan],
    before: &HashMap<i64, i64>,
) -> Result<()> {
    type Alike<'a> = (&'static str, Option<i64>, usize, Option<&'a str>);
    let mut alike: BTreeMap<Alike, Vec<i64>> = BTreeMap::new();
    for plan in plans {
        let key = (plan.state.as_str(), plan.from.map(|v| v.0), plan.commands.len(), plan.detail.as_deref());
        alike.entry(key).or_default().push(plan.device.0);
    }
    let now = now_ms();
    for ((state, from, commands, detail), devices) in alike {
        for chunk in devices.chunks(ROWS_PER_STATEMENT) {
            let (first, last) = match commands {
                0 => ("NULL".to_owned(), "NULL".to_owned()),
                _ => {
                    let cases = format!("CASE device_id {} END", vec!["WHEN ? THEN ?"; chunk.len()].join(" "));
                    (cases.clone(), cases)
                }
            };
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut update = diesel::sql_query(format!(
                "UPDATE rollout_devices SET state = ?, from_version_id = ?, commands = ?, detail = ?, \
                 updated_at = ?, first_sequence = {first}, last_sequence = {last} \
                 WHERE rollout_id = ? AND device_id IN ({marks})"
            ))
            .into_boxed()
            .bind::<Text, _>(state)
            .bind::<Nullable<BigInt>, _>(from)
            .bind::<Integer, _>(commands as i32)
            .bind::<Nullable<Text>, _>(detail)
            .bind::<BigInt, _>(now);
            if commands > 0 {
                for offset in [1, commands as i64] {
                    for device in chunk {
                        let at = before.get(device).copied().unwrap_or(0) + offset;
                        update = update.bind::<BigInt, _>(*device).bind::<BigInt, _>(at);
                    }
                }
            }
            update = update.bind::<BigInt, _>(id);
            for device in chunk {
                update = update.bind::<BigInt, _>(*device);
            }
            update.execute(conn)?;
        }
    }
    Ok(())
}
