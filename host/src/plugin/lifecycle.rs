//! The calls the agent makes on a plug-in, for either world. A 0.1.0 plug-in
//! exports one function per operation; a v1 plug-in runs every change as
//! plan → apply → verify in one instance: an empty plan means the device is
//! already as asked (nothing is applied), and a change that applied but does
//! not verify fails. The agent's own types are 0.1.0's; a v1 plug-in's are
//! converted here, the one place the two meet.

use super::bindings::exports::outfit::plugin::os_plugin::Guest as V0Guest;
use super::bindings_v1::exports::outfit::plugin::plugin::Guest as V1Guest;
use super::bindings_v1::outfit::plugin::types as v1;
use super::bindings_v11::exports::outfit::plugin::plugin::Guest as V11Guest;
use super::bindings_v11::outfit::plugin::types as v11;
use super::{
    CallContext, ConfigFile, FileAttributes, InstalledPackage, PackageFile, Plugin, PluginError, PluginInfo, Target,
    World,
};
use wasmtime::Store;

type Outcome = Result<Result<String, String>, PluginError>;

fn target(ctx: &CallContext) -> Target {
    Target { device: ctx.device.clone(), command_id: ctx.command.clone(), root: ctx.root.display().to_string() }
}

fn target_v1(ctx: &CallContext) -> v1::Target {
    v1::Target { device: ctx.device.clone(), command_id: ctx.command.clone(), root: ctx.root.display().to_string() }
}

fn target_v11(ctx: &CallContext) -> v11::Target {
    v11::Target { device: ctx.device.clone(), command_id: ctx.command.clone(), root: ctx.root.display().to_string() }
}

impl From<&PackageFile> for v1::PackageFile {
    fn from(f: &PackageFile) -> Self {
        Self { name: f.name.clone(), version: f.version.clone(), format: f.format.clone(), path: f.path.clone() }
    }
}

impl From<&ConfigFile> for v1::ConfigFile {
    fn from(f: &ConfigFile) -> Self {
        let parameters =
            f.parameters.iter().map(|p| v1::Parameter { name: p.name.clone(), value: p.value.clone() }).collect();
        Self { path: f.path.clone(), template: f.template.clone(), parameters }
    }
}

/// plan → apply → verify on one instance of a v1.x plug-in (1.0 and 1.1
/// differ only in their generated types).
macro_rules! lifecycle {
    ($name:ident, $guest:ty, $types:ident) => {
        fn $name(
            plugin: &$guest,
            store: &mut Store<super::HostState>,
            target: &$types::Target,
            change: &$types::Change,
        ) -> wasmtime::Result<Result<String, String>> {
            let steps = match plugin.call_plan(&mut *store, target, change)? {
                Ok(steps) => steps,
                Err(e) => return Ok(Err(format!("plan: {e}"))),
            };
            if steps.is_empty() {
                return Ok(Ok("already as asked; nothing to do".into()));
            }
            let applied = match plugin.call_apply(&mut *store, target, change)? {
                Ok(message) => message,
                Err(e) => return Ok(Err(e)),
            };
            Ok(match plugin.call_verify(&mut *store, target, change)? {
                Ok(()) => Ok(applied),
                Err(e) => Err(format!("{applied}, but it does not verify: {e}")),
            })
        }
    };
}

/// A v1.x `plugin-info` as the agent's own, and its change kinds.
macro_rules! split_info {
    ($info:expr) => {{
        let info = $info;
        let own = PluginInfo {
            name: info.name,
            version: info.version,
            os_families: info.os_families,
            package_formats: info.package_formats,
        };
        (own, info.changes)
    }};
}

lifecycle!(lifecycle_v1, V1Guest, v1);
lifecycle!(lifecycle_v11, V11Guest, v11);

