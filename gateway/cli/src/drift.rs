//! `outfit inventory …` and `outfit drift …`: what devices hold, where they
//! differ from their model, and putting them back or adopting the change.

use crate::args::{DriftCmd, InventoryCmd};
use crate::client::Client;
use crate::failure::{CliError, Exit};
use crate::models::{KEPT, MADE, changed, rollout};
use crate::output::{or_dash, show, table};
use crate::run::queued;
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};

pub fn inventory(client: &Client, command: InventoryCmd, json: bool) -> Result<(), CliError> {
    match command {
        InventoryCmd::Show { device } => {
            let r = call!(client, ShowInventory(wire::ShowInventory { device }));
            show(json, &r, |r| {
                let Some(taken) = &r.taken_at else {
                    println!("{} has reported no inventory", r.device);
                    return;
                };
                println!("{} at {taken} ({})", r.device, or_dash(&r.occasion));
                for fact in &r.fact {
                    println!("  {}: {}", fact.name, fact.value);
                }
                let packages = r.package.iter().map(|p| vec![p.name.clone(), p.version.clone(), p.format.clone()]);
                table(&["package", "version", "format"], packages);
                let files = r.file.iter().map(|f| {
                    let state = if f.changed { "CHANGED" } else { "as written" };
                    vec![f.path.clone(), f.component.clone(), state.to_owned()]
                });
                table(&["file", "component", "state"], files);
                let reports = r
                    .report
                    .iter()
                    .map(|i| vec![i.received_at.clone(), i.occasion.clone(), or_dash(&i.version), i.drift.to_string()]);
                table(&["received", "occasion", "version", "drift"], reports);
            });
        }
        InventoryCmd::Request { targets, wait } => {
            let request = wire::RequestInventory { site: targets.site, device: targets.devices, model: targets.model };
            let response = call!(client, RequestInventory(request));
            queued(client, json, &response, &response.queued, &wait)?;
        }
    }
    Ok(())
}

pub fn drift(client: &Client, command: DriftCmd, json: bool) -> Result<(), CliError> {
    match command {
        DriftCmd::List { site, model, device, history, limit } => {
            let request = wire::ListDrift { site, model, device, history: Some(history), limit: Some(limit) };
            let r = call!(client, ListDrift(request));
            show(json, &r, |r| {
                for d in &r.drift {
                    let state =
                        d.resolution.as_deref().map_or_else(|| "open".to_owned(), |how| format!("resolved: {how}"));
                    let by = d.changed_by.as_deref().map_or_else(String::new, |who| format!(", changed by {who}"));
                    let values = match (&d.expected, &d.actual) {
                        (Some(e), Some(a)) => format!(" (model {e}, device {a})"),
                        (Some(e), None) => format!(" (model {e}, device: none)"),
                        (None, Some(a)) => format!(" (device {a})"),
                        (None, None) => String::new(),
                    };
                    println!(
                        "#{} {} {}: {} {}{values}{by} [{state}]",
                        d.id,
                        d.device,
                        d.kind,
                        or_dash(&d.component),
                        d.subject
                    );
                    if let Some(diff) = &d.diff {
                        println!("{diff}");
                    }
                }
                if r.drift.is_empty() {
                    println!("no drift");
                }
            });
        }
        DriftCmd::Remediate { device, wait } => {
            let response = call!(client, Remediate(wire::Remediate { device }));
            queued(client, json, &response, std::slice::from_ref(&response.queued), &wait)?;
        }
        DriftCmd::Promote { drift, change } => {
            let request = wire::PromoteDrift { drift, reason: change.reason.clone(), rollout: rollout(&change) };
            let r = call!(client, PromoteDrift(request));
            show(json, &r, |r| changed(r.created, r.model_version, r.rollout, r.proposal.as_deref(), MADE, KEPT));
        }
    }
    Ok(())
}
