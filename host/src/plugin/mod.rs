//! The plug-in host: loads an OS plug-in (a WebAssembly component) with
//! wasmtime and runs each call in a fresh, limited sandbox.
//!
//! **Invariant:** a plug-in reaches the device only through the `host`
//! capabilities in `capabilities.rs`, each checked against its manifest's
//! grants ([`policy`]) before any side effect. WASI is linked with an empty
//! context: no preopened directories, no environment, no sockets.
//! A trap, fuel exhaustion or memory blow-up fails the command, never the agent.

pub mod cache;
mod capabilities;
pub mod os;
pub mod policy;
pub mod set;
pub mod signature;

use policy::{Manifest, Policy};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The one place `bindgen!` runs on the WIT contract: every released
/// version the agent serves, each in its own module.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/outfit-plugin-0.1.0",
        world: "os-plugin-world",
        imports: { default: trappable | tracing },
    });
}
mod bindings_v1 {
    wasmtime::component::bindgen!({
        path: "../wit/outfit-plugin-1.0.0",
        world: "os-plugin",
        imports: { default: trappable | tracing },
    });
}
mod bindings_v11 {
    wasmtime::component::bindgen!({
        path: "../wit/outfit-plugin-1.1.0",
        world: "os-plugin",
        imports: { default: trappable | tracing },
    });
}
/// 1.2 is 1.1 plus the `repository` import: the 1.1 parts are the 1.1
/// bindings themselves, so a 1.2 plug-in runs through the 1.1 calls.
mod bindings_v12 {
    wasmtime::component::bindgen!({
        path: "../wit/outfit-plugin-1.2.0",
        world: "os-plugin",
        imports: { default: trappable | tracing },
        with: {
            "outfit:plugin/types@1.1.0": super::bindings_v11::outfit::plugin::types,
            "outfit:plugin/host@1.1.0": super::bindings_v11::outfit::plugin::host,
        },
    });
}
mod lifecycle;

/// The agent's own types for plug-in calls are those of 0.1.0; a v1 plug-in's
/// are converted at the call (`lifecycle.rs`).
pub use bindings::outfit::plugin::types::{ConfigFile, InstalledPackage, PackageFile, Parameter, PluginInfo, Target};
/// The v1 contract's types (network and service changes, facts).
pub mod v1 {
    pub use super::bindings_v1::outfit::plugin::types::*;
}

/// The worlds this agent serves, as manifests name them.
pub const WORLD_V0: &str = "outfit:plugin/os-plugin-world@0.1.0";
pub const WORLD_V1: &str = "outfit:plugin/os-plugin@1.0.0";
pub const WORLD_V11: &str = "outfit:plugin/os-plugin@1.1.0";
pub const WORLD_V12: &str = "outfit:plugin/os-plugin@1.2.0";
const WORLDS: [&str; 4] = [WORLD_V0, WORLD_V1, WORLD_V11, WORLD_V12];

/// Whether plug-ins of `world` can set file modes and owners (1.1 and later).
pub fn sets_file_attributes(world: &str) -> bool {
    world_rank(world) >= world_rank(WORLD_V11)
}

/// How new a served world is (0 for the oldest); unknown worlds never load.
pub fn world_rank(world: &str) -> usize {
    WORLDS.iter().position(|w| *w == world).unwrap_or(0)
}

/// What a configuration file must have besides its contents (WIT 1.1):
/// permission bits, owner and group by name or number. Empty: keep what the
/// file has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttributes {
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl FileAttributes {
    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }
}

/// The built-in Debian plug-in and its manifest, built by `build.rs`.
#[cfg(feature = "built-in-plugins")]
pub const DEBIAN_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/debian.wasm"));
pub const DEBIAN_MANIFEST: &str = include_str!("../../../plugins/debian/manifest.toml");
/// The built-in RPM plug-in and its manifest, built by `build.rs`.
#[cfg(feature = "built-in-plugins")]
pub const RPM_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/rpm.wasm"));
pub const RPM_MANIFEST: &str = include_str!("../../../plugins/rpm/manifest.toml");

/// The plug-ins built into the agent, as (component, manifest). The first one
/// also writes configuration files, until a plug-in of a newer world that
/// handles them (`files`) is delivered. A runtime-only agent has none: it
/// cannot compile them, so its plug-ins are all signed precompiled bundles.
#[cfg(feature = "built-in-plugins")]
pub const BUILT_IN: &[(&[u8], &str)] = &[(DEBIAN_WASM, DEBIAN_MANIFEST), (RPM_WASM, RPM_MANIFEST)];

