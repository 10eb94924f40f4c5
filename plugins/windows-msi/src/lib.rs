//! The Windows OS plug-in (WIT v1): installs and removes .msi packages with
//! `msiexec` (quiet, no restart), reads what is installed from the registry's
//! Uninstall keys with `reg query` (where Windows Installer records each
//! product under its product code), and starts, stops, enables and disables
//! services with `sc`. Each change is planned against what the device holds
//! and verified after it is applied. It runs only the argv shapes its manifest
//! grants; on this Linux build machine its contract test runs it against a
//! recording executor (`host/tests/contract.rs`).

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-1.0.0",
    world: "os-plugin",
});

use exports::outfit::plugin::plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{
    Change, CommandOutput, Fact, InstalledPackage, LogLevel, PackageFile, PluginInfo, ServiceAction, ServiceChange,
    Target,
};

struct WindowsMsi;

/// Where Windows Installer registers products, for 64- and 32-bit software.
const UNINSTALL_KEYS: [&str; 2] = [
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
];

fn run(argv: &[&str]) -> Result<CommandOutput, String> {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    host::log(LogLevel::Debug, &format!("run {}", argv.join(" ")));
    host::run(&argv)
}

/// What msiexec's exit status means (Windows Installer error codes).
fn msiexec_status(status: i32) -> Result<Option<&'static str>, String> {
    match status {
        0 => Ok(None),
        3010 | 1641 => Ok(Some("a restart is needed to finish")),
        1618 => Err("another installation is in progress (1618)".into()),
        1619 => Err("the package could not be opened (1619)".into()),
        1625 => Err("a system policy forbids this installation (1625)".into()),
        1603 => Err("fatal error during installation (1603); see the Windows Installer log".into()),
        other => Err(format!("msiexec exited with status {other}")),
    }
}

/// A registered product: its product code (the registry key's last segment).
struct Product {
    code: String,
    name: String,
    version: String,
}

/// Parses `reg query KEY /s` output: a key line, then its values indented.
fn parse_products(output: &str) -> Vec<Product> {
    let mut products = Vec::new();
    let mut current: Option<Product> = None;
    for line in output.lines() {
        if line.starts_with("HKEY_") {
            products.extend(current.take().filter(|p| !p.name.is_empty() && p.code.starts_with('{')));
            let code = line.rsplit('\\').next().unwrap_or("").to_owned();
            current = Some(Product { code, name: String::new(), version: String::new() });
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(value), Some(_kind)) = (fields.next(), fields.next()) else { continue };
        let data = fields.collect::<Vec<_>>().join(" ");
        if let Some(product) = current.as_mut() {
            match value {
                "DisplayName" => product.name = data,
                "DisplayVersion" => product.version = data,
                _ => {}
            }
        }
    }
    products.extend(current.filter(|p| !p.name.is_empty() && p.code.starts_with('{')));
    products
}

