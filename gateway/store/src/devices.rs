//! Devices: registration, what their agents say in Hello, and the exchange log.

use super::queue::state;
use super::schema::*;
use super::{Result, Session, Storage, StorageError, hot, mark_applied_if_done, now_ms, site_id};
use diesel::prelude::*;
use outfit_domain::device::{Device, DeviceAgent};
use outfit_domain::ids::{CommandId, DeviceId, ModelId, ModelVersionId, SiteId};
use outfit_domain::serving::{Agent, AgentReport};

/// A `devices` row as every agent exchange reads it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub(crate) struct DeviceRow {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub model_id: i64,
    pub desired_model_version_id: Option<i64>,
    pub applied_model_version_id: Option<i64>,
    pub poke_url: Option<String>,
    pub boot_id: Option<String>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Self {
        Self {
            id: DeviceId(row.id),
            site: SiteId(row.site_id),
            name: row.name,
            model: ModelId(row.model_id),
            desired: row.desired_model_version_id.map(ModelVersionId),
            applied: row.applied_model_version_id.map(ModelVersionId),
            poke_url: row.poke_url,
            boot_id: row.boot_id,
        }
    }
}

/// What a device's agent said of itself in its latest Hello, as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = devices)]
struct AgentRow {
    id: i64,
    name: String,
    agent_version: Option<String>,
    /// JSON of [`AgentReport`].
    agent_report: Option<String>,
}

impl From<AgentRow> for DeviceAgent {
    fn from(row: AgentRow) -> Self {
        let agent = match (&row.agent_version, AgentReport::from_column(row.agent_report.as_deref())) {
            (_, Some(report)) => Agent::Reported(report),
            (Some(version), None) => Agent::Unreported { version: version.clone() },
            (None, None) => Agent::Unseen,
        };
        Self { id: DeviceId(row.id), name: row.name, agent_version: row.agent_version, agent }
    }
}

