//! The Windows OS plug-in: installs and removes .msi packages with `msiexec`
//! (quiet, no restart) and reads what is installed from the registry's
//! Uninstall keys with `reg query`, where Windows Installer records each
//! product under its product code. It runs only the argv shapes its manifest
//! grants; on this Linux build machine its contract test runs it against a
//! recording executor (`host/tests/contract.rs`).

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-0.1.0",
    world: "os-plugin-world",
});

use exports::outfit::plugin::os_plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{CommandOutput, ConfigFile, InstalledPackage, LogLevel, PackageFile, PluginInfo, Target};

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

impl Guest for WindowsMsi {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "windows-msi".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["windows".into()],
            package_formats: vec!["msi".into()],
        }
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(products()?.into_iter().map(|p| InstalledPackage { name: p.name, version: p.version }).collect())
    }

    fn install(_target: Target, file: PackageFile) -> Result<String, String> {
        if products()?.iter().any(|p| p.name == file.name && p.version == file.version) {
            return Ok(format!("{} {} already installed", file.name, file.version));
        }
        let out = run(&["msiexec", "/i", &file.path, "/qn", "/norestart"])?;
        let note = msiexec_status(out.status).map_err(|e| format!("install {}: {e}", file.name))?;
        if !products()?.iter().any(|p| p.name == file.name && p.version == file.version) {
            return Err(format!(
                "msiexec reported success but {} {} is not registered (does the package's ProductName match?)",
                file.name, file.version
            ));
        }
        Ok(match note {
            Some(note) => format!("installed {} {} ({note})", file.name, file.version),
            None => format!("installed {} {}", file.name, file.version),
        })
    }

    fn remove(_target: Target, name: String) -> Result<String, String> {
        let Some(product) = products()?.into_iter().find(|p| p.name == name) else {
            return Ok(format!("{name} was not installed"));
        };
        let out = run(&["msiexec", "/x", &product.code, "/qn", "/norestart"])?;
        let note = msiexec_status(out.status).map_err(|e| format!("remove {name}: {e}"))?;
        Ok(match note {
            Some(note) => format!("removed {name} {} ({note})", product.code),
            None => format!("removed {name} {}", product.code),
        })
    }

    fn configure(_target: Target, file: ConfigFile) -> Result<String, String> {
        Err(format!("windows-msi manages packages only; {} is the files plug-in's to write", file.path))
    }
}

export!(WindowsMsi);
