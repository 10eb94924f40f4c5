//! Device use cases: registering a device, showing it, revoking its
//! certificates, and the fleet's status.

use crate::audit::{Act, authorise, exists};
use crate::{Failure, Refusal, Services};
use outfit_domain::device::{Device, DeviceAgent};
use outfit_domain::ids::{CommandId, DeviceId};
use outfit_domain::queue::QueueCounts;
use outfit_domain::rights::{Action, Caller, Scope};
use outfit_store::DeviceQuery;
use std::collections::HashMap;

/// A device as `status` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    pub device: Device,
    pub site: String,
    /// The name of its model.
    pub model: String,
    pub counts: QueueCounts,
}

/// Which devices to list, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    pub site: Option<String>,
    pub model: Option<String>,
    /// A queue state as `QueueCounts::state` words it (`halted`, `idle` …).
    pub queue: Option<String>,
    /// Part of the device name.
    pub search: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePage {
    /// How many devices match, over all pages.
    pub total: usize,
    pub devices: Vec<DeviceStatus>,
}

/// The most devices one page lists.
pub const MAX_PAGE: usize = 10_000;

/// A reboot that has not come back within the gateway's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueReboot {
    pub device: String,
    pub command: CommandId,
    /// Unix ms since the agent said it was going down.
    pub since: i64,
}

impl Services {
    /// Registers a device of `site` built to `model`'s current version. Its
    /// agent enrols by asking for approval, or with a token.
    pub fn add_device(&self, caller: &Caller, site: &str, name: &str, model: &str) -> Result<Device, Failure> {
        let act = Act { action: "AddDevice", site: Some(site), object: name.to_owned() };
        self.audited(caller, act, || {
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let device = self.storage.add_device(site, name, model)?;
            Ok((device, format!("model {model}")))
        })
    }

    /// A device and what its agent last said of itself.
    pub fn show_device(&self, caller: &Caller, name: &str) -> Result<(Device, String, DeviceAgent), Failure> {
        let site = self.site_of(name)?;
        authorise(caller, &site, Scope::SomeCategory, Action::Read)?;
        let device = self.storage.device(name)?.ok_or_else(|| Refusal::not_found("device", name))?;
        let agent = self.storage.device_agents(None, std::slice::from_ref(&device.name))?.pop();
        let agent = agent.ok_or_else(|| Refusal::not_found("device", name))?;
        Ok((device, site, agent))
    }

    /// A device with its queue's counts.
    pub fn device_status(&self, caller: &Caller, name: &str) -> Result<DeviceStatus, Failure> {
        let query = DeviceQuery { name: Some(name), limit: 1, ..DeviceQuery::default() };
        let (_, mut found) = self.storage.device_page(&query)?;
        let (device, site, model) = found.pop().ok_or_else(|| Refusal::not_found("device", name))?;
        authorise(caller, &site, Scope::SomeCategory, Action::Read)?;
        let counts = self.storage.queue_counts(device.id)?;
        Ok(DeviceStatus { device, site, model, counts })
    }

    /// The devices `caller` may read that match `filter`, one page of them,
    /// in name order. Without a queue state to match, the database filters
    /// and pages, and only the page's queues are counted; a queue state is
    /// known only from the counts, so then every selected device is read.
    pub fn list_devices(&self, caller: &Caller, filter: &DeviceFilter) -> Result<DevicePage, Failure> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let readable = caller.principal.sites(Action::Read);
        let mut query = DeviceQuery {
            sites: readable.as_deref(),
            site: filter.site.as_deref(),
            model: filter.model.as_deref(),
            name: None,
            search: filter.search.as_deref(),
            offset: filter.offset,
            limit,
        };
        let status = |rows: Vec<(Device, String, String)>, counts: &mut HashMap<DeviceId, QueueCounts>| {
            let status = |(device, site, model): (Device, String, String)| {
                let counts = counts.remove(&device.id).unwrap_or_default();
                DeviceStatus { device, site, model, counts }
            };
            rows.into_iter().map(status).collect::<Vec<_>>()
        };
        let Some(queue) = filter.queue.as_deref() else {
            let (total, rows) = self.storage.device_page(&query)?;
            let ids: Vec<DeviceId> = rows.iter().map(|(d, ..)| d.id).collect();
            let mut counts = self.storage.queue_counts_of(Some(&ids))?;
            return Ok(DevicePage { total, devices: status(rows, &mut counts) });
        };
        (query.offset, query.limit) = (0, usize::MAX);
        let (_, rows) = self.storage.device_page(&query)?;
        let mut counts = self.storage.queue_counts_of(None)?;
        let matching: Vec<DeviceStatus> =
            status(rows, &mut counts).into_iter().filter(|d| d.counts.state() == queue).collect();
        let total = matching.len();
        Ok(DevicePage { total, devices: matching.into_iter().skip(filter.offset).take(limit).collect() })
    }

    /// Revokes every certificate of a device: its next request is refused.
    /// Returns how many were valid.
    pub fn revoke_device(&self, caller: &Caller, name: &str) -> Result<usize, Failure> {
        let known = self.storage.device_site(name)?;
        let act = Act { action: "RevokeDevice", site: known.as_deref(), object: name.to_owned() };
        self.audited(caller, act, || {
            let site = exists(known.as_deref(), name)?;
            authorise(caller, site, Scope::EveryCategory, Action::Deploy)?;
            let device = self.storage.device(name)?.ok_or_else(|| Refusal::not_found("device", name))?;
            let n = self.storage.revoke_certificates(device.id)?;
            Ok((n, format!("{n} certificates revoked")))
        })
    }

    /// Every device `caller` may read, with its queue's counts.
    pub fn status(&self, caller: &Caller) -> Result<Vec<DeviceStatus>, Failure> {
        Ok(self.list_devices(caller, &DeviceFilter { limit: usize::MAX, ..Default::default() })?.devices)
    }

    /// Reboots of devices `caller` may read that have not come back within
    /// `deadline_ms`.
    pub fn overdue_reboots(&self, caller: &Caller, deadline_ms: i64) -> Result<Vec<OverdueReboot>, Failure> {
        let mut overdue = Vec::new();
        for (device, command, since) in self.storage.overdue_reboots(deadline_ms)? {
            let site = self.site_of(&device)?;
            if caller.principal.may(&site, Scope::SomeCategory, Action::Read) {
                overdue.push(OverdueReboot { device, command, since });
            }
        }
        Ok(overdue)
    }

    /// The site of a registered device.
    pub(crate) fn site_of(&self, device: &str) -> Result<String, Failure> {
        self.storage.device_site(device)?.ok_or_else(|| Refusal::not_found("device", device).into())
    }
}
