//! The Solaris / illumos OS plug-in: installs and removes SVR4 packages with
//! `pkgadd` / `pkgrm` and reads them with `pkginfo`, always with `-R root` so
//! it acts on the device root the agent manages, and always non-interactive
//! through an admin file it keeps under the root. On this Linux build machine
//! its contract test runs it against a recording executor
//! (`host/tests/contract.rs`).

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-0.1.0",
    world: "os-plugin-world",
});

use exports::outfit::plugin::os_plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{CommandOutput, ConfigFile, InstalledPackage, LogLevel, PackageFile, PluginInfo, Target};

struct SolarisPkg;

/// The admin file (a device path): answers every question pkgadd/pkgrm would ask.
const ADMIN: &str = "/var/sadm/install/admin/outfit";
const ADMIN_TEXT: &str = "mail=\ninstance=overwrite\npartial=nocheck\nrunlevel=nocheck\nidepend=nocheck\n\
rdepend=nocheck\nspace=nocheck\nsetuid=nocheck\nconflict=nocheck\naction=nocheck\nbasedir=default\n";

fn run(argv: &[&str]) -> Result<CommandOutput, String> {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    host::log(LogLevel::Debug, &format!("run {}", argv.join(" ")));
    host::run(&argv)
}

/// The admin file as the host sees it (`-a` takes a host path; spelt as the
/// manifest's `{root}/var/...` pattern spells it, `//var/...` on a real root).
fn admin(target: &Target) -> Result<String, String> {
    host::write_file(ADMIN, ADMIN_TEXT.as_bytes())?;
    Ok(format!("{}{ADMIN}", target.root))
}

/// pkgadd/pkgrm exit statuses (pkgadd(1M)).
fn status(what: &str, out: &CommandOutput) -> Result<Option<&'static str>, String> {
    match out.status {
        0 => Ok(None),
        2 => Ok(Some("with warnings")),
        10 | 20 => Ok(Some("a reboot is needed to finish")),
        code => {
            let why = match code {
                1 => "fatal error",
                3 => "interrupted",
                4 => "administration",
                5 => "interaction was required",
                _ => "unexpected status",
            };
            let detail = if out.stderr.trim().is_empty() { out.stdout.trim() } else { out.stderr.trim() };
            Err(format!("{what} exited with status {code} ({why}): {detail}"))
        }
    }
}

/// A package instance name: never an option, never a path.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-._".contains(&b))
}

/// Parses `pkginfo -l`: blocks of `KEY: value` lines, one block per package.
fn parse_pkginfo(output: &str) -> Vec<InstalledPackage> {
    let mut packages = Vec::new();
    let mut name: Option<String> = None;
    for line in output.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim() {
            "PKGINST" => name = Some(value.trim().to_owned()),
            "VERSION" => {
                if let Some(name) = name.take() {
                    packages.push(InstalledPackage { name, version: value.trim().to_owned() });
                }
            }
            _ => {}
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    packages
}

fn installed(target: &Target) -> Result<Vec<InstalledPackage>, String> {
    let out = run(&["pkginfo", "-R", &target.root, "-l"])?;
    // pkginfo says 1 when there are no packages at all under the root.
    if out.status != 0 && !(out.status == 1 && out.stdout.trim().is_empty()) {
        return Err(format!("pkginfo exited with status {}: {}", out.status, out.stderr.trim()));
    }
    Ok(parse_pkginfo(&out.stdout))
}

impl Guest for SolarisPkg {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "solaris-pkg".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["solaris".into(), "illumos".into()],
            package_formats: vec!["pkg".into()],
        }
    }

    fn query(target: Target) -> Result<Vec<InstalledPackage>, String> {
        installed(&target)
    }

    fn install(target: Target, file: PackageFile) -> Result<String, String> {
        if !valid_name(&file.name) {
            return Err(format!("`{}` is not an SVR4 package name", file.name));
        }
        if installed(&target)?.iter().any(|p| p.name == file.name && p.version == file.version) {
            return Ok(format!("{} {} already installed", file.name, file.version));
        }
        let admin = admin(&target)?;
        let out = run(&["pkgadd", "-n", "-a", &admin, "-R", &target.root, "-d", &file.path, "all"])?;
        let note = status("pkgadd", &out)?;
        if !installed(&target)?.iter().any(|p| p.name == file.name && p.version == file.version) {
            return Err(format!("pkgadd succeeded but {} {} is not installed", file.name, file.version));
        }
        Ok(match note {
            Some(note) => format!("installed {} {} ({note})", file.name, file.version),
            None => format!("installed {} {}", file.name, file.version),
        })
    }

    fn remove(target: Target, name: String) -> Result<String, String> {
        if !valid_name(&name) {
            return Err(format!("`{name}` is not an SVR4 package name"));
        }
        if !installed(&target)?.iter().any(|p| p.name == name) {
            return Ok(format!("{name} was not installed"));
        }
        let admin = admin(&target)?;
        let out = run(&["pkgrm", "-n", "-a", &admin, "-R", &target.root, &name])?;
        let note = status("pkgrm", &out)?;
        Ok(match note {
            Some(note) => format!("removed {name} ({note})"),
            None => format!("removed {name}"),
        })
    }

    fn configure(_target: Target, file: ConfigFile) -> Result<String, String> {
        Err(format!("solaris-pkg manages packages only; {} is the files plug-in's to write", file.path))
    }
}

export!(SolarisPkg);