impl Storage {
    /// Registers a device of `site` built to `model`'s current version.
    pub fn add_device(&self, site: &str, name: &str, model: &str) -> Result<Device> {
        self.transaction(|conn| {
            let site = site_id(conn, site)?;
            let (model_id, current) = models::table
                .filter(models::site_id.eq(site))
                .filter(models::name.eq(model))
                .select((models::id, models::current_version_id))
                .first::<(i64, Option<i64>)>(conn)
                .optional()?
                .ok_or_else(|| StorageError::NotFound { what: "model", name: model.to_owned() })?;
            if devices::table.filter(devices::name.eq(name)).count().get_result::<i64>(conn)? > 0 {
                return Err(StorageError::Invalid(format!("a device named `{name}` is already registered")));
            }
            diesel::insert_into(devices::table)
                .values((
                    devices::site_id.eq(site),
                    devices::name.eq(name),
                    devices::model_id.eq(model_id),
                    devices::desired_model_version_id.eq(current),
                    devices::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            let row: DeviceRow =
                devices::table.filter(devices::name.eq(name)).select(DeviceRow::as_select()).first(conn)?;
            Ok(row.into())
        })
    }

    /// The version new provisioning of `model` builds to.
    pub fn current_model_version(&self, model: ModelId) -> Result<Option<ModelVersionId>> {
        let mut conn = self.conn()?;
        let version: Option<i64> = models::table.find(model.0).select(models::current_version_id).first(&mut conn)?;
        Ok(version.map(ModelVersionId))
    }

    pub fn device(&self, name: &str) -> Result<Option<Device>> {
        self.exchange(|session| session.device(name))
    }

    /// One page of the devices `query` selects, by name, with the names of
    /// their sites and models, and how many it selects in all. The filters
    /// and the page are the database's work (one index-ordered read and a
    /// count), so a page costs the same in a fleet of any size.
    pub fn device_page(&self, query: &DeviceQuery<'_>) -> Result<(usize, Vec<NamedDevice>)> {
        let mut conn = self.conn()?;
        // Devices alone, narrowed through subqueries rather than joins: the
        // page is then read in the order of the name index and stops at its
        // end (a join made MariaDB sort the whole fleet for every page).
        macro_rules! selected {
            () => {{
                let mut q = devices::table.into_boxed();
                if let Some(sites) = query.sites {
                    let ids = sites::table.filter(sites::name.eq_any(sites.to_vec())).select(sites::id);
                    q = q.filter(devices::site_id.eq_any(ids));
                }
                if let Some(site) = query.site {
                    q = q.filter(
                        devices::site_id.eq_any(sites::table.filter(sites::name.eq(site.to_owned())).select(sites::id)),
                    );
                }
                if let Some(model) = query.model {
                    let ids = models::table.filter(models::name.eq(model.to_owned())).select(models::id);
                    q = q.filter(devices::model_id.eq_any(ids));
                }
                if let Some(name) = query.name {
                    q = q.filter(devices::name.eq(name.to_owned()));
                }
                if let Some(search) = query.search {
                    let escaped = search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    q = q.filter(devices::name.like(format!("%{escaped}%")).escape('\\'));
                }
                q
            }};
        }
        let total: i64 = selected!().count().get_result(&mut conn)?;
        let rows: Vec<DeviceRow> = selected!()
            .order(devices::name)
            .offset(query.offset as i64)
            .limit(query.limit.min(i64::MAX as usize) as i64)
            .select(DeviceRow::as_select())
            .load(&mut conn)?;
        // Sites and models are few: their names in two small reads.
        let site_names: std::collections::HashMap<i64, String> =
            sites::table.select((sites::id, sites::name)).load::<(i64, String)>(&mut conn)?.into_iter().collect();
        let model_names: std::collections::HashMap<i64, String> =
            models::table.select((models::id, models::name)).load::<(i64, String)>(&mut conn)?.into_iter().collect();
        let named = rows
            .into_iter()
            .map(|row| {
                let site = site_names.get(&row.site_id).cloned().unwrap_or_default();
                let model = model_names.get(&row.model_id).cloned().unwrap_or_default();
                (row.into(), site, model)
            })
            .collect();
        Ok((total as usize, named))
    }

    /// Every device with its site's name, by device name.
    pub fn devices_with_sites(&self) -> Result<Vec<(Device, String)>> {
        let mut conn = self.conn()?;
        let rows: Vec<(DeviceRow, String)> = devices::table
            .inner_join(sites::table)
            .order(devices::name)
            .select((DeviceRow::as_select(), sites::name))
            .load(&mut conn)?;
        Ok(rows.into_iter().map(|(row, site)| (row.into(), site)).collect())
    }

    /// The name of the site `device` belongs to; `None` if no such device.
    pub fn device_site(&self, device: &str) -> Result<Option<String>> {
        let mut conn = self.conn()?;
        Ok(devices::table
            .inner_join(sites::table)
            .filter(devices::name.eq(device))
            .select(sites::name)
            .first(&mut conn)
            .optional()?)
    }

    /// The role categories a provisioning of `device` (of `site`) touches:
    /// those of its model's current version. `NotFound` if the site has no
    /// such device.
    pub fn provisioned_categories(&self, site: &str, device: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let found: Option<Option<i64>> = devices::table
            .inner_join(sites::table)
            .inner_join(models::table)
            .filter(sites::name.eq(site))
            .filter(devices::name.eq(device))
            .select(models::current_version_id)
            .first(&mut conn)
            .optional()?;
        let not_found = || StorageError::NotFound { what: "device of that site", name: device.to_owned() };
        let version = found.ok_or_else(not_found)?.ok_or_else(not_found)?;
        Ok(model_version_roles::table
            .inner_join(role_categories::table)
            .filter(model_version_roles::model_version_id.eq(version))
            .order(role_categories::id)
            .select(role_categories::name)
            .load(&mut conn)?)
    }

    pub fn devices(&self) -> Result<Vec<Device>> {
        let mut conn = self.conn()?;
        let rows: Vec<DeviceRow> =
            devices::table.order(devices::name).select(DeviceRow::as_select()).load(&mut conn)?;
        Ok(rows.into_iter().map(Device::from).collect())
    }

    /// [`Session::record_hello`] in a transaction of its own.
    pub fn record_hello(
        &self,
        device: DeviceId,
        boot_id: &str,
        agent_version: &str,
        poke_url: Option<&str>,
        agent_report: Option<&AgentReport>,
    ) -> Result<(Option<CommandId>, i64)> {
        self.exchange(|session| {
            let conn = &mut *session.conn;
            let device: DeviceRow = devices::table.find(device.0).select(DeviceRow::as_select()).first(conn)?;
            session.record_hello(&device.into(), boot_id, agent_version, poke_url, agent_report)
        })
    }

    /// Devices whose reboot has not come back within `deadline_ms`: (device, command id, since).
    pub fn overdue_reboots(&self, deadline_ms: i64) -> Result<Vec<(String, CommandId, i64)>> {
        let mut conn = self.conn()?;
        let cutoff = now_ms() - deadline_ms;
        let rows: Vec<(String, i64, i64)> = commands::table
            .inner_join(devices::table)
            .filter(commands::state.eq(state::REBOOTING))
            .filter(commands::finished_at.le(cutoff))
            .select((devices::name, commands::id, commands::finished_at.assume_not_null()))
            .load(&mut conn)?;
        Ok(rows.into_iter().map(|(device, id, since)| (device, CommandId(id), since)).collect())
    }

    /// Logs one SOAP exchange and the connection it arrived on.
    pub fn record_exchange(&self, exchange: &ExchangeRecord) -> Result<()> {
        self.exchange(|session| session.record_exchange(exchange))
    }

    /// The agents of the registered devices among `names` (of `site`, when
    /// given: another site's devices are not described), one query per thousand.
    pub fn device_agents(&self, site: Option<&str>, names: &[String]) -> Result<Vec<DeviceAgent>> {
        let mut conn = self.conn()?;
        let mut rows = Vec::with_capacity(names.len());
        for slice in names.chunks(1000) {
            let mut query =
                devices::table.filter(devices::name.eq_any(slice)).select(AgentRow::as_select()).into_boxed();
            if let Some(site) = site {
                query =
                    query.filter(devices::site_id.eq_any(sites::table.filter(sites::name.eq(site)).select(sites::id)));
            }
            rows.extend(query.load::<AgentRow>(&mut conn)?.into_iter().map(DeviceAgent::from));
        }
        Ok(rows)
    }
}

/// A device with the names of its site and model.
pub type NamedDevice = (Device, String, String);

/// Which devices [`Storage::device_page`] lists: each `Some` narrows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeviceQuery<'a> {
    /// Only devices of these sites (the ones the caller may read).
    pub sites: Option<&'a [String]>,
    pub site: Option<&'a str>,
    pub model: Option<&'a str>,
    /// This device exactly.
    pub name: Option<&'a str>,
    /// Devices whose names contain this.
    pub search: Option<&'a str>,
    pub offset: usize,
    pub limit: usize,
}

/// One SOAP exchange, for the exchange log.

#[derive(Debug)]
pub struct ExchangeRecord {
    pub device: Option<DeviceId>,
    pub operation: &'static str,
    pub connection_serial: u64,
    pub gateway_instance: String,
    pub peer: String,
    pub answer: String,
}

impl Session<'_> {
    pub fn device(&mut self, name: &str) -> Result<Option<Device>> {
        let conn = &mut *self.conn;
        let row: Option<DeviceRow> =
            devices::table.filter(devices::name.eq(name)).select(DeviceRow::as_select()).first(conn).optional()?;
        Ok(row.map(Device::from))
    }

