//! The capability policy of one plug-in invocation: what its signed manifest
//! grants, with `{root}` and `{spool}` bound to this device. Deny by default:
//! a command or path that no grant matches is refused before anything happens.

use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// A plug-in manifest (`plugins/<name>/manifest.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub world: String,
    #[serde(default)]
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Argv patterns: one glob per argument; the count must match.
    #[serde(default)]
    pub commands: Vec<Vec<String>>,
    /// Device paths (and everything below them) the plug-in may read.
    #[serde(default)]
    pub read: Vec<String>,
    /// Device paths (and everything below them) the plug-in may write.
    #[serde(default)]
    pub write: Vec<String>,
    /// May change the owner of files under its write grants (`set-owner`,
    /// world 1.1 only).
    #[serde(default)]
    pub owners: bool,
    /// Package names (globs) the plug-in may `fetch` (world 1.2 only); the
    /// gateway further limits them to the device's model.
    #[serde(default)]
    pub fetch: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("command `{0}` is not allowed by the plug-in's manifest")]
    Command(String),
    #[error("program `{0}` is not installed in {dirs:?}", dirs = super::os::SYSTEM_PATH)]
    NoProgram(String),
    #[error("path `{0}` must be absolute and free of `..`")]
    BadPath(String),
    #[error("{access} of `{path}` is not granted by the plug-in's manifest")]
    Path { access: &'static str, path: String },
    #[error("path `{0}` leads outside the device root")]
    Escapes(String),
    #[error("changing the owner of `{0}` is not granted by the plug-in's manifest (`owners = true`)")]
    Owners(String),
    #[error("fetching package `{0}` is not granted by the plug-in's manifest (`fetch`)")]
    Fetch(String),
}