/// Instructions one call may execute before it is stopped.
const FUEL_PER_CALL: u64 = 20_000_000_000;
/// Linear memory one call may grow to.
const MEMORY_PER_CALL: usize = 256 << 20;
/// Plug-in calls that may run at once in the agent (it runs one command at a
/// time; the access endpoint and a hostile plug-in's test add a few).
const POOLED_CALLS: u32 = 32;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("load plug-in: {0}")]
    Load(String),
    #[error(
        "load plug-in {plugin}: this agent runs only precompiled plug-ins (it was built without the compiler) \
         and the bundle has no signed artifact for `{target}`; add one with \
         `outfit-plugin precompile --key KEY --target {target} BUNDLE`"
    )]
    NotPrecompiled { plugin: String, target: String },
    #[error("manifest: {0}")]
    Manifest(String),
    #[error("plug-in {plugin} trapped: {message}")]
    Trap { plugin: String, message: String },
}

/// How a plug-in's `fetch` (WIT 1.2) reaches packages: the agent asks the
/// gateway where the package is, downloads it and verifies it (`execute.rs`).
/// Calls made without a gateway (contract tests, `outfit-plugin bench`) have
/// none, and `fetch` fails there.
#[derive(Clone)]
pub struct Repository(Arc<Fetch>);

/// Finds, downloads and verifies package `name` at `version`.
type Fetch = dyn Fn(&str, &str) -> Result<PackageFile, String> + Send + Sync;

impl Repository {
    pub fn new(fetch: impl Fn(&str, &str) -> Result<PackageFile, String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(fetch))
    }

    fn fetch(&self, name: &str, version: &str) -> Result<PackageFile, String> {
        (self.0)(name, version)
    }
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repository")
    }
}

/// State of one invocation's store: the capability policy and an empty WASI.
pub struct HostState {
    policy: Policy,
    os: Arc<dyn os::Os>,
    device: String,
    command: String,
    repository: Option<Repository>,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A loaded, linked plug-in ready to be instantiated per call.
pub struct Plugin {
    engine: Engine,
    pre: Pre,
    manifest: Manifest,
    os: Arc<dyn os::Os>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("manifest", &self.manifest).finish_non_exhaustive()
    }
}

/// A linked component of one of the served worlds (a 1.2 component is
/// called as the 1.1 one it includes).
enum Pre {
    V0(bindings::OsPluginWorldPre<HostState>),
    V1(bindings_v1::OsPluginPre<HostState>),
    V11(bindings_v11::OsPluginPre<HostState>),
}

/// One call's instance.
enum World {
    V0(bindings::OsPluginWorld),
    V1(bindings_v1::OsPlugin),
    V11(bindings_v11::OsPlugin),
}

/// Where one call acts.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub device: String,
    pub command: String,
    pub root: PathBuf,
    pub spool: PathBuf,
    /// Where a 1.2 plug-in's `fetch` gets packages; `None`: nowhere.
    pub repository: Option<Repository>,
}

/// Why a call was stopped, in words an operator can act on.
fn trap_reason(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => {
            format!("ran out of fuel: more than {FUEL_PER_CALL} instructions in one call (an endless loop?)")
        }
        Some(wasmtime::Trap::UnreachableCodeReached) => format!(
            "aborted: the plug-in panicked or could not allocate memory (limit {} MiB per call)",
            MEMORY_PER_CALL >> 20
        ),
        Some(trap) => format!("trapped: {trap}"),
        None => format!("{e:#}"),
    }
}

/// Where plug-in code runs: machine code Cranelift generates for this CPU,
/// or wasmtime's Pulley interpreter (bytecode Cranelift generates for it),
/// for hosts Cranelift has no code generator for, such as SPARC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Native,
    Pulley,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "native" => Ok(Self::Native),
            "pulley" => Ok(Self::Pulley),
            other => Err(format!("`{other}` is not a plug-in backend (native, pulley)")),
        }
    }
}

impl Backend {
    /// As the command line names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Pulley => "pulley",
        }
    }

    /// The target this backend's artifacts are for, as bundles name them:
    /// the agent's own target triple, or Pulley's (whose byte order follows
    /// the host's, big-endian on SPARC).
    pub fn target(self) -> &'static str {
        match self {
            Self::Native => env!("OUTFIT_AGENT_TARGET"),
            Self::Pulley if cfg!(target_endian = "big") => "pulley64be",
            Self::Pulley => "pulley64",
        }
    }
}

