//! The Debian OS plug-in: manages .deb packages with the real `dpkg` (through
//! the host's run capability, always with `--root` so it acts on the device
//! root the agent manages) and renders configuration files with minijinja.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-0.1.0",
    world: "os-plugin-world",
});

use exports::outfit::plugin::os_plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{CommandOutput, ConfigFile, InstalledPackage, LogLevel, PackageFile, PluginInfo, Target};

struct Debian;

/// The version this build calls itself; a test builds a second version of
/// this same plug-in (`OUTFIT_PLUGIN_VERSION`) to deliver as an upgrade.
const VERSION: &str = match option_env!("OUTFIT_PLUGIN_VERSION") {
    Some(version) => version,
    None => env!("CARGO_PKG_VERSION"),
};

const ADMIN_DIR: &str = "/var/lib/dpkg";
/// How many half-second waits for another dpkg to release its lock.
const LOCK_WAITS: u32 = 120;

/// dpkg --root needs its database skeleton inside the root.
fn ensure_admin_dir() -> Result<(), String> {
    host::create_dir(&format!("{ADMIN_DIR}/updates"))?;
    host::create_dir(&format!("{ADMIN_DIR}/info"))?;
    let status = format!("{ADMIN_DIR}/status");
    if host::read_file(&status).is_err() {
        host::write_file(&status, &[])?;
    }
    Ok(())
}

fn run(argv: &[String]) -> Result<CommandOutput, String> {
    host::log(LogLevel::Debug, &format!("run {}", argv.join(" ")));
    host::run(argv)
}

fn failure(what: &str, out: &CommandOutput) -> String {
    let detail = if out.stderr.trim().is_empty() { out.stdout.trim() } else { out.stderr.trim() };
    format!("{what} exited with status {}: {detail}", out.status)
}

fn query_installed(target: &Target) -> Result<Vec<InstalledPackage>, String> {
    ensure_admin_dir()?;
    let out = run(&[
        "dpkg-query".into(),
        format!("--admindir={}{ADMIN_DIR}", target.root),
        "--show".into(),
        "--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n".into(),
    ])?;
    if out.status != 0 {
        return Err(failure("dpkg-query", &out));
    }
    Ok(out
        .stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (name, version, status) = (fields.next()?, fields.next()?, fields.next()?);
            // Only fully installed packages ("ii") count.
            (status.trim() == "ii").then(|| InstalledPackage { name: name.into(), version: version.into() })
        })
        .collect())
}

impl Guest for Debian {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "debian".into(),
            version: VERSION.into(),
            os_families: vec!["debian".into()],
            package_formats: vec!["deb".into()],
        }
    }

    fn query(target: Target) -> Result<Vec<InstalledPackage>, String> {
        query_installed(&target)
    }

    fn install(target: Target, file: PackageFile) -> Result<String, String> {
        if file.format != "deb" {
            return Err(format!("the debian plug-in installs deb packages, not {}", file.format));
        }
        ensure_admin_dir()?;
        let installed = |target: &Target| -> Result<bool, String> {
            Ok(query_installed(target)?.iter().any(|p| p.name == file.name && p.version == file.version))
        };
        // Waits out a dpkg that still holds the lock (e.g. one left running by an
        // agent that was killed) — and re-checks, since that dpkg may have just
        // installed this very package.
        let mut waits = 0;
        loop {
            // Installing is "make it installed": already there means done, and
            // maintainer scripts are not run a second time.
            if installed(&target)? {
                return Ok(format!("{} {} already installed", file.name, file.version));
            }
            let out = run(&["dpkg".into(), format!("--root={}", target.root), "--install".into(), file.path.clone()])?;
            if out.status == 0 {
                break;
            }
            let locked = out.stderr.contains("lock") && out.stderr.contains("another process");
            if locked && waits < LOCK_WAITS {
                waits += 1;
                std::thread::sleep(std::time::Duration::from_millis(500));
                continue;
            }
            return Err(failure("dpkg --install", &out));
        }
        // Trust the package database, not the exit code alone.
        if !installed(&target)? {
            return Err(format!(
                "dpkg reported success but {} {} is not installed (is the package's name or version different from the model's?)",
                file.name, file.version
            ));
        }
        Ok(format!("installed {} {}", file.name, file.version))
    }

    fn remove(target: Target, name: String) -> Result<String, String> {
        // Removal is idempotent: the goal is "not installed, nothing left".
        // Purging also takes the configuration files of a package removed
        // before (dpkg ignores a name it does not know, exit status 0).
        let was_installed = query_installed(&target)?.iter().any(|p| p.name == name);
        let out = run(&["dpkg".into(), format!("--root={}", target.root), "--purge".into(), name.clone()])?;
        if out.status != 0 {
            return Err(failure("dpkg --purge", &out));
        }
        if query_installed(&target)?.iter().any(|p| p.name == name) {
            return Err(format!("dpkg reported success but {name} is still installed"));
        }
        Ok(if was_installed { format!("purged {name}") } else { format!("{name} was not installed") })
    }

    fn configure(_target: Target, file: ConfigFile) -> Result<String, String> {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let context: minijinja::Value = file.parameters.iter().map(|p| (p.name.clone(), p.value.clone())).collect();
        let rendered =
            env.render_str(&file.template, context).map_err(|e| format!("render template for {}: {e}", file.path))?;
        host::write_file(&file.path, rendered.as_bytes())?;
        Ok(format!("wrote {} ({} bytes)", file.path, rendered.len()))
    }
}

export!(Debian);