    /// Records an agent's Hello (with its report of its plug-ins, JSON of
    /// [`AgentReport`]; None from an agent too old to send
    /// one) for `device` as this exchange read it. A new boot id while a
    /// reboot command is `rebooting` means the reboot happened: that command
    /// succeeds and the queue goes on. Returns the id of the command so
    /// completed, and how many commands wait for the agent (pending or
    /// handed out): what `HelloResponse` tells it.
    ///
    /// Two statements in the common case (an update and the counts), since
    /// every agent start costs one Hello: the previous boot id comes with the
    /// row the certificate lookup read, and the counts tell whether a reboot
    /// is waiting at all.
    pub fn record_hello(
        &mut self,
        device: &Device,
        boot_id: &str,
        agent_version: &str,
        poke_url: Option<&str>,
        agent_report: Option<&AgentReport>,
    ) -> Result<(Option<CommandId>, i64)> {
        let agent_report = agent_report.map(AgentReport::to_column);
        let agent_report = agent_report.as_deref();
        let id = device.id.0;
        let seen = hot::RecordHello { device: id, boot_id, agent_version, poke_url, agent_report, now: now_ms() };
        seen.execute(&mut *self.conn)?;
        let counts = self.open_counts(id)?;
        let waiting = counts.pending + counts.sent;
        let previous = device.boot_id.as_deref();
        if previous == Some(boot_id) || counts.rebooting == 0 {
            return Ok((None, waiting)); // a reconnect, or no reboot under way
        }
        let conn = &mut *self.conn;
        let rebooting: Option<i64> = commands::table
            .filter(commands::device_id.eq(id))
            .filter(commands::in_queue.eq(1))
            .filter(commands::state.eq(state::REBOOTING))
            .select(commands::id)
            .first(conn)
            .optional()?;
        let Some(rebooting_id) = rebooting else { return Ok((None, waiting)) };
        let message = format!("rebooted: boot id {} -> {boot_id}", previous.unwrap_or("unknown"));
        let done = diesel::update(
            commands::table.filter(commands::id.eq(rebooting_id)).filter(commands::state.eq(state::REBOOTING)),
        )
        .set((commands::state.eq(state::SUCCEEDED), commands::result.eq(message), commands::finished_at.eq(now_ms())))
        .execute(conn)?;
        if done != 1 {
            return Ok((None, waiting)); // another exchange completed it just now
        }
        mark_applied_if_done(conn, device.id.0)?;
        Ok((Some(CommandId(rebooting_id)), waiting))
    }

