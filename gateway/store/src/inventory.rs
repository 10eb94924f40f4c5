//! Inventories and drift as stored: each device's latest reports (a bounded
//! history) and its differences from its model, each a row from the report
//! that first showed it until one no longer does.

use super::schema::*;
use super::{DbConnection, Result, Session, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::drift::{Drift, DriftKind};
use outfit_domain::ids::{DeviceId, ModelId, ModelVersionId};
use outfit_domain::inventory::{Inventory, Occasion};
use outfit_domain::model::DesiredComponent;
use std::collections::BTreeSet;

/// Reports kept per device.
pub const HISTORY: i64 = 20;

/// One stored report, without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventorySummary {
    pub id: i64,
    pub taken_at: i64,
    pub received_at: i64,
    pub occasion: Occasion,
    /// The version it was compared with, as its number.
    pub version: Option<i32>,
    pub drift: i32,
}

/// A drift row with the device and model it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftRecord {
    pub id: i64,
    pub device: String,
    pub site: String,
    pub model: String,
    pub drift: Drift,
    pub changed_by: Option<String>,
    pub version: Option<i32>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
}

/// What a device is supposed to hold: its applied version's components and
/// the model's managed package names (shared, read once per version).
#[derive(Debug, Clone)]
pub struct Supposed {
    pub version: ModelVersionId,
    pub components: std::sync::Arc<Vec<DesiredComponent>>,
    pub managed: std::sync::Arc<BTreeSet<String>>,
}

/// Which drift to list.
#[derive(Debug, Clone, Default)]
pub struct DriftQuery<'a> {
    pub site: Option<&'a str>,
    pub model: Option<&'a str>,
    pub device: Option<&'a str>,
    /// Resolved drift too (its history), not only what is open.
    pub history: bool,
    pub limit: i64,
    /// One row by id.
    pub only: Option<i64>,
}

/// The package names some version of a model had: the scope in which an
/// installed package the model does not have counts as extra.
pub(crate) fn managed_packages(conn: &mut DbConnection, model: i64) -> QueryResult<BTreeSet<String>> {
    let names: Vec<String> =
        model_versions::table
            .inner_join(model_version_roles::table.inner_join(
                role_versions::table.inner_join(role_version_components::table.inner_join(components::table)),
            ))
            .filter(model_versions::model_id.eq(model))
            .select(components::package_name)
            .distinct()
            .load(conn)?;
    Ok(names.into_iter().collect())
}