/// 1.1's change of the same meaning; a configuration file gains `attributes`.
fn to_v11(change: &v1::Change, attributes: &FileAttributes) -> v11::Change {
    match change {
        v1::Change::Install(f) => v11::Change::Install(v11::PackageFile {
            name: f.name.clone(),
            version: f.version.clone(),
            format: f.format.clone(),
            path: f.path.clone(),
        }),
        v1::Change::Remove(name) => v11::Change::Remove(name.clone()),
        v1::Change::Configure(f) => v11::Change::Configure(v11::ConfigFile {
            path: f.path.clone(),
            template: f.template.clone(),
            parameters: f
                .parameters
                .iter()
                .map(|p| v11::Parameter { name: p.name.clone(), value: p.value.clone() })
                .collect(),
            mode: attributes.mode,
            owner: attributes.owner.clone(),
            group: attributes.group.clone(),
        }),
        v1::Change::Network(i) => v11::Change::Network(v11::InterfaceConfig {
            name: i.name.clone(),
            addressing: match &i.addressing {
                v1::Addressing::Dhcp => v11::Addressing::Dhcp,
                v1::Addressing::Fixed(a) => v11::Addressing::Fixed(v11::StaticAddress {
                    address: a.address.clone(),
                    gateway: a.gateway.clone(),
                    dns: a.dns.clone(),
                }),
            },
        }),
        v1::Change::Service(c) => v11::Change::Service(v11::ServiceChange {
            name: c.name.clone(),
            action: match c.action {
                v1::ServiceAction::Start => v11::ServiceAction::Start,
                v1::ServiceAction::Stop => v11::ServiceAction::Stop,
                v1::ServiceAction::Restart => v11::ServiceAction::Restart,
                v1::ServiceAction::Enable => v11::ServiceAction::Enable,
                v1::ServiceAction::Disable => v11::ServiceAction::Disable,
            },
        }),
    }
}

impl Plugin {
    /// Runs `change` through a v1 plug-in's lifecycle, or `v0` on a 0.1.0 plug-in.
    fn change(
        &self,
        ctx: &CallContext,
        change: v1::Change,
        v0: impl FnOnce(&V0Guest, &mut Store<super::HostState>) -> wasmtime::Result<Result<String, String>>,
    ) -> Outcome {
        self.change_with(ctx, change, &FileAttributes::default(), v0)
    }

    /// [`Plugin::change`] for a change that may carry file attributes, which
    /// only a 1.1 plug-in can apply: an older one refuses the change rather
    /// than silently leave the mode or owner as it is.
    fn change_with(
        &self,
        ctx: &CallContext,
        change: v1::Change,
        attributes: &FileAttributes,
        v0: impl FnOnce(&V0Guest, &mut Store<super::HostState>) -> wasmtime::Result<Result<String, String>>,
    ) -> Outcome {
        if !attributes.is_empty() && !super::sets_file_attributes(&self.manifest.world) {
            return Ok(Err(format!(
                "plug-in {} implements `{}`, which cannot set file modes or owners (`{}` can)",
                self.manifest.name,
                self.manifest.world,
                super::WORLD_V11
            )));
        }
        let target = target_v1(ctx);
        self.call(ctx, |world, store| match world {
            World::V11(w) => {
                lifecycle_v11(w.outfit_plugin_plugin(), store, &target_v11(ctx), &to_v11(&change, attributes))
            }
            World::V1(w) => lifecycle_v1(w.outfit_plugin_plugin(), store, &target, &change),
            World::V0(w) => v0(w.outfit_plugin_os_plugin(), store),
        })
    }

    pub fn describe(&self, ctx: &CallContext) -> Result<PluginInfo, PluginError> {
        Ok(self.identify(ctx)?.0)
    }

