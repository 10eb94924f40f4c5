//! What changed between two model versions, as people read it: components
//! added, removed or upgraded, parameters and configuration files changed,
//! in category order (the order the plan follows).

use crate::model::{Component, ConfigFile, DesiredComponent};

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    Added,
    Removed,
    /// The package is another version (or other bytes).
    Upgraded,
    Parameter,
    /// The configuration file's template text.
    Template,
    /// The configuration file's path, mode, owner or group.
    File,
    /// The plug-in the component names.
    Plugin,
}

impl DifferenceKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Upgraded => "upgraded",
            Self::Parameter => "parameter",
            Self::Template => "template",
            Self::File => "file",
            Self::Plugin => "plugin",
        }
    }
}

/// One difference of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub category: String,
    pub component: String,
    pub kind: DifferenceKind,
    /// The parameter's name (for a parameter), else empty.
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// For a template: the unified text diff.
    pub text_diff: Option<String>,
}

/// The differences that take `from` to `to`.
pub fn between(from: &[DesiredComponent], to: &[DesiredComponent]) -> Vec<Difference> {
    let mut out = Vec::new();
    let same =
        |a: &DesiredComponent, b: &DesiredComponent| a.category == b.category && a.component.name == b.component.name;
    for old in from.iter().filter(|old| !to.iter().any(|new| same(old, new))) {
        out.push(difference(old, DifferenceKind::Removed, "", Some(package(&old.component)), None));
    }
    for new in to {
        let Some(old) = from.iter().find(|old| same(old, new)) else {
            out.push(difference(new, DifferenceKind::Added, "", None, Some(package(&new.component))));
            continue;
        };
        let (a, b) = (&old.component, &new.component);
        if a.package != b.package {
            out.push(difference(new, DifferenceKind::Upgraded, "", Some(package(a)), Some(package(b))));
        }
        if a.plugin != b.plugin {
            out.push(difference(new, DifferenceKind::Plugin, "", a.plugin.clone(), b.plugin.clone()));
        }
        let (file_a, file_b) = (a.config.as_ref().map(file), b.config.as_ref().map(file));
        if file_a != file_b {
            out.push(difference(new, DifferenceKind::File, "", file_a, file_b));
        }
        let (text_a, text_b) = (template(a), template(b));
        if text_a != text_b {
            let mut d = difference(new, DifferenceKind::Template, "", None, None);
            d.text_diff = Some(text_diff(text_a, text_b, &format!("{}/{}", new.category, b.name)));
            out.push(d);
        }
        let names = a.parameters.iter().chain(&b.parameters).map(|(n, _)| n.as_str());
        let mut names: Vec<&str> = names.collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let value = |c: &Component| c.parameters.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let (before, after) = (value(a), value(b));
            if before != after {
                out.push(difference(new, DifferenceKind::Parameter, name, before, after));
            }
        }
    }
    out
}

fn difference(
    d: &DesiredComponent,
    kind: DifferenceKind,
    name: &str,
    before: Option<String>,
    after: Option<String>,
) -> Difference {
    Difference {
        category: d.category.clone(),
        component: d.component.name.clone(),
        kind,
        name: name.to_owned(),
        before,
        after,
        text_diff: None,
    }
}

fn package(c: &Component) -> String {
    let p = &c.package;
    format!("{} {} ({}, sha256 {})", p.name, p.version, p.format, p.sha256)
}

fn file(f: &ConfigFile) -> String {
    let a = &f.attributes;
    let mut text = f.path.clone();
    for (label, value) in [("mode", &a.mode), ("owner", &a.owner), ("group", &a.group)] {
        if let Some(value) = value {
            text.push_str(&format!(" {label}={value}"));
        }
    }
    text
}

fn template(c: &Component) -> &str {
    c.config.as_ref().map_or("", |f| f.template.as_str())
}

/// A unified diff of two texts, named `label` (`a/label`, `b/label`).
pub fn text_diff(before: &str, after: &str, label: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{label}"), &format!("b/{label}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::component;

    #[test]
    fn differences_name_what_changed_in_category_order() {
        let from = [component("OS", "base", "1", &[("x", "1")]), component("APP", "web", "1", &[])];
        let mut to =
            vec![component("OS", "base", "2", &[("x", "2"), ("y", "3")]), component("CONTENT", "site", "1", &[])];
        to[0].component.config.as_mut().unwrap().template = "x={{ x }}\ny={{ y }}\n".into();
        let d = between(&from, &to);
        let kinds: Vec<(&str, &str, &str)> =
            d.iter().map(|d| (d.component.as_str(), d.kind.as_str(), d.name.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("web", "removed", ""),
                ("base", "upgraded", ""),
                ("base", "template", ""),
                ("base", "parameter", "x"),
                ("base", "parameter", "y"),
                ("site", "added", ""),
            ]
        );
        let text = d[2].text_diff.as_deref().unwrap();
        assert!(text.contains("+y={{ y }}") && text.contains("--- a/OS/base"), "{text}");
        assert_eq!((d[4].before.as_deref(), d[4].after.as_deref()), (None, Some("3")));
    }

    #[test]
    fn equal_versions_have_no_difference() {
        let v = [component("OS", "base", "1", &[("x", "1")])];
        assert!(between(&v, &v).is_empty());
    }
}
