//! Drift: where a device's inventory differs from the model version it is
//! supposed to hold — packages missing, extra (within the managed scope: any
//! package some version of its model had) or of another version, and
//! configuration files changed since the agent wrote them.

use crate::diff::text_diff;
use crate::inventory::Inventory;
use crate::model::DesiredComponent;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DriftKind {
    /// A package of the model is not installed.
    Missing,
    /// A package the model once had, and no longer has, is installed.
    Extra,
    /// Installed in another version than the model's.
    Version,
    /// A managed configuration file is not what the agent wrote.
    File,
}

impl DriftKind {
    pub const ALL: [Self; 4] = [Self::Missing, Self::Extra, Self::Version, Self::File];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Extra => "extra",
            Self::Version => "version",
            Self::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One difference between a device and its model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub kind: DriftKind,
    /// The component it concerns (`None`: an extra package no component has now).
    pub category: Option<String>,
    pub component: Option<String>,
    /// The package name, or the file's path.
    pub subject: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// For a file: the unified diff from what was written to what is there.
    pub diff: Option<String>,
}

impl Drift {
    /// What identifies it across inventories: the same drift seen again is
    /// the same row, not a new one.
    pub fn key(&self) -> (DriftKind, &str) {
        (self.kind, &self.subject)
    }
}

/// A file's text as a template that renders to exactly that text (a file
/// edited by hand, adopted into the model): marked raw when it holds
/// template syntax.
pub fn as_template(text: &str) -> String {
    if ["{{", "{%", "{#"].iter().any(|open| text.contains(open)) {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_owned()
    }
}

/// Compares `inventory` with the components `desired` asks for; `managed`
/// names every package some version of the model had.
pub fn compare(desired: &[DesiredComponent], managed: &BTreeSet<String>, inventory: &Inventory) -> Vec<Drift> {
    let mut drift = Vec::new();
    let of = |d: &DesiredComponent, kind, subject: &str, expected: Option<String>, actual: Option<String>| Drift {
        kind,
        category: Some(d.category.clone()),
        component: Some(d.component.name.clone()),
        subject: subject.to_owned(),
        expected,
        actual,
        diff: None,
    };
    for d in desired {
        let p = &d.component.package;
        match inventory.packages.iter().find(|i| i.name == p.name && i.format == p.format) {
            None => drift.push(of(d, DriftKind::Missing, &p.name, Some(p.version.clone()), None)),
            Some(i) if i.version != p.version => {
                drift.push(of(d, DriftKind::Version, &p.name, Some(p.version.clone()), Some(i.version.clone())))
            }
            Some(_) => {}
        }
    }
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.component.package.name.as_str()).collect();
    for i in &inventory.packages {
        if managed.contains(&i.name) && !wanted.contains(i.name.as_str()) {
            drift.push(Drift {
                kind: DriftKind::Extra,
                category: None,
                component: None,
                subject: i.name.clone(),
                expected: None,
                actual: Some(i.version.clone()),
                diff: None,
            });
        }
    }
    for d in desired {
        let Some(config) = &d.component.config else { continue };
        match inventory.files.iter().find(|f| f.path == config.path) {
            // Never written: the component's configure has not run (yet).
            None => drift.push(of(d, DriftKind::File, &config.path, Some("written by Outfit".into()), None)),
            Some(f) if f.changed() => {
                let mut found = of(d, DriftKind::File, &f.path, Some(f.written_sha256.clone()), f.sha256.clone());
                if let (Some(written), Some(now)) = (&f.written, &f.now) {
                    found.diff = Some(text_diff(written, now, f.path.trim_start_matches('/')));
                }
                drift.push(found);
            }
            Some(_) => {}
        }
    }
    drift
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{ManagedFile, Occasion, Package};
    use crate::plan::tests::component;

    fn inventory(packages: &[(&str, &str)], files: Vec<ManagedFile>) -> Inventory {
        Inventory {
            taken_at: 1,
            occasion: Occasion::Demand,
            facts: vec![],
            disks: vec![],
            interfaces: vec![],
            packages: packages
                .iter()
                .map(|(n, v)| Package { name: n.to_string(), version: v.to_string(), format: "deb".into() })
                .collect(),
            files,
            plugins: vec![],
            changes: vec![],
        }
    }

    fn file(path: &str, written: &str, now: &str) -> ManagedFile {
        ManagedFile {
            path: path.into(),
            component: "web".into(),
            written_sha256: format!("sha-{written}"),
            sha256: Some(format!("sha-{now}")),
            written: Some(written.into()),
            now: Some(now.into()),
        }
    }

    #[test]
    fn a_device_that_matches_has_no_drift() {
        let desired = [component("APP", "web", "1", &[])];
        let files = vec![file("/etc/web.conf", "x=1\n", "x=1\n")];
        let managed = BTreeSet::from(["web".to_owned()]);
        assert!(compare(&desired, &managed, &inventory(&[("web", "1"), ("vim", "9")], files)).is_empty());
    }

    #[test]
    fn missing_extra_other_versions_and_edited_files_are_drift() {
        let desired = [component("OS", "base", "1", &[]), component("APP", "web", "2", &[])];
        let managed = BTreeSet::from(["base".to_owned(), "web".to_owned(), "old".to_owned()]);
        let files = vec![file("/etc/web.conf", "x=1\n", "x=2\n")];
        let found = compare(&desired, &managed, &inventory(&[("web", "1"), ("old", "3"), ("vim", "9")], files));
        let kinds: Vec<(&str, &str)> = found.iter().map(|d| (d.kind.as_str(), d.subject.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("missing", "base"),
                ("version", "web"),
                ("extra", "old"),
                ("file", "/etc/base.conf"),
                ("file", "/etc/web.conf")
            ]
        );
        let edited = found.last().unwrap();
        assert!(edited.diff.as_deref().unwrap().contains("-x=1\n+x=2"), "{edited:?}");
    }
}
