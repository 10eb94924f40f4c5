//! Inventory and drift: `ShowInventory`, `ListDrift`, `RequestInventory`,
//! `Remediate`, `PromoteDrift`.

use super::iso8601;
use super::queue::queued;
use super::rollouts::follow;
use super::scripts::targets;
use outfit_app::drift::DriftQuery;
use outfit_app::{Failure, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator as wire;

pub fn show(s: &Services, caller: &Caller, m: wire::ShowInventory) -> Result<wire::ShowInventoryResponse, Failure> {
    let (latest, history) = s.show_inventory(caller, &m.device)?;
    let report = history
        .into_iter()
        .map(|r| wire::InventoryInfo {
            taken_at: iso8601(r.taken_at),
            received_at: iso8601(r.received_at),
            occasion: r.occasion.as_str().to_owned(),
            version: r.version,
            drift: r.drift,
        })
        .collect();
    let mut response = wire::ShowInventoryResponse { device: m.device, report, ..Default::default() };
    if let Some(i) = latest {
        let pair = |(name, value): (String, String)| wire::ParameterValue { name, value };
        response.taken_at = Some(iso8601(i.taken_at));
        response.occasion = Some(i.occasion.as_str().to_owned());
        response.fact = i.facts.into_iter().map(pair).collect();
        response.plugin = i.plugins.into_iter().map(pair).collect();
        response.disk = i
            .disks
            .into_iter()
            .map(|d| wire::DiskInfo { mount: d.mount, total_bytes: d.total_bytes, available_bytes: d.available_bytes })
            .collect();
        response.interface =
            i.interfaces.into_iter().map(|n| wire::InterfaceInfo { name: n.name, address: n.addresses }).collect();
        response.package = i
            .packages
            .into_iter()
            .map(|p| wire::InstalledInfo { name: p.name, version: p.version, format: p.format })
            .collect();
        response.file = i
            .files
            .into_iter()
            .map(|f| wire::ManagedFileInfo {
                changed: f.changed(),
                path: f.path,
                component: f.component,
                sha256: f.sha256,
            })
            .collect();
    }
    Ok(response)
}

pub fn list(s: &Services, caller: &Caller, m: wire::ListDrift) -> Result<wire::ListDriftResponse, Failure> {
    let query = DriftQuery {
        site: m.site.as_deref(),
        model: m.model.as_deref(),
        device: m.device.as_deref(),
        history: m.history.unwrap_or(false),
        limit: i64::from(m.limit.unwrap_or(1000).clamp(1, 10_000)),
        only: None,
    };
    let drift = s
        .drifts(caller, &query)?
        .into_iter()
        .map(|r| wire::DriftInfo {
            id: r.id,
            device: r.device,
            site: r.site,
            model: r.model,
            kind: r.drift.kind.as_str().to_owned(),
            category: r.drift.category,
            component: r.drift.component,
            subject: r.drift.subject,
            expected: r.drift.expected,
            actual: r.drift.actual,
            diff: r.drift.diff,
            changed_by: r.changed_by,
            version: r.version,
            first_seen: iso8601(r.first_seen_at),
            last_seen: iso8601(r.last_seen_at),
            resolved_at: r.resolved_at.map(iso8601),
            resolution: r.resolution,
        })
        .collect();
    Ok(wire::ListDriftResponse { drift })
}

pub fn request(
    s: &Services,
    caller: &Caller,
    m: wire::RequestInventory,
) -> Result<wire::RequestInventoryResponse, Failure> {
    let targets = targets(s, caller, "RequestInventory", &m.site, &m.device, m.model.as_deref())?;
    let all = s.request_inventory(caller, &m.site, &targets)?;
    Ok(wire::RequestInventoryResponse { queued: all.iter().map(queued).collect() })
}

pub fn remediate(s: &Services, caller: &Caller, m: wire::Remediate) -> Result<wire::RemediateResponse, Failure> {
    Ok(wire::RemediateResponse { queued: queued(&s.remediate(caller, &m.device)?) })
}

pub fn promote(s: &Services, caller: &Caller, m: wire::PromoteDrift) -> Result<wire::PromoteDriftResponse, Failure> {
    let changed = s.promote_drift(caller, m.drift, m.reason.as_deref(), follow(m.rollout))?;
    Ok(wire::PromoteDriftResponse {
        model_version: changed.imported.version,
        created: changed.imported.created,
        rollout: changed.rollout.map(|id| id.0),
        proposal: changed.imported.proposed.as_ref().map(ToString::to_string),
    })
}