#[derive(Debug, Clone)]
pub struct Policy {
    root: PathBuf,
    commands: Vec<Vec<glob::Pattern>>,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    owners: bool,
    fetch: Vec<glob::Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Policy {
    /// Binds a manifest's grants to a device root and spool directory.
    pub fn new(capabilities: &Capabilities, root: &Path, spool: &Path) -> Result<Self, glob::PatternError> {
        let bind = |arg: &str| {
            arg.replace("{root}", &glob::Pattern::escape(&root.display().to_string()))
                .replace("{spool}", &glob::Pattern::escape(&spool.display().to_string()))
        };
        let commands = capabilities
            .commands
            .iter()
            .map(|argv| argv.iter().map(|a| glob::Pattern::new(&bind(a))).collect())
            .collect::<Result<_, _>>()?;
        let paths = |list: &[String]| list.iter().map(PathBuf::from).collect();
        let fetch = capabilities.fetch.iter().map(|p| glob::Pattern::new(p)).collect::<Result<_, _>>()?;
        Ok(Self {
            root: root.to_owned(),
            commands,
            read: paths(&capabilities.read),
            write: paths(&capabilities.write),
            owners: capabilities.owners,
            fetch,
        })
    }

    /// Whether the manifest lets the plug-in change file owners.
    pub fn may_change_owners(&self) -> bool {
        self.owners
    }

    /// Checks a package name against the `fetch` grants.
    pub fn check_fetch(&self, name: &str) -> Result<(), Denied> {
        if self.fetch.iter().any(|p| p.matches(name)) { Ok(()) } else { Err(Denied::Fetch(name.to_owned())) }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks an argv against the grants.
    pub fn check_command(&self, argv: &[String]) -> Result<(), Denied> {
        let options = glob::MatchOptions { require_literal_separator: true, ..Default::default() };
        let allowed = self.commands.iter().any(|pattern| {
            pattern.len() == argv.len() && pattern.iter().zip(argv).all(|(p, a)| p.matches_with(a, options))
        });
        if allowed { Ok(()) } else { Err(Denied::Command(argv.join(" "))) }
    }

    /// Maps a granted device path to the host path under the root.
    pub fn resolve(&self, device_path: &str, access: Access) -> Result<PathBuf, Denied> {
        let path = Path::new(device_path);
        let clean =
            path.is_absolute() && path.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if !clean {
            return Err(Denied::BadPath(device_path.to_owned()));
        }
        let grants = match access {
            Access::Read => self.read.iter().chain(self.write.iter()).collect::<Vec<_>>(),
            Access::Write => self.write.iter().collect(),
        };
        if !grants.iter().any(|g| path.starts_with(g)) {
            let access = if access == Access::Read { "read" } else { "write" };
            return Err(Denied::Path { access, path: device_path.to_owned() });
        }
        let host = self.root.join(path.strip_prefix("/").expect("absolute"));
        self.ensure_inside(&host, device_path)?;
        Ok(host)
    }

    /// A symlink inside the root (e.g. planted by a package) must not lead out of it.
    fn ensure_inside(&self, host: &Path, device_path: &str) -> Result<(), Denied> {
        let root = self.root.canonicalize().map_err(|_| Denied::Escapes(device_path.to_owned()))?;
        let mut existing = host;
        while !existing.exists() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => break,
            }
        }
        let real = existing.canonicalize().map_err(|_| Denied::Escapes(device_path.to_owned()))?;
        if real.starts_with(&root) { Ok(()) } else { Err(Denied::Escapes(device_path.to_owned())) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(root: &Path) -> Policy {
        let caps = Capabilities {
            commands: vec![vec!["dpkg".into(), "--root={root}".into(), "--install".into(), "{spool}/*.deb".into()]],
            read: vec!["/var/lib/dpkg".into()],
            write: vec!["/etc".into()],
            owners: false,
            fetch: vec!["outfit-demo-*".into()],
        };
        Policy::new(&caps, root, &root.join("spool")).unwrap()
    }

    #[test]
    fn commands_must_match_a_pattern_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = policy(dir.path());
        let root = dir.path().display();
        let ok = |argv: &[&str]| p.check_command(&argv.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(ok(&["dpkg", &format!("--root={root}"), "--install", &format!("{root}/spool/a.deb")]).is_ok());
        // Another root, a path outside the spool, an extra argument, another program: all refused.
        assert!(ok(&["dpkg", "--root=/", "--install", &format!("{root}/spool/a.deb")]).is_err());
        assert!(ok(&["dpkg", &format!("--root={root}"), "--install", "/tmp/x.deb"]).is_err());
        assert!(ok(&["dpkg", &format!("--root={root}"), "--install", &format!("{root}/spool/sub/a.deb")]).is_err());
        assert!(ok(&["dpkg", &format!("--root={root}"), "--install", &format!("{root}/spool/a.deb"), "x"]).is_err());
        assert!(ok(&["sh", "-c", "id", "x"]).is_err());
    }

    #[test]
    fn only_granted_package_names_may_be_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let p = policy(dir.path());
        assert_eq!(p.check_fetch("outfit-demo-app"), Ok(()));
        assert_eq!(p.check_fetch("openssh-server"), Err(Denied::Fetch("openssh-server".into())));
        let nothing = Policy::new(&Capabilities::default(), dir.path(), dir.path()).unwrap();
        assert!(nothing.check_fetch("outfit-demo-app").is_err(), "no grant, no fetch");
    }

    #[test]
    fn paths_must_be_granted_and_stay_in_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let p = policy(dir.path());
        assert_eq!(p.resolve("/etc/app.conf", Access::Write).unwrap(), dir.path().join("etc/app.conf"));
        assert!(p.resolve("/var/lib/dpkg/status", Access::Read).is_ok());
        assert!(matches!(p.resolve("/var/lib/dpkg/status", Access::Write), Err(Denied::Path { .. })));
        assert!(matches!(p.resolve("/etc/../shadow", Access::Write), Err(Denied::BadPath(_))));
        assert!(matches!(p.resolve("etc/x", Access::Write), Err(Denied::BadPath(_))));
        assert!(matches!(p.resolve("/root/.ssh/id", Access::Read), Err(Denied::Path { .. })));
        // A symlink planted inside the root that points out of it.
        std::os::unix::fs::symlink("/", dir.path().join("etc")).unwrap();
        assert!(matches!(p.resolve("/etc/shadow", Access::Write), Err(Denied::Escapes(_))));
    }
}