/// One engine per backend for the whole process, shared by every plug-in, so
/// they share one instance pool.
fn engine(backend: Backend) -> Result<Engine, PluginError> {
    static NATIVE: std::sync::OnceLock<Result<Engine, String>> = std::sync::OnceLock::new();
    static PULLEY: std::sync::OnceLock<Result<Engine, String>> = std::sync::OnceLock::new();
    let cell = match backend {
        Backend::Native => &NATIVE,
        // Pulley is named even by a native agent (its Cranelift then emits
        // Pulley bytecode); the native engine targets the host.
        Backend::Pulley => &PULLEY,
    };
    let target = (backend == Backend::Pulley).then(|| backend.target());
    cell.get_or_init(|| Engine::new(&engine_config(target)?).map_err(|e| e.to_string()))
        .clone()
        .map_err(PluginError::Load)
}

/// The one engine configuration: whatever precompiles a component and
/// whatever loads it must agree on it exactly (wasmtime refuses an artifact
/// of another configuration), so the agent's engines and `precompile` both
/// come from here. `target`: none for this host's own CPU.
fn engine_config(target: Option<&str>) -> Result<Config, String> {
    let mut config = Config::new();
    config.consume_fuel(true);
    // Calls instantiate afresh every time: pooled slots make that a reset of
    // memory already mapped instead of new mappings (see `outfit-plugin
    // bench`). Slots for a few calls at once across all plug-ins; a call
    // beyond them fails with a clear error like any trap.
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_component_instances(POOLED_CALLS)
        .total_core_instances(POOLED_CALLS * 4)
        .total_memories(POOLED_CALLS * 4)
        .total_tables(POOLED_CALLS * 8)
        .max_memory_size(MEMORY_PER_CALL);
    config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    if let Some(target) = target {
        config.target(target).map_err(|e| format!("target `{target}`: {e}"))?;
    }
    Ok(config)
}

/// Compiles `wasm` ahead of time for `target` (a target triple such as
/// `x86_64-unknown-linux-gnu`, or `pulley64`), for agents that load it with
/// [`Plugin::load_precompiled`]. The code uses only the target's baseline
/// CPU features, so it runs on every CPU of that architecture.
#[cfg(feature = "compiler")]
pub fn precompile(target: &str, wasm: &[u8]) -> Result<Vec<u8>, PluginError> {
    let engine = Engine::new(&engine_config(Some(target)).map_err(PluginError::Load)?)
        .map_err(|e| PluginError::Load(format!("{e:#}")))?;
    engine.precompile_component(wasm).map_err(|e| PluginError::Load(format!("{e:#}")))
}

/// A manifest this agent can serve: a known world, and grants that world has.
fn parse_manifest(manifest_toml: &str) -> Result<Manifest, PluginError> {
    let manifest: Manifest = toml::from_str(manifest_toml).map_err(|e| PluginError::Manifest(e.to_string()))?;
    if !WORLDS.contains(&manifest.world.as_str()) {
        return Err(PluginError::Manifest(format!(
            "plug-in {} is for world `{}`; this agent serves {}",
            manifest.name,
            manifest.world,
            WORLDS.map(|w| format!("`{w}`")).join(", ")
        )));
    }
    if manifest.capabilities.owners && !sets_file_attributes(&manifest.world) {
        return Err(PluginError::Manifest(format!(
            "plug-in {} grants `owners`, which only worlds `{WORLD_V11}` and later have",
            manifest.name
        )));
    }
    if !manifest.capabilities.fetch.is_empty() && manifest.world != WORLD_V12 {
        return Err(PluginError::Manifest(format!(
            "plug-in {} grants `fetch`, which only world `{WORLD_V12}` has",
            manifest.name
        )));
    }
    Ok(manifest)
}

impl Plugin {
    /// Compiles a component (or, with a `cache`, loads the machine code an
    /// earlier start compiled) and links it against the host capabilities.
    #[cfg(feature = "built-in-plugins")]
    pub fn load(wasm: &[u8], manifest_toml: &str, cache: Option<&cache::CompileCache>) -> Result<Self, PluginError> {
        Self::load_on(Backend::Native, wasm, manifest_toml, cache)
    }

    /// [`Plugin::load`] for `backend`. Without the `compiler` feature only a
    /// `cache` with a compiling program can compile.
    #[cfg(feature = "built-in-plugins")]
    pub fn load_on(
        backend: Backend,
        wasm: &[u8],
        manifest_toml: &str,
        cache: Option<&cache::CompileCache>,
    ) -> Result<Self, PluginError> {
        let manifest = parse_manifest(manifest_toml)?;
        let engine = engine(backend)?;
        let component = match cache {
            Some(cache) => {
                let (component, source) = cache.component(backend, &engine, wasm)?;
                tracing::debug!(plugin = %manifest.name, ?source, "plug-in code ready");
                component
            }
            #[cfg(feature = "compiler")]
            None => Component::new(&engine, wasm).map_err(|e| PluginError::Load(format!("{e:#}")))?,
            #[cfg(not(feature = "compiler"))]
            None => return Err(PluginError::Load("this agent compiles only through its compiling program".into())),
        };
        Self::link(engine, component, manifest)
    }

