//! The files plug-in (WIT 1.1): a component's configuration file, rendered
//! from its template and parameters with minijinja, with the permission bits,
//! owner and group the model asks for. Generic to every OS with files (seed,
//! figure 11: a library component, not an OS module), so it serves every
//! device family.
//!
//! Owner and group names are the *device's*: they are looked up in the
//! root's own `/etc/passwd` and `/etc/group`, never the agent's, so a device
//! root prepared elsewhere gets the numbers its own users have.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-1.1.0",
    world: "os-plugin",
});

use exports::outfit::plugin::plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{Change, ConfigFile, Fact, FileStatus, InstalledPackage, PluginInfo, Target};

struct Files;

/// What a file must be after the change.
struct Wanted {
    path: String,
    contents: String,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
}

fn render(file: &ConfigFile) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let context: minijinja::Value = file.parameters.iter().map(|p| (p.name.clone(), p.value.clone())).collect();
    env.render_str(&file.template, context).map_err(|e| format!("render template for {}: {e}", file.path))
}

/// The number of `name` in a passwd/group-style database of the device
/// (`name:x:NUMBER:…`); a number is taken as it is.
fn lookup(database: &str, kind: &str, name: &str) -> Result<u32, String> {
    if let Ok(number) = name.parse::<u32>() {
        return Ok(number);
    }
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('-');
    if !valid {
        return Err(format!("`{name}` is not a {kind} name"));
    }
    let text = host::read_file(database).map_err(|e| format!("look up {kind} `{name}`: {e}"))?;
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            Some((fields.next()?, fields.nth(1)?))
        })
        .find(|(entry, _)| *entry == name)
        .ok_or_else(|| format!("{kind} `{name}` is not in the device's {database}"))?
        .1
        .parse()
        .map_err(|_| format!("{kind} `{name}` has no number in the device's {database}"))
}

fn wanted(change: &Change) -> Result<Wanted, String> {
    let Change::Configure(file) = change else {
        return Err("the files plug-in only writes configuration files".into());
    };
    if let Some(mode) = file.mode
        && mode > 0o777
    {
        return Err(format!("mode {mode:o} of {}: only permission bits (at most 777) may be set", file.path));
    }
    Ok(Wanted {
        path: file.path.clone(),
        contents: render(file)?,
        mode: file.mode,
        uid: file.owner.as_deref().map(|o| lookup("/etc/passwd", "user", o)).transpose()?,
        gid: file.group.as_deref().map(|g| lookup("/etc/group", "group", g)).transpose()?,
    })
}

/// What differs between the file as it is and as it must be.
struct Differences {
    contents: bool,
    mode: Option<u32>,
    owner: Option<(u32, u32)>,
    steps: Vec<String>,
}

fn differences(wanted: &Wanted) -> Result<Differences, String> {
    let status: Option<FileStatus> = host::stat(&wanted.path)?;
    let current = match &status {
        Some(_) => Some(host::read_file(&wanted.path)?),
        None => None,
    };
    let mut d = Differences { contents: false, mode: None, owner: None, steps: Vec::new() };
    match &current {
        None => {
            d.contents = true;
            d.steps.push(format!("create {} ({} bytes)", wanted.path, wanted.contents.len()));
        }
        Some(bytes) if bytes.as_slice() != wanted.contents.as_bytes() => {
            d.contents = true;
            d.steps.push(format!("rewrite {} ({} bytes)", wanted.path, wanted.contents.len()));
        }
        Some(_) => {}
    }
    // A new file is written 0644 and owned by the agent's user.
    let (mode, uid, gid) = status.map(|s| (s.mode & 0o777, s.uid, s.gid)).unwrap_or((0o644, u32::MAX, u32::MAX));
    if let Some(m) = wanted.mode
        && (m != mode || status.is_none())
    {
        d.mode = Some(m);
        d.steps.push(format!("mode {mode:03o} → {m:03o}"));
    }
    let (want_uid, want_gid) = (wanted.uid.unwrap_or(uid), wanted.gid.unwrap_or(gid));
    if (wanted.uid.is_some() || wanted.gid.is_some()) && (want_uid != uid || want_gid != gid || status.is_none()) {
        d.owner = Some((want_uid, want_gid));
        d.steps.push(format!("owner {want_uid}:{want_gid}"));
    }
    Ok(d)
}

impl Guest for Files {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "files".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["any".into()],
            package_formats: Vec::new(),
            changes: vec!["configure".into()],
        }
    }

    fn plan(_target: Target, change: Change) -> Result<Vec<String>, String> {
        Ok(differences(&wanted(&change)?)?.steps)
    }

    fn apply(_target: Target, change: Change) -> Result<String, String> {
        let wanted = wanted(&change)?;
        let d = differences(&wanted)?;
        if d.contents {
            host::write_file(&wanted.path, wanted.contents.as_bytes())?;
        }
        // Owner before mode: changing the owner may clear set-id bits, and
        // the mode is the last word.
        if let Some((uid, gid)) = d.owner {
            let status = host::stat(&wanted.path)?.ok_or_else(|| format!("{} vanished", wanted.path))?;
            // A new file's owner is only known once written.
            let uid = if wanted.uid.is_some() { uid } else { status.uid };
            let gid = if wanted.gid.is_some() { gid } else { status.gid };
            host::set_owner(&wanted.path, uid, gid)?;
        }
        if let Some(mode) = d.mode {
            host::set_mode(&wanted.path, mode)?;
        }
        Ok(format!("wrote {}: {}", wanted.path, d.steps.join(", ")))
    }

    fn verify(_target: Target, change: Change) -> Result<(), String> {
        let wanted = wanted(&change)?;
        let status = host::stat(&wanted.path)?.ok_or_else(|| format!("{} does not exist", wanted.path))?;
        if host::read_file(&wanted.path)? != wanted.contents.as_bytes() {
            return Err(format!("{} does not hold the rendered template", wanted.path));
        }
        if let Some(mode) = wanted.mode
            && status.mode & 0o777 != mode
        {
            return Err(format!("{} has mode {:03o}, not {mode:03o}", wanted.path, status.mode & 0o777));
        }
        if wanted.uid.is_some_and(|u| u != status.uid) || wanted.gid.is_some_and(|g| g != status.gid) {
            return Err(format!("{} is owned by {}:{}", wanted.path, status.uid, status.gid));
        }
        Ok(())
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(Vec::new())
    }

    fn inventory(_target: Target) -> Result<Vec<Fact>, String> {
        Ok(Vec::new())
    }
}

export!(Files);
