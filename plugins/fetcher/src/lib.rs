//! Test fixture for WIT 1.2's `fetch`: packages of the device's model, asked
//! for in the middle of a change, arrive verified in the agent's spool.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-1.2.0",
    world: "os-plugin",
    // The 1.1 interfaces 1.2 includes come from its `deps/`.
    generate_all,
});

use exports::outfit::plugin1_1_0::plugin::Guest;
use outfit::plugin1_1_0::types::{Change, ConfigFile, Fact, InstalledPackage, PluginInfo, Target};
use outfit::plugin1_1_0::host;
use outfit::plugin1_2_0::repository;

struct Fetcher;

/// The configuration file whose template lists the packages to fetch.
fn wanted(change: &Change) -> Result<(&ConfigFile, Vec<(&str, &str)>), String> {
    let Change::Configure(file) = change else {
        return Err("the fetcher fixture serves configure changes only".into());
    };
    let packages = file
        .template
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_once(' ').ok_or_else(|| format!("`{l}` is not `NAME VERSION`")))
        .collect::<Result<_, _>>()?;
    Ok((file, packages))
}

impl Guest for Fetcher {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "fetcher".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["any".into()],
            package_formats: Vec::new(),
            changes: vec!["configure".into()],
        }
    }

    fn plan(_target: Target, change: Change) -> Result<Vec<String>, String> {
        let (_, packages) = wanted(&change)?;
        Ok(packages.iter().map(|(name, version)| format!("fetch {name} {version}")).collect())
    }

    fn apply(_target: Target, change: Change) -> Result<String, String> {
        let (file, packages) = wanted(&change)?;
        let mut report = String::new();
        for (name, version) in packages {
            let fetched = repository::fetch(name, version)?;
            let hashed = host::run(&["sha256sum".to_owned(), fetched.path.clone()])?;
            let sha256 = hashed.stdout.split_whitespace().next().unwrap_or_default().to_owned();
            report.push_str(&format!("{} {} {} {sha256}\n", fetched.name, fetched.version, fetched.format));
        }
        host::write_file(&file.path, report.as_bytes())?;
        Ok(format!("fetched {} package(s) into {}", report.lines().count(), file.path))
    }

    fn verify(_target: Target, change: Change) -> Result<(), String> {
        let (file, packages) = wanted(&change)?;
        let report = String::from_utf8(host::read_file(&file.path)?).map_err(|e| e.to_string())?;
        if report.lines().count() == packages.len() { Ok(()) } else { Err(format!("{} is incomplete", file.path)) }
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(Vec::new())
    }

    fn inventory(_target: Target) -> Result<Vec<Fact>, String> {
        Ok(Vec::new())
    }
}

export!(Fetcher);