fn products() -> Result<Vec<Product>, String> {
    let mut all = Vec::new();
    for key in UNINSTALL_KEYS {
        let out = run(&["reg", "query", key, "/s"])?;
        // Status 1: the key does not exist (no 32-bit software on this host).
        match out.status {
            0 => all.extend(parse_products(&out.stdout)),
            1 => {}
            status => return Err(format!("reg query {key} exited with status {status}: {}", out.stderr.trim())),
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

fn registered(name: &str, version: Option<&str>) -> Result<bool, String> {
    Ok(products()?.iter().any(|p| p.name == name && version.is_none_or(|v| p.version == v)))
}

fn install(file: &PackageFile) -> Result<String, String> {
    let out = run(&["msiexec", "/i", &file.path, "/qn", "/norestart"])?;
    Ok(match msiexec_status(out.status).map_err(|e| format!("install {}: {e}", file.name))? {
        Some(note) => format!("installed {} {} ({note})", file.name, file.version),
        None => format!("installed {} {}", file.name, file.version),
    })
}

fn remove(name: &str) -> Result<String, String> {
    let Some(product) = products()?.into_iter().find(|p| p.name == name) else {
        return Ok(format!("{name} was not installed"));
    };
    let out = run(&["msiexec", "/x", &product.code, "/qn", "/norestart"])?;
    Ok(match msiexec_status(out.status).map_err(|e| format!("remove {name}: {e}"))? {
        Some(note) => format!("removed {name} {} ({note})", product.code),
        None => format!("removed {name} {}", product.code),
    })
}

/// A service's key name: never an option.
fn valid_service(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && !name.starts_with(['-', '/'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The word after `FIELD : N` in `sc query` / `sc qc` output (`RUNNING`, `AUTO_START`, …).
fn sc_field(verb: &str, name: &str, field: &str) -> Result<String, String> {
    let out = run(&["sc", verb, name])?;
    if out.status != 0 {
        return Err(format!("sc {verb} {name} exited with status {}: {}", out.status, out.stdout.trim()));
    }
    out.stdout
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == field).then(|| value.split_whitespace().nth(1).unwrap_or("").to_owned())
        })
        .ok_or_else(|| format!("sc {verb} {name} did not say its {field}"))
}

/// Whether the service is as the action leaves it (a pending state counts:
/// `sc start` and `sc stop` return before the service has finished).
fn service_holds(change: &ServiceChange) -> Result<bool, String> {
    let name = &change.name;
    Ok(match change.action {
        ServiceAction::Start | ServiceAction::Restart => {
            matches!(sc_field("query", name, "STATE")?.as_str(), "RUNNING" | "START_PENDING")
        }
        ServiceAction::Stop => matches!(sc_field("query", name, "STATE")?.as_str(), "STOPPED" | "STOP_PENDING"),
        ServiceAction::Enable => sc_field("qc", name, "START_TYPE")? == "AUTO_START",
        ServiceAction::Disable => sc_field("qc", name, "START_TYPE")? == "DISABLED",
    })
}

fn service(change: &ServiceChange) -> Result<String, String> {
    let name = change.name.as_str();
    let commands: Vec<Vec<&str>> = match change.action {
        ServiceAction::Start => vec![vec!["sc", "start", name]],
        ServiceAction::Stop => vec![vec!["sc", "stop", name]],
        ServiceAction::Restart => vec![vec!["sc", "stop", name], vec!["sc", "start", name]],
        ServiceAction::Enable => vec![vec!["sc", "config", name, "start=", "auto"]],
        ServiceAction::Disable => vec![vec!["sc", "config", name, "start=", "disabled"]],
    };
    for argv in &commands {
        let out = run(argv)?;
        // 1062: not started (a restart of a stopped service); 1056: already running.
        let harmless = matches!(out.status, 1062 | 1056);
        if out.status != 0 && !harmless {
            return Err(format!("{} exited with status {}: {}", argv.join(" "), out.status, out.stdout.trim()));
        }
    }
    let words: Vec<String> = commands.iter().map(|argv| argv[1..].join(" ")).collect();
    Ok(format!("service {name}: sc {}", words.join(", sc ")))
}

fn check(change: &Change) -> Result<(), String> {
    match change {
        Change::Service(s) if !valid_service(&s.name) => Err(format!("`{}` is not a Windows service name", s.name)),
        Change::Install(_) | Change::Remove(_) | Change::Service(_) => Ok(()),
        Change::Configure(file) => Err(format!(
            "windows-msi manages packages and services only; {} is the files plug-in's to write",
            file.path
        )),
        Change::Network(_) => Err("windows-msi does not configure networks; the network plug-in does".into()),
    }
}

impl Guest for WindowsMsi {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "windows-msi".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["windows".into()],
            package_formats: vec!["msi".into()],
            changes: vec!["install".into(), "remove".into(), "service".into()],
        }
    }

    fn plan(_target: Target, change: Change) -> Result<Vec<String>, String> {
        check(&change)?;
        Ok(match &change {
            Change::Install(f) if registered(&f.name, Some(&f.version))? => Vec::new(),
            Change::Install(f) => vec![format!("msiexec /i {}", f.path)],
            Change::Remove(name) if !registered(name, None)? => Vec::new(),
            Change::Remove(name) => vec![format!("msiexec /x (product code of {name})")],
            Change::Service(s) if !matches!(s.action, ServiceAction::Restart) && service_holds(s)? => Vec::new(),
            Change::Service(s) => vec![format!("sc: {:?} {}", s.action, s.name)],
            Change::Configure(_) | Change::Network(_) => unreachable!("refused by check"),
        })
    }

    fn apply(_target: Target, change: Change) -> Result<String, String> {
        check(&change)?;
        match &change {
            Change::Install(file) => install(file),
            Change::Remove(name) => remove(name),
            Change::Service(s) => service(s),
            Change::Configure(_) | Change::Network(_) => unreachable!("refused by check"),
        }
    }

    fn verify(_target: Target, change: Change) -> Result<(), String> {
        let (ok, what) = match &change {
            Change::Install(f) => (
                registered(&f.name, Some(&f.version))?,
                format!("{} {} is not registered (does the package's ProductName match?)", f.name, f.version),
            ),
            Change::Remove(name) => (!registered(name, None)?, format!("{name} is still registered")),
            Change::Service(s) => (service_holds(s)?, format!("service {} is not {:?}-ed", s.name, s.action)),
            Change::Configure(_) | Change::Network(_) => return check(&change),
        };
        if ok { Ok(()) } else { Err(what) }
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(products()?.into_iter().map(|p| InstalledPackage { name: p.name, version: p.version }).collect())
    }

    fn inventory(_target: Target) -> Result<Vec<Fact>, String> {
        Ok(vec![Fact { name: "packages.msi".into(), value: products()?.len().to_string() }])
    }
}

export!(WindowsMsi);
