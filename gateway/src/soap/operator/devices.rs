//! Device operations: `ListDevices`, `ShowDevice`, `AddDevice`, `IssueToken`,
//! `RevokeDevice`, `ListEnrolmentRequests`, `ApproveEnrolment`, `RejectEnrolment`.

use super::iso8601;
use outfit_app::devices::{DeviceFilter, DeviceStatus};
use outfit_app::{Failure, Services};
use outfit_domain::rights::Caller;
use outfit_domain::serving::Agent;
use outfit_wsdl::operator as wire;

/// How many devices a page lists unless the request says.
const DEFAULT_PAGE: usize = 100;

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn summary(d: &DeviceStatus) -> wire::DeviceSummary {
    let c = &d.counts;
    wire::DeviceSummary {
        name: d.device.name.clone(),
        site: d.site.clone(),
        model: d.model.clone(),
        queue: c.state().to_owned(),
        pending: count(c.pending),
        sent: count(c.sent),
        succeeded: count(c.succeeded),
        failed: count(c.failed),
        timed_out: count(c.timed_out),
        rebooting: count(c.rebooting),
        closed: count(c.closed),
        desired_version: d.device.desired.map(|v| v.0),
        applied_version: d.device.applied.map(|v| v.0),
    }
}

/// `ListDevices`: one page of the fleet, and the reboots that are overdue
/// (`reboot_deadline_ms` is the gateway's setting).
pub fn list(
    s: &Services,
    caller: &Caller,
    m: wire::ListDevices,
    reboot_deadline_ms: i64,
) -> Result<wire::ListDevicesResponse, Failure> {
    let filter = DeviceFilter {
        site: m.site,
        model: m.model,
        queue: m.queue,
        search: m.search,
        offset: m.offset.unwrap_or(0).max(0) as usize,
        limit: m.limit.map_or(DEFAULT_PAGE, |l| l.max(1) as usize),
    };
    let page = s.list_devices(caller, &filter)?;
    let overdue_reboot = s
        .overdue_reboots(caller, reboot_deadline_ms)?
        .into_iter()
        .map(|r| wire::OverdueReboot { device: r.device, command: r.command.to_string(), since: iso8601(r.since) })
        .collect();
    Ok(wire::ListDevicesResponse {
        total: page.total as i32,
        device: page.devices.iter().map(summary).collect(),
        overdue_reboot,
    })
}

pub fn show(s: &Services, caller: &Caller, m: wire::ShowDevice) -> Result<wire::ShowDeviceResponse, Failure> {
    let status = s.device_status(caller, &m.device)?;
    let (_, _, agent) = s.show_device(caller, &m.device)?;
    let mut response = wire::ShowDeviceResponse {
        summary: summary(&status),
        agent_version: agent.agent_version.clone(),
        ..Default::default()
    };
    if let Agent::Reported(report) = agent.agent {
        response.platform = Some(report.platform.clone());
        response.precompiled_only = report.precompiled_only.clone();
        response.plugin = report
            .plugins
            .iter()
            .map(|p| wire::PluginInfo {
                name: p.name.clone(),
                version: p.version.clone(),
                world: p.world.clone(),
                serves: p.serves(),
            })
            .collect();
    }
    Ok(response)
}

pub fn add(s: &Services, caller: &Caller, m: wire::AddDevice) -> Result<wire::AddDeviceResponse, Failure> {
    let device = s.add_device(caller, &m.site, &m.device, &m.model)?;
    Ok(wire::AddDeviceResponse { device: device.name })
}

pub fn issue_token(s: &Services, caller: &Caller, m: wire::IssueToken) -> Result<wire::IssueTokenResponse, Failure> {
    let address = m.address.as_deref().unwrap_or("127.0.0.1");
    let ttl = m.expires_in.map_or(3600, |secs| secs.max(0) as u64);
    Ok(wire::IssueTokenResponse { token: s.issue_token(caller, &m.site, &m.device, address, ttl)? })
}

pub fn revoke(s: &Services, caller: &Caller, m: wire::RevokeDevice) -> Result<wire::RevokeDeviceResponse, Failure> {
    Ok(wire::RevokeDeviceResponse { revoked: s.revoke_device(caller, &m.device)? as i32 })
}

pub fn requests(
    s: &Services,
    caller: &Caller,
    _: wire::ListEnrolmentRequests,
) -> Result<wire::ListEnrolmentRequestsResponse, Failure> {
    let request = s
        .enrolment_requests(caller)?
        .into_iter()
        .map(|(r, certified)| wire::EnrolmentRequestInfo {
            device: r.device,
            site: r.site,
            key: r.key_sha256,
            from: r.peer,
            created_at: iso8601(r.created_at),
            certified,
        })
        .collect();
    Ok(wire::ListEnrolmentRequestsResponse { request })
}

pub fn approve(
    s: &Services,
    caller: &Caller,
    m: wire::ApproveEnrolment,
) -> Result<wire::ApproveEnrolmentResponse, Failure> {
    let (request, address) = s.approve_enrolment(caller, &m.device, m.key.as_deref(), m.address.as_deref())?;
    Ok(wire::ApproveEnrolmentResponse { key: request.key_sha256, address })
}

pub fn reject(
    s: &Services,
    caller: &Caller,
    m: wire::RejectEnrolment,
) -> Result<wire::RejectEnrolmentResponse, Failure> {
    let request = s.reject_enrolment(caller, &m.device, m.key.as_deref())?;
    Ok(wire::RejectEnrolmentResponse { key: request.key_sha256 })
}
