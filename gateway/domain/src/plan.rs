//! Plans: the commands that take one device from the model version it holds
//! (or nothing) to a target version. A bare device gets every component
//! installed and configured; a device on an earlier version gets only what
//! differs — removals first, in reverse category order (what was installed
//! last goes first), then installs, upgrades and reconfigurations in category
//! order.
//!
//! **Invariant:** the plan is a pure function of (from, to): the dry run and
//! the rollout call the same function on the same rows, so what a rollout
//! queues is what its dry run showed.

use crate::command::Payload;
use crate::drift::{Drift, DriftKind};
use crate::model::{Component, DesiredComponent};

/// The commands that build a bare device to `desired` (role categories by
/// rank, components by position): each component installed, then configured.
pub fn build(desired: &[DesiredComponent]) -> Vec<Payload> {
    between(&[], desired)
}

/// The commands that take a device holding `from` to `to`.
pub fn between(from: &[DesiredComponent], to: &[DesiredComponent]) -> Vec<Payload> {
    let mut plan = Vec::new();
    for old in from.iter().rev() {
        if find(to, old).is_none() {
            let (c, p) = (&old.component, &old.component.package);
            plan.push(Payload::Remove {
                component: c.name.clone(),
                package_name: p.name.clone(),
                format: p.format.clone(),
                plugin: c.plugin.clone(),
            });
        }
    }
    for new in to {
        let c = &new.component;
        let old = find(from, new).map(|d| &d.component);
        match old {
            None => plan.push(install(c)),
            Some(old) if old.package.sha256 != c.package.sha256 => plan.push(upgrade(old, c)),
            Some(_) => {}
        }
        let reconfigure = old.is_none_or(|old| old.config != c.config || old.parameters != c.parameters);
        if let Some(config) = c.config.as_ref().filter(|_| reconfigure) {
            plan.push(Payload::Configure {
                component: c.name.clone(),
                path: config.path.clone(),
                template: config.template.clone(),
                parameters: c.parameters.clone(),
                attributes: config.attributes.clone(),
                plugin: c.plugin.clone(),
            });
        }
    }
    plan
}

/// The commands that put a device showing `drift` back to `desired`:
/// extra packages removed, missing ones installed, other versions replaced,
/// changed files written again — then an inventory, which shows whether it
/// worked. `formats` gives an extra package's format (from the inventory).
pub fn remedy(desired: &[DesiredComponent], drift: &[Drift], formats: impl Fn(&str) -> Option<String>) -> Vec<Payload> {
    let mut plan = Vec::new();
    for d in drift.iter().filter(|d| d.kind == DriftKind::Extra) {
        if let Some(format) = formats(&d.subject) {
            plan.push(Payload::Remove {
                component: d.subject.clone(),
                package_name: d.subject.clone(),
                format,
                plugin: None,
            });
        }
    }
    for want in desired {
        let c = &want.component;
        let about = |kind: DriftKind, subject: &str| drift.iter().find(|d| d.kind == kind && d.subject == subject);
        if about(DriftKind::Missing, &c.package.name).is_some() {
            plan.push(install(c));
        } else if let Some(other) = about(DriftKind::Version, &c.package.name) {
            let mut installed = c.clone();
            installed.package.version = other.actual.clone().unwrap_or_default();
            plan.push(upgrade(&installed, c));
        }
        if let Some(config) = &c.config
            && about(DriftKind::File, &config.path).is_some()
        {
            plan.push(Payload::Configure {
                component: c.name.clone(),
                path: config.path.clone(),
                template: config.template.clone(),
                parameters: c.parameters.clone(),
                attributes: config.attributes.clone(),
                plugin: c.plugin.clone(),
            });
        }
    }
    if !plan.is_empty() {
        plan.push(Payload::Inventory);
    }
    plan
}

/// The same component (category and name) in another version.
fn find<'a>(within: &'a [DesiredComponent], like: &DesiredComponent) -> Option<&'a DesiredComponent> {
    within.iter().find(|d| d.category == like.category && d.component.name == like.component.name)
}

fn install(c: &Component) -> Payload {
    let p = &c.package;
    Payload::Install {
        component: c.name.clone(),
        package_name: p.name.clone(),
        version: p.version.clone(),
        format: p.format.clone(),
        sha256: p.sha256.clone(),
        size: p.size,
        storage_key: p.storage_key.clone(),
        plugin: c.plugin.clone(),
    }
}

