//! `ReportInventory` as the domain takes it: base64 file contents and
//! templates decoded (text that is not UTF-8 is left out: such a file's
//! drift has no text diff).

use outfit_domain::inventory::{Disk, Interface, Inventory, LocalChange, ManagedFile, Occasion, Package};
use outfit_wsdl::inventory::ReportInventory;

fn text(base64_text: Option<&str>) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_text?.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

pub fn inventory_of(m: ReportInventory) -> Inventory {
    Inventory {
        taken_at: m.taken_at_ms,
        occasion: Occasion::parse(m.occasion.trim()).unwrap_or(Occasion::Demand),
        facts: m.fact.into_iter().map(|f| (f.name, f.value)).collect(),
        disks: m
            .disk
            .into_iter()
            .map(|d| Disk { mount: d.mount, total_bytes: d.total_bytes, available_bytes: d.available_bytes })
            .collect(),
        interfaces: m.interface.into_iter().map(|i| Interface { name: i.name, addresses: i.address }).collect(),
        packages: m
            .package
            .into_iter()
            .map(|p| Package { name: p.name, version: p.version, format: p.format })
            .collect(),
        files: m
            .file
            .into_iter()
            .map(|f| ManagedFile {
                written: text(f.written.as_deref()),
                now: text(f.now.as_deref()),
                path: f.path,
                component: f.component,
                written_sha256: f.written_sha256,
                sha256: f.sha256.filter(|s| !s.is_empty()),
            })
            .collect(),
        plugins: m.plugin.into_iter().map(|p| (p.name, p.version)).collect(),
        changes: m
            .change
            .into_iter()
            .map(|c| LocalChange {
                template: text(Some(&c.template)).unwrap_or_default(),
                at_ms: c.at_ms,
                operator: c.operator,
                component: c.component,
                path: c.path,
                parameters: c.parameter.into_iter().map(|p| (p.name, p.value)).collect(),
                promote: c.promote,
                outcome: c.outcome,
            })
            .collect(),
    }
}