impl Session<'_> {
    /// What the device is supposed to hold: its applied version's components
    /// (`None`: it has none yet), and the model's managed package names.
    pub fn supposed(&mut self, device: DeviceId) -> Result<Option<Supposed>> {
        let (model, applied, current): (i64, Option<i64>, Option<i64>) = devices::table
            .inner_join(models::table)
            .filter(devices::id.eq(device.0))
            .select((devices::model_id, devices::applied_model_version_id, models::current_version_id))
            .first(&mut *self.conn)?;
        let Some(applied) = applied.map(ModelVersionId) else { return Ok(None) };
        Ok(Some(Supposed {
            version: applied,
            components: self.versions.components(self.conn, applied)?,
            managed: self.versions.managed(self.conn, model, current)?,
        }))
    }

    /// Stores a report and the drift it showed (against `version`), keeps
    /// the device's latest [`HISTORY`] reports, and moves the device's drift
    /// rows: the same difference again updates its row, a new one opens a
    /// row, one no longer shown is resolved as gone. `changed_by` names who
    /// changed a file through the access endpoint (by path).
    pub fn record_inventory(
        &mut self,
        device: DeviceId,
        inventory: &Inventory,
        version: Option<ModelVersionId>,
        drift: &[Drift],
        changed_by: impl Fn(&str) -> Option<String>,
    ) -> Result<()> {
        let conn = &mut *self.conn;
        let now = now_ms();
        diesel::insert_into(inventories::table)
            .values((
                inventories::device_id.eq(device.0),
                inventories::taken_at.eq(inventory.taken_at),
                inventories::received_at.eq(now),
                inventories::occasion.eq(inventory.occasion.as_str()),
                inventories::model_version_id.eq(version.map(|v| v.0)),
                inventories::drift.eq(drift.len() as i32),
                inventories::body.eq(inventory.to_json()),
            ))
            .execute(conn)?;
        let keep_from: Option<i64> = inventories::table
            .filter(inventories::device_id.eq(device.0))
            .order(inventories::id.desc())
            .offset(HISTORY - 1)
            .select(inventories::id)
            .first(conn)
            .optional()?;
        if let Some(oldest) = keep_from {
            diesel::delete(
                inventories::table.filter(inventories::device_id.eq(device.0)).filter(inventories::id.lt(oldest)),
            )
            .execute(conn)?;
        }
        let open: Vec<(i64, String, String)> = drifts::table
            .filter(drifts::device_id.eq(device.0))
            .filter(drifts::resolved_at.is_null())
            .select((drifts::id, drifts::kind, drifts::subject))
            .load(conn)?;
        let mut seen = Vec::new();
        for d in drift {
            let found = open
                .iter()
                .find(|(_, kind, subject)| (kind.as_str(), subject.as_str()) == (d.kind.as_str(), d.subject.as_str()));
            let by = if d.kind == DriftKind::File { changed_by(&d.subject) } else { None };
            match found {
                Some((id, ..)) => {
                    seen.push(*id);
                    diesel::update(drifts::table.find(id))
                        .set((
                            drifts::expected.eq(&d.expected),
                            drifts::actual.eq(&d.actual),
                            drifts::diff.eq(&d.diff),
                            drifts::changed_by.eq(by),
                            drifts::model_version_id.eq(version.map(|v| v.0)),
                            drifts::last_seen_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                None => {
                    diesel::insert_into(drifts::table)
                        .values((
                            drifts::device_id.eq(device.0),
                            drifts::kind.eq(d.kind.as_str()),
                            drifts::subject.eq(&d.subject),
                            drifts::category.eq(&d.category),
                            drifts::component.eq(&d.component),
                            drifts::expected.eq(&d.expected),
                            drifts::actual.eq(&d.actual),
                            drifts::diff.eq(&d.diff),
                            drifts::changed_by.eq(by),
                            drifts::model_version_id.eq(version.map(|v| v.0)),
                            drifts::first_seen_at.eq(now),
                            drifts::last_seen_at.eq(now),
                        ))
                        .execute(conn)?;
                }
            }
        }
        let gone: Vec<i64> = open.iter().map(|(id, ..)| *id).filter(|id| !seen.contains(id)).collect();
        if !gone.is_empty() {
            diesel::update(drifts::table.filter(drifts::id.eq_any(gone)))
                .set((drifts::resolved_at.eq(now), drifts::resolution.eq("gone")))
                .execute(conn)?;
        }
        Ok(())
    }
}

fn occasion(text: &str) -> Result<Occasion> {
    Occasion::parse(text).ok_or_else(|| StorageError::Invalid(format!("unknown inventory occasion `{text}`")))
}

impl Storage {
    /// A device's reports, newest first (at most [`HISTORY`]).
    pub fn inventories(&self, device: DeviceId) -> Result<Vec<InventorySummary>> {
        let mut conn = self.conn()?;
        type Row = (i64, i64, i64, String, Option<i32>, i32);
        let rows: Vec<Row> = inventories::table
            .left_join(model_versions::table.on(inventories::model_version_id.eq(model_versions::id.nullable())))
            .filter(inventories::device_id.eq(device.0))
            .order(inventories::id.desc())
            .select((
                inventories::id,
                inventories::taken_at,
                inventories::received_at,
                inventories::occasion,
                model_versions::version.nullable(),
                inventories::drift,
            ))
            .load(&mut conn)?;
        rows.into_iter()
            .map(|(id, taken_at, received_at, text, version, drift)| {
                Ok(InventorySummary { id, taken_at, received_at, occasion: occasion(&text)?, version, drift })
            })
            .collect()
    }

    /// A device's latest report, if it sent one.
    pub fn latest_inventory(&self, device: DeviceId) -> Result<Option<Inventory>> {
        let mut conn = self.conn()?;
        let body: Option<String> = inventories::table
            .filter(inventories::device_id.eq(device.0))
            .order(inventories::id.desc())
            .select(inventories::body)
            .first(&mut conn)
            .optional()?;
        body.map(|b| Inventory::from_json(&b).map_err(StorageError::Invalid)).transpose()
    }

    /// Drift, newest first: open only, or with its history.
    pub fn drifts(&self, query: &DriftQuery<'_>) -> Result<Vec<DriftRecord>> {
        let mut conn = self.conn()?;
        let mut q = drifts::table
            .inner_join(
                devices::table.inner_join(models::table).inner_join(sites::table.on(sites::id.eq(devices::site_id))),
            )
            .left_join(model_versions::table.on(drifts::model_version_id.eq(model_versions::id.nullable())))
            .order(drifts::id.desc())
            .limit(query.limit.max(1))
            .into_boxed();
        if let Some(site) = query.site {
            q = q.filter(sites::name.eq(site.to_owned()));
        }
        if let Some(model) = query.model {
            q = q.filter(models::name.eq(model.to_owned()));
        }
        if let Some(device) = query.device {
            q = q.filter(devices::name.eq(device.to_owned()));
        }
        if !query.history {
            q = q.filter(drifts::resolved_at.is_null());
        }
        if let Some(id) = query.only {
            q = q.filter(drifts::id.eq(id));
        }
        type Row = (
            (i64, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>),
            (Option<String>, i64, i64, Option<i64>, Option<String>),
            (String, String, String, Option<i32>),
        );
        let rows: Vec<Row> = q
            .select((
                (
                    drifts::id,
                    drifts::kind,
                    drifts::subject,
                    drifts::category,
                    drifts::component,
                    drifts::expected,
                    drifts::actual,
                    drifts::diff,
                ),
                (
                    drifts::changed_by,
                    drifts::first_seen_at,
                    drifts::last_seen_at,
                    drifts::resolved_at,
                    drifts::resolution,
                ),
                (devices::name, sites::name, models::name, model_versions::version.nullable()),
            ))
            .load(&mut conn)?;
        rows.into_iter()
            .map(|((id, kind, subject, category, component, expected, actual, diff), rest, owner)| {
                let (changed_by, first_seen_at, last_seen_at, resolved_at, resolution) = rest;
                let (device, site, model, version) = owner;
                let kind =
                    DriftKind::parse(&kind).ok_or_else(|| StorageError::Invalid(format!("drift kind `{kind}`")))?;
                Ok(DriftRecord {
                    id,
                    device,
                    site,
                    model,
                    drift: Drift { kind, category, component, subject, expected, actual, diff },
                    changed_by,
                    version,
                    first_seen_at,
                    last_seen_at,
                    resolved_at,
                    resolution,
                })
            })
            .collect()
    }

    /// One drift row.
    pub fn drift(&self, id: i64) -> Result<Option<DriftRecord>> {
        let query = DriftQuery { history: true, limit: 1, only: Some(id), ..Default::default() };
        Ok(self.drifts(&query)?.pop())
    }

    /// Closes a drift row (remediated, promoted …).
    pub fn resolve_drift(&self, id: i64, resolution: &str) -> Result<()> {
        let mut conn = self.conn()?;
        diesel::update(drifts::table.find(id).filter(drifts::resolved_at.is_null()))
            .set((drifts::resolved_at.eq(now_ms()), drifts::resolution.eq(resolution)))
            .execute(&mut conn)?;
        Ok(())
    }

    /// The package names some version of `model` had.
    pub fn managed_packages(&self, model: ModelId) -> Result<BTreeSet<String>> {
        Ok(managed_packages(&mut *self.conn()?, model.0)?)
    }

    /// The model a device belongs to.
    pub fn device_model(&self, device: DeviceId) -> Result<ModelId> {
        let mut conn = self.conn()?;
        Ok(ModelId(devices::table.find(device.0).select(devices::model_id).first(&mut conn)?))
    }
}