fn upgrade(old: &Component, c: &Component) -> Payload {
    let p = &c.package;
    Payload::Upgrade {
        component: c.name.clone(),
        package_name: p.name.clone(),
        from_version: old.package.version.clone(),
        version: p.version.clone(),
        format: p.format.clone(),
        sha256: p.sha256.clone(),
        size: p.size,
        storage_key: p.storage_key.clone(),
        plugin: c.plugin.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ConfigFile, PackageRef};

    pub(crate) fn component(category: &str, name: &str, version: &str, params: &[(&str, &str)]) -> DesiredComponent {
        DesiredComponent {
            category: category.into(),
            component: Component {
                name: name.into(),
                package: PackageRef {
                    name: name.into(),
                    version: version.into(),
                    format: "deb".into(),
                    sha256: format!("{name}-{version}"),
                    size: 1,
                    storage_key: format!("{name}-{version}"),
                },
                config: Some(ConfigFile {
                    path: format!("/etc/{name}.conf"),
                    template: "x={{ x }}\n".into(),
                    attributes: Default::default(),
                }),
                plugin: None,
                parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            },
        }
    }

    fn summaries(plan: &[Payload]) -> Vec<String> {
        plan.iter().map(Payload::summary).collect()
    }

    #[test]
    fn a_bare_device_gets_every_component_installed_then_configured() {
        let to = [component("OS", "base", "1", &[]), component("APP", "web", "1", &[])];
        assert_eq!(
            summaries(&build(&to)),
            ["install base 1", "configure /etc/base.conf", "install web 1", "configure /etc/web.conf"]
        );
    }

    #[test]
    fn the_same_version_needs_nothing() {
        let v = [component("OS", "base", "1", &[("x", "1")])];
        assert!(between(&v, &v).is_empty());
    }

    #[test]
    fn a_parameter_change_is_one_reconfigure() {
        let from = [component("OS", "base", "1", &[]), component("APP", "web", "1", &[("port", "80")])];
        let to = [component("OS", "base", "1", &[]), component("APP", "web", "1", &[("port", "81")])];
        assert_eq!(summaries(&between(&from, &to)), ["configure /etc/web.conf"]);
    }

    #[test]
    fn an_upgrade_does_not_rewrite_an_unchanged_file() {
        let from = [component("APP", "web", "1", &[])];
        let to = [component("APP", "web", "2", &[])];
        assert_eq!(summaries(&between(&from, &to)), ["upgrade web 1 -> 2"]);
    }

    #[test]
    fn removals_come_first_in_reverse_category_order() {
        let from = [
            component("OS", "base", "1", &[]),
            component("APP", "web", "1", &[]),
            component("CONTENT", "site", "1", &[]),
        ];
        let to = [component("OS", "base", "1", &[]), component("OS", "tools", "1", &[])];
        assert_eq!(
            summaries(&between(&from, &to)),
            ["remove site", "remove web", "install tools 1", "configure /etc/tools.conf"]
        );
    }

    #[test]
    fn a_remedy_undoes_each_drift_then_takes_an_inventory() {
        let desired = [component("OS", "base", "1", &[]), component("APP", "web", "2", &[])];
        let drift = |kind, subject: &str, actual: Option<&str>| Drift {
            kind,
            category: None,
            component: None,
            subject: subject.into(),
            expected: None,
            actual: actual.map(str::to_owned),
            diff: None,
        };
        let found = [
            drift(DriftKind::Extra, "old", Some("3")),
            drift(DriftKind::Version, "web", Some("1")),
            drift(DriftKind::File, "/etc/base.conf", None),
        ];
        let plan = remedy(&desired, &found, |_| Some("deb".into()));
        assert_eq!(summaries(&plan), ["remove old", "configure /etc/base.conf", "upgrade web 1 -> 2", "inventory"]);
        assert!(remedy(&desired, &[], |_| None).is_empty());
    }

    #[test]
    fn a_component_that_changes_category_is_removed_and_installed() {
        let from = [component("OS", "web", "1", &[])];
        let to = [component("APP", "web", "1", &[])];
        assert_eq!(summaries(&between(&from, &to)), ["remove web", "install web 1", "configure /etc/web.conf"]);
    }
}
