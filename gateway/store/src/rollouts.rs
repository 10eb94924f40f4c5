//! Rollouts as stored: the rollout row (its state, policy and stage) and one
//! row per device (its stage, state and the queue sequences of its plan).
//! Every move of a rollout is a compare-and-set on its state or stage, so
//! several gateways may drive the same rollouts.

mod bulk;
mod refresh;

use super::queue::{insert_commands, last_sequences, state};
use super::schema::*;
use super::{DbConnection, Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::ids::{DeviceId, ModelId, ModelVersionId, RolloutId};
use outfit_domain::rollout::{
    DeviceState, Member, PlanBase, Policy, Rollout, RolloutState, StagePlan, Tally, plan_base,
};
use std::collections::BTreeMap;

/// How many devices one query of [`Storage::plan_bases`] reads: the MariaDB
/// client library buffers a whole result before diesel reads its rows (3 in
/// the unit tests, so that they read several pages).
const BASES_PER_QUERY: i64 = if cfg!(test) { 3 } else { 5_000 };

/// A rollout to store: every device with its stage and where its plan starts.
#[derive(Debug, Clone)]
pub struct NewRollout {
    pub model: ModelId,
    pub target: ModelVersionId,
    pub policy: Policy,
    pub created_by: String,
    /// Start it (`running`), or only prepare it.
    pub start: bool,
    pub devices: Vec<(DeviceId, Option<ModelVersionId>, i32)>,
}

type RolloutRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i32,
    String,
    (i32, i32, i32, Option<i32>, Option<i64>),
    i32,
    Option<String>,
    String,
    i64,
);

fn rollout_state(text: &str) -> Result<RolloutState> {
    RolloutState::parse(text).ok_or_else(|| StorageError::Invalid(format!("unknown rollout state `{text}`")))
}

fn device_state(text: &str) -> Result<DeviceState> {
    DeviceState::parse(text).ok_or_else(|| StorageError::Invalid(format!("unknown rollout device state `{text}`")))
}