    /// Logs one SOAP exchange and the connection it arrived on.
    pub fn record_exchange(&mut self, exchange: &ExchangeRecord) -> Result<()> {
        let conn = &mut *self.conn;
        diesel::insert_into(exchanges::table)
            .values((
                exchanges::device_id.eq(exchange.device.map(|d| d.0)),
                exchanges::operation.eq(exchange.operation),
                exchanges::connection_serial.eq(exchange.connection_serial as i64),
                exchanges::gateway_instance.eq(&exchange.gateway_instance),
                exchanges::peer.eq(&exchange.peer),
                exchanges::answer.eq(&exchange.answer),
                exchanges::created_at.eq(now_ms()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Logs one exchange of `device`, if the certificate it arrived with
    /// (`fingerprint`) is valid now; returns whether it is (see
    /// `soap::Certified`: nothing else of the exchange may commit if not).
    pub fn record_exchange_if_certified(&mut self, exchange: &ExchangeRecord, fingerprint: &str) -> Result<bool> {
        let serial = exchange.connection_serial as i64;
        let device = exchange.device.map(|d| d.0);
        let log =
            hot::LogIfCertified { record: exchange, device, fingerprint, connection_serial: serial, now: now_ms() };
        Ok(log.execute(&mut *self.conn)? == 1)
    }
}
