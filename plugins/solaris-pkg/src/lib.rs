//! The Solaris / illumos OS plug-in (WIT v1): installs and removes SVR4
//! packages with `pkgadd` / `pkgrm` and reads them with `pkginfo`, always with
//! `-R root` so it acts on the device root the agent manages, and always
//! non-interactive through an admin file it keeps under the root; starts,
//! stops, enables and disables SMF services with `svcadm`, reading their
//! state with `svcs`. Each change is planned against what the device holds
//! and verified after it is applied. On this Linux build machine
//! its contract test runs it against a recording executor
//! (`host/tests/contract.rs`).

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

/// A service FMRI (`svc:/network/http:apache24`) or its short name: never an option.
fn valid_fmri(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b":/._-".contains(&b))
}

/// The service's SMF state (`online`, `disabled`, `maintenance`, …).
fn service_state(name: &str) -> Result<String, String> {
    let out = run(&["svcs", "-H", "-o", "state", name])?;
    if out.status != 0 {
        return Err(format!("svcs: no service `{name}`: {}", out.stderr.trim()));
    }
    Ok(out.stdout.trim().to_owned())
}

/// The state a service action leaves, and the svcadm argv that gets there
/// (`-s`: wait until it is reached; `-t`: until the next boot only).
fn service_plan(change: &ServiceChange) -> (&'static str, Vec<&'static str>) {
    match change.action {
        ServiceAction::Start => ("online", vec!["enable", "-st"]),
        ServiceAction::Enable => ("online", vec!["enable", "-s"]),
        ServiceAction::Stop => ("disabled", vec!["disable", "-st"]),
        ServiceAction::Disable => ("disabled", vec!["disable", "-s"]),
        ServiceAction::Restart => ("online", vec!["restart"]),
    }
}

fn has(target: &Target, name: &str, version: Option<&str>) -> Result<bool, String> {
    Ok(installed(target)?.iter().any(|p| p.name == name && version.is_none_or(|v| p.version == v)))
}

fn install(target: &Target, file: &PackageFile) -> Result<String, String> {
    let admin = admin(target)?;
    let out = run(&["pkgadd", "-n", "-a", &admin, "-R", &target.root, "-d", &file.path, "all"])?;
    Ok(match status("pkgadd", &out)? {
        Some(note) => format!("installed {} {} ({note})", file.name, file.version),
        None => format!("installed {} {}", file.name, file.version),
    })
}

fn remove(target: &Target, name: &str) -> Result<String, String> {
    let admin = admin(target)?;
    let out = run(&["pkgrm", "-n", "-a", &admin, "-R", &target.root, name])?;
    Ok(match status("pkgrm", &out)? {
        Some(note) => format!("removed {name} ({note})"),
        None => format!("removed {name}"),
    })
}

fn check(change: &Change) -> Result<(), String> {
    match change {
        Change::Install(file) if !valid_name(&file.name) => Err(format!("`{}` is not an SVR4 package name", file.name)),
        Change::Remove(name) if !valid_name(name) => Err(format!("`{name}` is not an SVR4 package name")),
        Change::Service(s) if !valid_fmri(&s.name) => Err(format!("`{}` is not an SMF service name", s.name)),
        Change::Install(_) | Change::Remove(_) | Change::Service(_) => Ok(()),
        Change::Configure(file) => Err(format!(
            "solaris-pkg manages packages and services only; {} is the files plug-in's to write",
            file.path
        )),
        Change::Network(_) => Err("solaris-pkg does not configure networks; the network plug-in does".into()),
    }
}

impl Guest for SolarisPkg {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "solaris-pkg".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["solaris".into(), "illumos".into()],
            package_formats: vec!["pkg".into()],
            changes: vec!["install".into(), "remove".into(), "service".into()],
        }
    }

    fn plan(target: Target, change: Change) -> Result<Vec<String>, String> {
        check(&change)?;
        Ok(match &change {
            Change::Install(f) if has(&target, &f.name, Some(&f.version))? => Vec::new(),
            Change::Install(f) => vec![format!("pkgadd {} {}", f.name, f.version)],
            Change::Remove(name) if !has(&target, name, None)? => Vec::new(),
            Change::Remove(name) => vec![format!("pkgrm {name}")],
            Change::Service(s) => {
                let (wanted, args) = service_plan(s);
                let restart = matches!(s.action, ServiceAction::Restart);
                if !restart && service_state(&s.name)? == wanted {
                    Vec::new()
                } else {
                    vec![format!("svcadm {} {}", args.join(" "), s.name)]
                }
            }
            Change::Configure(_) | Change::Network(_) => unreachable!("refused by check"),
        })
    }

    fn apply(target: Target, change: Change) -> Result<String, String> {
        check(&change)?;
        match &change {
            Change::Install(file) => install(&target, file),
            Change::Remove(name) => remove(&target, name),
            Change::Service(s) => {
                let (_, args) = service_plan(s);
                let mut argv = vec!["svcadm"];
                argv.extend(args.iter());
                argv.push(&s.name);
                let out = run(&argv)?;
                if out.status != 0 {
                    return Err(format!("{} exited with status {}: {}", argv.join(" "), out.status, out.stderr.trim()));
                }
                Ok(format!("service {} {}", s.name, argv[1..argv.len() - 1].join(" ")))
            }
            Change::Configure(_) | Change::Network(_) => unreachable!("refused by check"),
        }
    }

    fn verify(target: Target, change: Change) -> Result<(), String> {
        let (ok, what) = match &change {
            Change::Install(f) => {
                (has(&target, &f.name, Some(&f.version))?, format!("{} {} is not installed", f.name, f.version))
            }
            Change::Remove(name) => (!has(&target, name, None)?, format!("{name} is still installed")),
            Change::Service(s) => {
                let state = service_state(&s.name)?;
                (state == service_plan(s).0, format!("service {} is {state}", s.name))
            }
            Change::Configure(_) | Change::Network(_) => return check(&change),
        };
        if ok { Ok(()) } else { Err(what) }
    }

    fn query(target: Target) -> Result<Vec<InstalledPackage>, String> {
        installed(&target)
    }

    fn inventory(target: Target) -> Result<Vec<Fact>, String> {
        let packages = installed(&target)?;
        Ok(vec![Fact { name: "packages.svr4".into(), value: packages.len().to_string() }])
    }
}

export!(SolarisPkg);
