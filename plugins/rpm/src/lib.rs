//! The RPM OS plug-in: manages .rpm packages with the real `rpm` through the
//! host's run capability, always with `--root` so it acts on the device root
//! the agent manages. Packages only; configuration files are not its job.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-0.1.0",
    world: "os-plugin-world",
});

use exports::outfit::plugin::os_plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{CommandOutput, ConfigFile, InstalledPackage, LogLevel, PackageFile, PluginInfo, Target};

struct Rpm;

fn rpm(target: &Target, args: &[&str]) -> Result<CommandOutput, String> {
    let mut argv = vec!["rpm".to_owned(), format!("--root={}", target.root)];
    argv.extend(args.iter().map(|a| a.to_string()));
    host::log(LogLevel::Debug, &format!("run {}", argv.join(" ")));
    host::run(&argv)
}

fn failure(what: &str, out: &CommandOutput) -> String {
    // rpm on Debian prints a warning about Alien on every call; keep the rest.
    let stderr: Vec<&str> =
        out.stderr.lines().filter(|l| !l.contains("Alien") && !l.contains("what you are doing")).collect();
    let detail = if stderr.is_empty() { out.stdout.trim().to_owned() } else { stderr.join("; ") };
    format!("{what} exited with status {}: {detail}", out.status)
}

/// The package database inside the root; `--initdb` is a no-op when it exists.
fn ensure_database(target: &Target) -> Result<(), String> {
    let out = rpm(target, &["--initdb"])?;
    if out.status != 0 {
        return Err(failure("rpm --initdb", &out));
    }
    Ok(())
}

fn query_installed(target: &Target) -> Result<Vec<InstalledPackage>, String> {
    let query = || rpm(target, &["--query", "--all", "--queryformat=%{NAME}\t%{VERSION}-%{RELEASE}\n"]);
    // Every inventory queries, so no `--initdb` first: rpm 4.16 and later
    // open (and create) the database themselves. Older ones fail without one.
    let mut out = query()?;
    if out.status != 0 {
        ensure_database(target)?;
        out = query()?;
    }
    if out.status != 0 {
        return Err(failure("rpm --query", &out));
    }
    let mut packages: Vec<InstalledPackage> = out
        .stdout
        .lines()
        .filter_map(|line| {
            let (name, version) = line.split_once('\t')?;
            Some(InstalledPackage { name: name.into(), version: version.into() })
        })
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(packages)
}

impl Guest for Rpm {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "rpm".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["rhel".into(), "fedora".into(), "suse".into()],
            package_formats: vec!["rpm".into()],
        }
    }

    fn query(target: Target) -> Result<Vec<InstalledPackage>, String> {
        query_installed(&target)
    }

    fn install(target: Target, file: PackageFile) -> Result<String, String> {
        if file.format != "rpm" {
            return Err(format!("the rpm plug-in installs rpm packages, not {}", file.format));
        }
        let installed = |target: &Target| -> Result<bool, String> {
            Ok(query_installed(target)?.iter().any(|p| p.name == file.name && p.version == file.version))
        };
        // "Make it installed": already there means done, and no scriptlet runs twice.
        if installed(&target)? {
            return Ok(format!("{} {} already installed", file.name, file.version));
        }
        let out = rpm(&target, &["--upgrade", &file.path])?;
        if out.status != 0 {
            return Err(failure("rpm --upgrade", &out));
        }
        // Trust the package database, not the exit code alone.
        if !installed(&target)? {
            return Err(format!(
                "rpm reported success but {} {} is not installed (is the package's name or VERSION-RELEASE different from the model's?)",
                file.name, file.version
            ));
        }
        Ok(format!("installed {} {}", file.name, file.version))
    }

    fn remove(target: Target, name: String) -> Result<String, String> {
        // Removal is idempotent: the goal is "not installed".
        if !query_installed(&target)?.iter().any(|p| p.name == name) {
            return Ok(format!("{name} was not installed"));
        }
        let out = rpm(&target, &["--erase", &name])?;
        if out.status != 0 {
            return Err(failure("rpm --erase", &out));
        }
        if query_installed(&target)?.iter().any(|p| p.name == name) {
            return Err(format!("rpm reported success but {name} is still installed"));
        }
        Ok(format!("removed {name}"))
    }

    fn configure(_target: Target, file: ConfigFile) -> Result<String, String> {
        Err(format!("the rpm plug-in manages packages only; it does not write {}", file.path))
    }
}

export!(Rpm);