    /// Loads machine code compiled ahead of time (a bundle's artifact whose
    /// signature verified) for `backend`; no compiler is involved. With a
    /// `cache` directory the code is mapped from a file there.
    pub fn load_precompiled(
        backend: Backend,
        code: &signature::Precompiled,
        manifest_toml: &str,
        cache: Option<&cache::CompileCache>,
    ) -> Result<Self, PluginError> {
        let manifest = parse_manifest(manifest_toml)?;
        if code.target != backend.target() {
            return Err(PluginError::Load(format!(
                "the artifact is for `{}`, this agent's {backend:?} backend runs `{}`",
                code.target,
                backend.target()
            )));
        }
        let engine = engine(backend)?;
        let component = match cache {
            Some(cache) => cache.load_verified(&engine, code)?,
            None => cache::deserialize_verified(&engine, code)?,
        };
        tracing::debug!(plugin = %manifest.name, target = %code.target, "precompiled plug-in loaded");
        Self::link(engine, component, manifest)
    }

    fn link(engine: Engine, component: Component, manifest: Manifest) -> Result<Self, PluginError> {
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| PluginError::Load(e.to_string()))?;
        let load = |e: wasmtime::Error| PluginError::Load(format!("{e:#}"));
        let pre = if manifest.world == WORLD_V12 {
            // The 1.1 imports and `repository`; the exports are 1.1's.
            bindings_v12::OsPlugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s).map_err(load)?;
            let pre = linker.instantiate_pre(&component).map_err(load)?;
            Pre::V11(bindings_v11::OsPluginPre::new(pre).map_err(load)?)
        } else if manifest.world == WORLD_V11 {
            bindings_v11::OsPlugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s).map_err(load)?;
            let pre = linker.instantiate_pre(&component).map_err(load)?;
            Pre::V11(bindings_v11::OsPluginPre::new(pre).map_err(load)?)
        } else if manifest.world == WORLD_V1 {
            bindings_v1::OsPlugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s).map_err(load)?;
            let pre = linker.instantiate_pre(&component).map_err(load)?;
            Pre::V1(bindings_v1::OsPluginPre::new(pre).map_err(load)?)
        } else {
            bindings::OsPluginWorld::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
                .map_err(load)?;
            let pre = linker.instantiate_pre(&component).map_err(load)?;
            Pre::V0(bindings::OsPluginWorldPre::new(pre).map_err(load)?)
        };
        Ok(Self { engine, pre, manifest, os: Arc::new(os::System) })
    }

    /// The same plug-in with its commands run by `os` (a contract test's
    /// [`os::Recording`]) instead of this machine.
    pub fn with_os(self, os: Arc<dyn os::Os>) -> Self {
        Self { os, ..self }
    }

    /// The built-in Debian plug-in, compiled afresh.
    #[cfg(feature = "compiler")]
    pub fn debian() -> Result<Self, PluginError> {
        Self::load(DEBIAN_WASM, DEBIAN_MANIFEST, None)
    }

    /// The built-in RPM plug-in, compiled afresh.
    #[cfg(feature = "compiler")]
    pub fn rpm() -> Result<Self, PluginError> {
        Self::load(RPM_WASM, RPM_MANIFEST, None)
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Runs `f` against a fresh instance in a fresh store with this call's grants.
    fn call<R>(
        &self,
        ctx: &CallContext,
        f: impl FnOnce(&World, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let trap = |e: wasmtime::Error| {
            // The operator gets the reason; the wasm backtrace goes to the log.
            tracing::warn!(plugin = %self.manifest.name, device = %ctx.device, command = %ctx.command, error = %format!("{e:#}"), "plug-in trapped");
            PluginError::Trap { plugin: self.manifest.name.clone(), message: trap_reason(&e) }
        };
        let policy = Policy::new(&self.manifest.capabilities, &ctx.root, &ctx.spool)
            .map_err(|e| PluginError::Manifest(e.to_string()))?;
        let state = HostState {
            policy,
            os: self.os.clone(),
            device: ctx.device.clone(),
            command: ctx.command.clone(),
            repository: ctx.repository.clone(),
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new().memory_size(MEMORY_PER_CALL).instances(4).build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_fuel(FUEL_PER_CALL).map_err(trap)?;
        let world = match &self.pre {
            Pre::V0(pre) => World::V0(pre.instantiate(&mut store).map_err(trap)?),
            Pre::V1(pre) => World::V1(pre.instantiate(&mut store).map_err(trap)?),
            Pre::V11(pre) => World::V11(pre.instantiate(&mut store).map_err(trap)?),
        };
        f(&world, &mut store).map_err(trap)
    }
}