/// Reads the rollouts `ids` (of `site`, of `model`, when given) with their tallies, newest first.
fn load(conn: &mut DbConnection, ids: &[i64], site: Option<&str>, model: Option<&str>) -> Result<Vec<Rollout>> {
    let mut query = rollouts::table
        .inner_join(models::table.inner_join(sites::table.on(sites::id.eq(models::site_id))))
        .inner_join(model_versions::table.on(model_versions::id.eq(rollouts::target_version_id)))
        .filter(rollouts::id.eq_any(ids))
        .order(rollouts::id.desc())
        .select((
            rollouts::id,
            sites::name,
            models::name,
            models::id,
            rollouts::target_version_id,
            model_versions::version,
            rollouts::state,
            (
                rollouts::canary,
                rollouts::batch_size,
                rollouts::max_failures,
                rollouts::max_failure_percent,
                rollouts::expire_after_ms,
            ),
            rollouts::stage,
            rollouts::halt_reason,
            rollouts::created_by,
            rollouts::created_at,
        ))
        .into_boxed();
    if let Some(site) = site {
        query = query.filter(sites::name.eq(site.to_owned()));
    }
    if let Some(model) = model {
        query = query.filter(models::name.eq(model.to_owned()));
    }
    let rows: Vec<RolloutRow> = query.load(conn)?;
    // Grouped in the order of the index `(rollout_id, stage, state)`, so
    // MariaDB counts along it without a temporary table.
    let counted: Vec<(i64, i32, String, i64)> = rollout_devices::table
        .filter(rollout_devices::rollout_id.eq_any(ids))
        .group_by((rollout_devices::rollout_id, rollout_devices::stage, rollout_devices::state))
        .select((
            rollout_devices::rollout_id,
            rollout_devices::stage,
            rollout_devices::state,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let stage_of: BTreeMap<i64, i32> = rows.iter().map(|row| (row.0, row.8)).collect();
    // Per rollout: the tally, how many stages, how many devices of the stages so far not done.
    let mut tallies: BTreeMap<i64, (Tally, i32, i32)> = BTreeMap::new();
    for (id, stage, state, n) in counted {
        let state = device_state(&state)?;
        let entry = tallies.entry(id).or_default();
        entry.0.add(state, n as i32);
        entry.1 = entry.1.max(stage + 1);
        if !state.is_done() && stage_of.get(&id).is_some_and(|current| stage <= *current) {
            entry.2 += n as i32;
        }
    }
    rows.into_iter()
        .map(
            |(
                id,
                site,
                model,
                model_id,
                target,
                version,
                state,
                policy,
                stage,
                halt_reason,
                created_by,
                created_at,
            )| {
                let (tally, stages, open) = tallies.get(&id).copied().unwrap_or_default();
                let (canary, batch_size, max_failures, max_failure_percent, expire_after_ms) = policy;
                Ok(Rollout {
                    id: RolloutId(id),
                    site,
                    model,
                    model_id: ModelId(model_id),
                    target: ModelVersionId(target),
                    version,
                    state: rollout_state(&state)?,
                    policy: Policy { canary, batch_size, max_failures, max_failure_percent, expire_after_ms },
                    stage,
                    stages,
                    halt_reason,
                    created_by,
                    created_at,
                    tally,
                    open,
                })
            },
        )
        .collect()
}

/// Ends the model's unfinished rollout, if any, as `superseded`.
fn supersede(conn: &mut DbConnection, model: i64) -> QueryResult<usize> {
    diesel::update(rollouts::table.filter(rollouts::model_id.eq(model)).filter(rollouts::active.eq(1)))
        .set((
            rollouts::state.eq(RolloutState::Superseded.as_str()),
            rollouts::active.eq(None::<i32>),
            rollouts::finished_at.eq(now_ms()),
            rollouts::updated_at.eq(now_ms()),
        ))
        .execute(conn)
}

impl Storage {
    /// Every device of a model, by name, and where its next plan starts.
    pub fn plan_bases(&self, model: ModelId) -> Result<Vec<PlanBase>> {
        self.bases(model, None)
    }

    /// The devices of a rollout's stage still waiting for it, by name, and
    /// where each one's plan starts.
    pub fn stage_bases(&self, model: ModelId, rollout: RolloutId, stage: i32) -> Result<Vec<PlanBase>> {
        self.bases(model, Some((rollout, stage)))
    }

    /// The devices of a model (of one rollout stage's waiting devices), read
    /// [`BASES_PER_QUERY`] at a time in id order, then sorted by name.
    fn bases(&self, model: ModelId, stage: Option<(RolloutId, i32)>) -> Result<Vec<PlanBase>> {
        let mut conn = self.conn()?;
        type Row = (i64, String, Option<String>, Option<i64>, Option<i64>, Option<i64>);
        let mut rows: Vec<Row> = Vec::new();
        loop {
            let after = rows.last().map_or(0, |row| row.0);
            let mut page = devices::table
                .filter(devices::model_id.eq(model.0))
                .filter(devices::id.gt(after))
                .order(devices::id)
                .limit(BASES_PER_QUERY)
                .select((
                    devices::id,
                    devices::name,
                    devices::poke_url,
                    devices::applied_model_version_id,
                    devices::desired_model_version_id,
                    devices::provisioned_from,
                ))
                .into_boxed();
            if let Some((rollout, stage)) = stage {
                page = page.filter(
                    devices::id.eq_any(
                        rollout_devices::table
                            .filter(rollout_devices::rollout_id.eq(rollout.0))
                            .filter(rollout_devices::stage.eq(stage))
                            .filter(rollout_devices::state.eq(DeviceState::Waiting.as_str()))
                            .select(rollout_devices::device_id),
                    ),
                );
            }
            let read = page.load::<Row>(&mut conn)?;
            let full = read.len() as i64 == BASES_PER_QUERY;
            rows.extend(read);
            if !full {
                break;
            }
        }
        // Devices whose latest provisioning was partly skipped, aborted or expired.
        let undone: std::collections::HashSet<i64> = commands::table
            .inner_join(devices::table)
            .filter(devices::model_id.eq(model.0))
            .filter(commands::sequence.nullable().ge(devices::provisioned_from))
            .filter(commands::state.eq_any([state::SKIPPED, state::ABORTED, state::EXPIRED]))
            .select(commands::device_id)
            .distinct()
            .load::<i64>(&mut conn)?
            .into_iter()
            .collect();
        let mut bases: Vec<PlanBase> = rows
            .into_iter()
            .map(|(id, name, poke_url, applied, desired, provisioned_from)| PlanBase {
                device: DeviceId(id),
                name,
                poke_url,
                base: plan_base(
                    applied.map(ModelVersionId),
                    desired.map(ModelVersionId),
                    provisioned_from.is_some(),
                    undone.contains(&id),
                ),
            })
            .collect();
        bases.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(bases)
    }

    /// Stores a rollout, superseding the model's unfinished one. Its stage is
    /// -1 (nothing queued yet).
    pub fn create_rollout(&self, new: &NewRollout) -> Result<RolloutId> {
        self.transaction(|conn| {
            supersede(conn, new.model.0)?;
            let now = now_ms();
            let state = if new.start { RolloutState::Running } else { RolloutState::Prepared };
            let p = &new.policy;
            diesel::insert_into(rollouts::table)
                .values((
                    rollouts::model_id.eq(new.model.0),
                    rollouts::target_version_id.eq(new.target.0),
                    rollouts::state.eq(state.as_str()),
                    rollouts::active.eq(Some(1)),
                    rollouts::canary.eq(p.canary),
                    rollouts::batch_size.eq(p.batch_size),
                    rollouts::max_failures.eq(p.max_failures),
                    rollouts::max_failure_percent.eq(p.max_failure_percent),
                    rollouts::expire_after_ms.eq(p.expire_after_ms),
                    rollouts::stage.eq(-1),
                    rollouts::created_by.eq(&new.created_by),
                    rollouts::created_at.eq(now),
                    rollouts::updated_at.eq(now),
                ))
                .execute(conn)?;
            let id: i64 = rollouts::table
                .filter(rollouts::model_id.eq(new.model.0))
                .filter(rollouts::active.eq(1))
                .select(rollouts::id)
                .first(conn)?;
            let devices: Vec<_> = new.devices.iter().map(|(d, from, stage)| (d.0, from.map(|v| v.0), *stage)).collect();
            bulk::insert_members(conn, id, &devices, None)?;
            Ok(RolloutId(id))
        })
    }

    pub fn rollout(&self, id: RolloutId) -> Result<Option<Rollout>> {
        let mut conn = self.conn()?;
        Ok(load(&mut conn, &[id.0], None, None)?.pop())
    }

    /// The rollouts of a site (of one model), newest first.
    pub fn rollouts(&self, site: &str, model: Option<&str>) -> Result<Vec<Rollout>> {
        let mut conn = self.conn()?;
        let ids: Vec<i64> = rollouts::table
            .inner_join(models::table.inner_join(sites::table.on(sites::id.eq(models::site_id))))
            .filter(sites::name.eq(site))
            .select(rollouts::id)
            .load(&mut conn)?;
        load(&mut conn, &ids, Some(site), model)
    }

    /// The unfinished rollouts of every model.
    pub fn active_rollouts(&self) -> Result<Vec<RolloutId>> {
        let mut conn = self.conn()?;
        let ids: Vec<i64> = rollouts::table.filter(rollouts::active.eq(1)).select(rollouts::id).load(&mut conn)?;
        Ok(ids.into_iter().map(RolloutId).collect())
    }

    /// The devices of a rollout, by stage and name.
    pub fn rollout_members(&self, id: RolloutId) -> Result<Vec<Member>> {
        let mut conn = self.conn()?;
        type Row = (i64, String, i32, String, Option<i64>, Option<i32>, i32, Option<String>);
        let rows: Vec<Row> = rollout_devices::table
            .inner_join(devices::table)
            .left_join(model_versions::table.on(rollout_devices::from_version_id.eq(model_versions::id.nullable())))
            .filter(rollout_devices::rollout_id.eq(id.0))
            .order((rollout_devices::stage, devices::name))
            .select((
                devices::id,
                devices::name,
                rollout_devices::stage,
                rollout_devices::state,
                rollout_devices::from_version_id,
                model_versions::version.nullable(),
                rollout_devices::commands,
                rollout_devices::detail,
            ))
            .load(&mut conn)?;
        rows.into_iter()
            .map(|(device, name, stage, state, from, from_version, commands, detail)| {
                Ok(Member {
                    device: DeviceId(device),
                    name,
                    stage,
                    state: device_state(&state)?,
                    from: from.map(ModelVersionId).zip(from_version),
                    commands,
                    detail,
                })
            })
            .collect()
    }

    /// Moves each queued or failed device of a rollout (of `only`, when
    /// given: the devices that reported since the last round) by what its
    /// commands say: applied, failed (with the failing command's result),
    /// expired, aborted, or queued again (an operator retried its failed
    /// command); and each applied one whose inventory says so, converged.
    /// Returns how many moved.
    pub fn refresh_rollout(&self, id: RolloutId, only: Option<&[DeviceId]>) -> Result<usize> {
        self.transaction(|conn| match only {
            None => refresh::refresh(conn, id, None),
            Some(devices) => {
                let ids: Vec<i64> = devices.iter().map(|d| d.0).collect();
                let mut moved = 0;
                for chunk in ids.chunks(1000) {
                    moved += refresh::refresh(conn, id, Some(chunk))?;
                }
                Ok(moved)
            }
        })
    }

    /// Adds the model's devices that are not part of the rollout yet (added
    /// to the model while it runs) to stage `stage`, waiting.
    pub fn join_rollout(&self, id: RolloutId, model: ModelId, stage: i32) -> Result<usize> {
        self.transaction(|conn| {
            let members =
                rollout_devices::table.filter(rollout_devices::rollout_id.eq(id.0)).select(rollout_devices::device_id);
            let new: Vec<i64> = devices::table
                .filter(devices::model_id.eq(model.0))
                .filter(devices::id.ne_all(members))
                .select(devices::id)
                .load(conn)?;
            let devices: Vec<_> = new.iter().map(|d| (*d, None, stage)).collect();
            bulk::insert_members(conn, id.0, &devices, Some("added to the model while the rollout ran"))?;
            Ok(new.len())
        })
    }

    /// Starts stage `after + 1` of a running rollout: queues each device's
    /// plan (toward `target`) and records it. Returns false, changing
    /// nothing, if the rollout is no longer running at stage `after` (another
    /// gateway moved it).
    pub fn begin_stage(&self, id: RolloutId, after: i32, target: ModelVersionId, plans: &[StagePlan]) -> Result<bool> {
        self.transaction(|conn| {
            let moved = diesel::update(
                rollouts::table
                    .filter(rollouts::id.eq(id.0))
                    .filter(rollouts::stage.eq(after))
                    .filter(rollouts::state.eq(RolloutState::Running.as_str())),
            )
            .set((rollouts::stage.eq(after + 1), rollouts::updated_at.eq(now_ms())))
            .execute(conn)?;
            if moved == 0 {
                return Ok(false);
            }
            let queued: Vec<i64> = plans.iter().filter(|p| !p.commands.is_empty()).map(|p| p.device.0).collect();
            let sequences = last_sequences(conn, &queued)?;
            let mut rows = Vec::new();
            for plan in plans {
                let before = sequences.get(&plan.device.0).copied().unwrap_or(0);
                rows.extend((before + 1..).zip(&plan.commands).map(|(sequence, c)| (plan.device.0, sequence, c)));
            }
            insert_commands(conn, Some(target.0), &rows)?;
            bulk::record_plans(conn, id.0, plans, &sequences)?;
            // Each queued device now leads to the target, built from its plan's first command.
            diesel::sql_query(
                "UPDATE devices SET desired_model_version_id = ?, provisioned_from = \
                 (SELECT r.first_sequence FROM rollout_devices r WHERE r.rollout_id = ? AND r.device_id = devices.id) \
                 WHERE id IN (SELECT device_id FROM rollout_devices \
                 WHERE rollout_id = ? AND stage = ? AND first_sequence IS NOT NULL)",
            )
            .bind::<diesel::sql_types::BigInt, _>(target.0)
            .bind::<diesel::sql_types::BigInt, _>(id.0)
            .bind::<diesel::sql_types::BigInt, _>(id.0)
            .bind::<diesel::sql_types::Integer, _>(after + 1)
            .execute(conn)?;
            Ok(true)
        })
    }

    /// Moves a rollout from one of `from` to `to` (with a halt reason, for
    /// `halted`); a finished state frees the model for another rollout.
    /// Returns false if it was in none of `from`.
    pub fn move_rollout(
        &self,
        id: RolloutId,
        from: &[RolloutState],
        to: RolloutState,
        halt_reason: Option<&str>,
    ) -> Result<bool> {
        let mut conn = self.conn()?;
        let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        let now = now_ms();
        let active = to.is_active().then_some(1);
        let finished = (!to.is_active()).then_some(now);
        let moved = diesel::update(rollouts::table.filter(rollouts::id.eq(id.0)).filter(rollouts::state.eq_any(from)))
            .set((
                rollouts::state.eq(to.as_str()),
                rollouts::active.eq(active),
                rollouts::halt_reason.eq(halt_reason),
                rollouts::finished_at.eq(finished),
                rollouts::updated_at.eq(now),
            ))
            .execute(&mut conn)?;
        Ok(moved == 1)
    }

    /// Resuming a halted rollout: each failed device's failed command is
    /// handed out again (a new run) and the device is queued again. Returns
    /// the devices retried: name and poke URL.
    pub fn retry_rollout_failures(&self, id: RolloutId) -> Result<Vec<(String, Option<String>)>> {
        self.transaction(|conn| {
            type Failed = (i64, Option<i64>, Option<i64>, String, Option<String>);
            let failed: Vec<Failed> = rollout_devices::table
                .inner_join(devices::table)
                .filter(rollout_devices::rollout_id.eq(id.0))
                .filter(rollout_devices::state.eq(DeviceState::Failed.as_str()))
                .select((
                    rollout_devices::device_id,
                    rollout_devices::first_sequence,
                    rollout_devices::last_sequence,
                    devices::name,
                    devices::poke_url,
                ))
                .load(conn)?;
            let mut retried = Vec::new();
            for (device, first, last, name, poke_url) in failed {
                let (Some(first), Some(last)) = (first, last) else { continue };
                diesel::update(
                    commands::table
                        .filter(commands::device_id.eq(device))
                        .filter(commands::sequence.between(first, last))
                        .filter(commands::state.eq_any(state::HALTING)),
                )
                .set((commands::state.eq(state::PENDING), commands::run.eq(commands::run + 1)))
                .execute(conn)?;
                diesel::update(
                    rollout_devices::table
                        .filter(rollout_devices::rollout_id.eq(id.0))
                        .filter(rollout_devices::device_id.eq(device)),
                )
                .set((
                    rollout_devices::state.eq(DeviceState::Queued.as_str()),
                    rollout_devices::detail.eq("retried when the rollout was resumed"),
                    rollout_devices::updated_at.eq(now_ms()),
                ))
                .execute(conn)?;
                retried.push((name, poke_url));
            }
            Ok(retried)
        })
    }

    /// Aborting a rollout: the commands of its plans not yet handed out (and
    /// failed ones) are aborted; devices not done are marked aborted.
    pub fn abort_rollout_commands(&self, id: RolloutId) -> Result<usize> {
        self.transaction(|conn| {
            let queued: Vec<(i64, Option<i64>, Option<i64>)> = rollout_devices::table
                .filter(rollout_devices::rollout_id.eq(id.0))
                .filter(rollout_devices::state.eq_any([DeviceState::Queued.as_str(), DeviceState::Failed.as_str()]))
                .select((rollout_devices::device_id, rollout_devices::first_sequence, rollout_devices::last_sequence))
                .load(conn)?;
            let mut aborted = 0;
            for (device, first, last) in queued {
                let (Some(first), Some(last)) = (first, last) else { continue };
                aborted += diesel::update(
                    commands::table
                        .filter(commands::device_id.eq(device))
                        .filter(commands::sequence.between(first, last))
                        .filter(commands::state.eq_any([state::PENDING, state::FAILED, state::TIMED_OUT])),
                )
                .set((commands::state.eq(state::ABORTED), commands::finished_at.eq(now_ms())))
                .execute(conn)?;
            }
            diesel::update(
                rollout_devices::table.filter(rollout_devices::rollout_id.eq(id.0)).filter(
                    rollout_devices::state.eq_any([DeviceState::Waiting.as_str(), DeviceState::Queued.as_str()]),
                ),
            )
            .set((rollout_devices::state.eq(DeviceState::Aborted.as_str()), rollout_devices::updated_at.eq(now_ms())))
            .execute(conn)?;
            Ok(aborted)
        })
    }
}