    /// What the plug-in says it is, and the kinds of change it handles
    /// ("install", "network", …), from one call.
    pub fn identify(&self, ctx: &CallContext) -> Result<(PluginInfo, Vec<String>), PluginError> {
        self.call(ctx, |world, store| match world {
            World::V0(w) => {
                let info = w.outfit_plugin_os_plugin().call_describe(store)?;
                Ok((info, ["install", "remove", "configure"].map(String::from).to_vec()))
            }
            World::V1(w) => {
                let info = w.outfit_plugin_plugin().call_describe(store)?;
                Ok(split_info!(info))
            }
            World::V11(w) => {
                let info = w.outfit_plugin_plugin().call_describe(store)?;
                Ok(split_info!(info))
            }
        })
    }

    pub fn query(&self, ctx: &CallContext) -> Result<Result<Vec<InstalledPackage>, String>, PluginError> {
        let (t0, t1) = (target(ctx), target_v1(ctx));
        self.call(ctx, |world, store| match world {
            World::V0(w) => w.outfit_plugin_os_plugin().call_query(store, &t0),
            World::V1(w) => Ok(w.outfit_plugin_plugin().call_query(store, &t1)?.map(|packages| {
                packages.into_iter().map(|p| InstalledPackage { name: p.name, version: p.version }).collect()
            })),
            World::V11(w) => Ok(w.outfit_plugin_plugin().call_query(store, &target_v11(ctx))?.map(|packages| {
                packages.into_iter().map(|p| InstalledPackage { name: p.name, version: p.version }).collect()
            })),
        })
    }

    pub fn install(&self, ctx: &CallContext, file: &PackageFile) -> Outcome {
        let t0 = target(ctx);
        self.change(ctx, v1::Change::Install(file.into()), |p, store| p.call_install(store, &t0, file))
    }

    pub fn remove(&self, ctx: &CallContext, name: &str) -> Outcome {
        let t0 = target(ctx);
        self.change(ctx, v1::Change::Remove(name.to_owned()), |p, store| p.call_remove(store, &t0, name))
    }

    pub fn configure(&self, ctx: &CallContext, file: &ConfigFile) -> Outcome {
        self.configure_with(ctx, file, &FileAttributes::default())
    }

    /// Writes a configuration file that must also have `attributes` (mode,
    /// owner, group; a 1.1 plug-in only).
    pub fn configure_with(&self, ctx: &CallContext, file: &ConfigFile, attributes: &FileAttributes) -> Outcome {
        let t0 = target(ctx);
        self.change_with(ctx, v1::Change::Configure(file.into()), attributes, |p, store| {
            p.call_configure(store, &t0, file)
        })
    }

    /// Configures a network interface (v1 plug-ins only).
    pub fn network(&self, ctx: &CallContext, interface: &v1::InterfaceConfig) -> Outcome {
        let name = self.name().to_owned();
        self.change(ctx, v1::Change::Network(interface.clone()), |_, _| {
            Ok(Err(format!("plug-in {name} implements the 0.1.0 world, which has no network configuration")))
        })
    }

    /// Starts, stops, enables or disables a service (v1 plug-ins only).
    pub fn service(&self, ctx: &CallContext, change: &v1::ServiceChange) -> Outcome {
        let name = self.name().to_owned();
        self.change(ctx, v1::Change::Service(change.clone()), |_, _| {
            Ok(Err(format!("plug-in {name} implements the 0.1.0 world, which has no services")))
        })
    }

    /// Inventory facts (v1 plug-ins; a 0.1.0 plug-in reports none).
    pub fn inventory(&self, ctx: &CallContext) -> Result<Result<Vec<v1::Fact>, String>, PluginError> {
        let t1 = target_v1(ctx);
        self.call(ctx, |world, store| match world {
            World::V0(_) => Ok(Ok(Vec::new())),
            World::V1(w) => w.outfit_plugin_plugin().call_inventory(store, &t1),
            World::V11(w) => Ok(w
                .outfit_plugin_plugin()
                .call_inventory(store, &target_v11(ctx))?
                .map(|facts| facts.into_iter().map(|f| v1::Fact { name: f.name, value: f.value }).collect())),
        })
    }
}
