//! The agent's plug-ins and which version of each serves: the built-in ones,
//! signed bundles placed in the plug-in directory, and versions delivered
//! through the queue (`install-plugin`), which replace a plug-in of the same
//! name without restarting the agent. The version a delivery replaced is kept
//! for `rollback-plugin`.
//!
//! On disk (STATE/plugin-versions):
//! ```text
//! debian/0.2.0/{plugin.wasm,manifest.toml,signature}   a delivered bundle
//!     (+ precompiled-TARGET.{cwasm,signature} if it carries machine code)
//! debian/selection                                     current = "0.2.0", previous = absent (= the agent's own)
//! ```
//!
//! **Invariant:** a stored version's directory is never replaced: delivering
//! other bytes under a version the agent holds is refused.
//!
//! **Invariant:** a delivered bundle is unpacked, its signature verified, its
//! component compiled (or its signed artifact loaded) and its `describe`
//! checked before it is selected; the
//! selection file is replaced atomically and only then does the live set
//! change, so a failed delivery leaves the plug-in in use as it was, and a
//! restart serves what was last selected.

use super::signature::{Bundle, TrustedKeys, Verified};
use super::{Backend, CallContext, Plugin, cache::CompileCache};
use outfit_wsdl::bundle::{self, ArtifactFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// A loaded plug-in and what it said of itself.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plugin: Arc<Plugin>,
    pub version: String,
    pub formats: Vec<String>,
    /// The kinds of change it handles ("install", "configure", "network", …).
    pub changes: Vec<String>,
    /// Where it came from: "built-in", a bundle directory, or "delivered".
    pub origin: String,
}

/// How a plug-in becomes ready to call.
#[derive(Debug, Clone)]
pub struct Loader {
    pub backend: Backend,
    pub cache: CompileCache,
    pub trusted: TrustedKeys,
    /// The context of the `describe` call made on every load.
    pub probe: CallContext,
}

impl Loader {
    /// Compiles (or loads from the cache) and identifies a component the
    /// agent trusts already (a built-in one, or a verified bundle's).
    #[cfg(feature = "built-in-plugins")]
    pub fn load(&self, wasm: &[u8], manifest: &str, origin: &str) -> Result<Loaded, String> {
        let plugin = Plugin::load_on(self.backend, wasm, manifest, Some(&self.cache)).map_err(|e| e.to_string())?;
        self.identify(plugin, origin)
    }

    /// Loads a verified bundle: its signed artifact for this agent's backend
    /// when it carries one (no compilation), else compiles it — or, in an
    /// agent without a compiler, refuses it saying how to precompile it.
    pub fn load_verified(&self, verified: &Verified, origin: &str) -> Result<Loaded, String> {
        let target = self.backend.target();
        if let Some(code) = verified.precompiled(target, &self.trusted).map_err(|e| e.to_string())? {
            let plugin = Plugin::load_precompiled(self.backend, &code, &verified.manifest, Some(&self.cache))
                .map_err(|e| e.to_string())?;
            return self.identify(plugin, origin);
        }
        #[cfg(feature = "built-in-plugins")]
        if self.cache.compiles() {
            return self.load(&verified.component, &verified.manifest, origin);
        }
        {
            let plugin = toml::from_str::<super::policy::Manifest>(&verified.manifest)
                .map(|m| m.name)
                .unwrap_or_else(|_| origin.to_owned());
            Err(super::PluginError::NotPrecompiled { plugin, target: target.to_owned() }.to_string())
        }
    }

    /// Asks the plug-in who it is; one whose answer contradicts its manifest
    /// is refused.
    fn identify(&self, plugin: Plugin, origin: &str) -> Result<Loaded, String> {
        let (info, changes) = plugin.identify(&self.probe).map_err(|e| e.to_string())?;
        let declared = plugin.manifest();
        if info.name != declared.name || info.version != declared.version {
            return Err(format!(
                "the component says it is {} {}, its manifest says {} {}",
                info.name, info.version, declared.name, declared.version
            ));
        }
        tracing::info!(plugin = %info.name, version = %info.version, formats = ?info.package_formats, ?changes, %origin, "plug-in loaded");
        Ok(Loaded {
            plugin: Arc::new(plugin),
            version: info.version,
            formats: info.package_formats,
            changes,
            origin: origin.to_owned(),
        })
    }

    /// Verifies and loads the bundle in `dir`.
    pub fn load_bundle(&self, dir: &Path, origin: &str) -> Result<Loaded, String> {
        let verified = Bundle { dir: dir.to_owned() }.verify(&self.trusted).map_err(|e| e.to_string())?;
        self.load_verified(&verified, origin)
    }
}

/// Which delivered version of one plug-in serves. `None` stands for the
/// agent's own (built-in or placed bundle), or no such plug-in at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Selection {
    current: Option<String>,
    previous: Option<String>,
}

const SELECTION_FILE: &str = "selection";
/// Largest file a bundle archive may hold (a component is well under this).
const MAX_BUNDLE_FILE: u64 = 64 << 20;

/// The plug-ins serving this agent, switchable while it runs.
#[derive(Debug)]
pub struct PluginSet {
    loader: Loader,
    /// What the agent has without deliveries, in order (the first also
    /// writes configuration files).
    own: Vec<Loaded>,
    live: RwLock<Arc<Vec<Loaded>>>,
    /// Why bundles were refused at start, for the result of a command that needed one.
    refused: RwLock<Vec<String>>,
    versions: PathBuf,
    /// One delivery or rollback at a time.
    switching: Mutex<()>,
}

/// `own` with each plug-in replaced by its delivered version, if any;
/// delivered plug-ins of a new name come last.
fn overlay(own: &[Loaded], delivered: &BTreeMap<String, Loaded>) -> Vec<Loaded> {
    let mut set: Vec<Loaded> =
        own.iter().map(|l| delivered.get(l.plugin.name()).cloned().unwrap_or_else(|| l.clone())).collect();
    for (name, loaded) in delivered {
        if !own.iter().any(|l| l.plugin.name() == name) {
            set.push(loaded.clone());
        }
    }
    set
}

impl PluginSet {
    /// The agent's own plug-ins (`own`, already loaded) with the delivered
    /// versions last selected in `versions`. A delivered version that no
    /// longer verifies or loads is refused and its plug-in's own version serves.
    pub fn start(loader: Loader, own: Vec<Loaded>, refused: Vec<String>, versions: PathBuf) -> Self {
        let set = Self {
            loader,
            live: RwLock::new(Arc::new(own.clone())),
            own,
            refused: RwLock::new(refused),
            versions,
            switching: Mutex::new(()),
        };
        let mut delivered = BTreeMap::new();
        for (name, selection) in set.selections() {
            let Some(version) = selection.current else { continue };
            let dir = set.versions.join(&name).join(&version);
            match set.loader.load_bundle(&dir, "delivered") {
                Ok(loaded) => {
                    delivered.insert(name, loaded);
                }
                Err(e) => {
                    tracing::error!(plugin = %name, %version, error = %e, "delivered plug-in refused");
                    set.refused.write().expect("refused list").push(format!("{name} {version}: {e}"));
                }
            }
        }
        *set.live.write().expect("live set") = Arc::new(overlay(&set.own, &delivered));
        set
    }

    /// The plug-ins serving now (a command keeps the set it started with).
    pub fn current(&self) -> Arc<Vec<Loaded>> {
        self.live.read().expect("live set").clone()
    }

    /// For an agent that cannot compile (no Cranelift, no compiling
    /// program), the target whose signed precompiled code every bundle must carry.
    pub fn precompiled_only(&self) -> Option<&'static str> {
        (!self.loader.cache.compiles()).then(|| self.loader.backend.target())
    }

    pub fn refused(&self) -> Vec<String> {
        self.refused.read().expect("refused list").clone()
    }

    fn selections(&self) -> Vec<(String, Selection)> {
        let Ok(entries) = std::fs::read_dir(&self.versions) else { return Vec::new() };
        let mut found: Vec<(String, Selection)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_owned();
                Some((name.clone(), self.selection(&name)))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    fn selection(&self, name: &str) -> Selection {
        let path = self.versions.join(name).join(SELECTION_FILE);
        std::fs::read_to_string(&path).ok().and_then(|text| toml::from_str(&text).ok()).unwrap_or_default()
    }

    fn save_selection(&self, name: &str, selection: &Selection) -> Result<(), String> {
        let dir = self.versions.join(name);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let mut file = tempfile::NamedTempFile::new_in(&dir)?;
            file.write_all(toml::to_string(selection).map_err(std::io::Error::other)?.as_bytes())?;
            file.as_file().sync_all()?;
            file.persist(dir.join(SELECTION_FILE)).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| format!("save the plug-in selection in {}: {e}", dir.display()))
    }

    /// The version serving `name` now, as an operator reads it.
    fn describe_current(&self, name: &str) -> String {
        match self.current().iter().find(|l| l.plugin.name() == name) {
            Some(l) => format!("{} ({})", l.version, l.origin),
            None => "none".into(),
        }
    }

    /// Makes `selection` of `name` live (`loaded` is the version it selects,
    /// already loaded): saves it, then swaps.
    fn switch(&self, name: &str, selection: Selection, loaded: Option<Loaded>) -> Result<(), String> {
        let mut delivered: BTreeMap<String, Loaded> = self
            .current()
            .iter()
            .filter(|l| l.origin == "delivered" && l.plugin.name() != name)
            .map(|l| (l.plugin.name().to_owned(), l.clone()))
            .collect();
        if let Some(loaded) = loaded {
            delivered.insert(name.to_owned(), loaded);
        }
        self.save_selection(name, &selection)?;
        *self.live.write().expect("live set") = Arc::new(overlay(&self.own, &delivered));
        Ok(())
    }

    /// Installs the bundle archive `archive` (already fetched and its sha256
    /// verified) as `name` `version` and switches to it.
    pub fn install(&self, archive: &Path, name: &str, version: &str) -> Result<String, String> {
        let _one = self.switching.lock().expect("switch lock");
        if !valid_segment(name) || !valid_segment(version) {
            return Err(format!("`{name}` `{version}` is not a plug-in name and version this agent can store"));
        }
        let was = self.describe_current(name);
        let dir = self.versions.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let staging = tempfile::tempdir_in(&dir).map_err(|e| format!("create a staging directory: {e}"))?;
        unpack(archive, staging.path())?;
        let verified = Bundle { dir: staging.path().to_owned() }
            .verify(&self.loader.trusted)
            .map_err(|e| format!("plug-in {name} {version} refused: {e}"))?;
        let manifest: super::policy::Manifest =
            toml::from_str(&verified.manifest).map_err(|e| format!("plug-in {name} {version}: manifest: {e}"))?;
        if manifest.name != name || manifest.version != version {
            return Err(format!(
                "plug-in {name} {version} refused: the bundle is {} {}",
                manifest.name, manifest.version
            ));
        }
        // Compiled (or its artifact loaded) and asked who it is before
        // anything is switched.
        let loaded = self
            .loader
            .load_verified(&verified, "delivered")
            .map_err(|e| format!("plug-in {name} {version} refused: {e}"))?;
        // A stored version is never replaced (the selection may point at it):
        // the same bundle again is a no-op store, other bytes under the same
        // version are refused.
        let target = dir.join(version);
        if target.exists() {
            if !same_bundle(&target, staging.path()) {
                return Err(format!(
                    "plug-in {name} {version} refused: this agent holds a different bundle under that version; \
                     publish the change as a new version"
                ));
            }
        } else {
            std::fs::rename(staging.path(), &target).map_err(|e| format!("store {}: {e}", target.display()))?;
        }
        let old = self.selection(name);
        if old.current.as_deref() == Some(version) {
            return Ok(format!("plug-in {name} {version} is already serving"));
        }
        self.switch(name, Selection { current: Some(version.to_owned()), previous: old.current }, Some(loaded))?;
        Ok(format!("plug-in {name} {version} installed and serving (was {was})"))
    }

    /// Switches `name` back to the version before the last switch (and keeps
    /// the one it leaves, so a second rollback goes forward again).
    pub fn rollback(&self, name: &str) -> Result<String, String> {
        let _one = self.switching.lock().expect("switch lock");
        let old = self.selection(name);
        if old == Selection::default() {
            return Err(format!("plug-in {name} was never delivered to this agent, so there is nothing to roll back"));
        }
        let was = self.describe_current(name);
        let loaded = match &old.previous {
            Some(version) => Some(self.loader.load_bundle(&self.versions.join(name).join(version), "delivered")?),
            None => None,
        };
        self.switch(name, Selection { current: old.previous, previous: old.current }, loaded)?;
        Ok(format!("plug-in {name} rolled back to {} (was {was})", self.describe_current(name)))
    }
}

/// Whether two bundle directories hold the same files (component, manifest,
/// signature and any precompiled artifacts), byte for byte.
fn same_bundle(a: &Path, b: &Path) -> bool {
    let files = |dir: &Path| -> Option<BTreeMap<String, Vec<u8>>> {
        let mut found = BTreeMap::new();
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            found.insert(entry.file_name().to_str()?.to_owned(), std::fs::read(entry.path()).ok()?);
        }
        Some(found)
    };
    matches!((files(a), files(b)), (Some(x), Some(y)) if x == y)
}

/// Whether an unpacked archive held the three files every bundle has.
fn known_all_present(seen: &[String]) -> bool {
    bundle::FILES.iter().all(|k| seen.iter().any(|s| s == k))
}

/// A name or version used as a directory name.
fn valid_segment(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && !text.starts_with('.')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.+~".contains(&b))
}

/// Files of one archive beyond the three every bundle has: an artifact and
/// its signature for each of a few targets.
const MAX_ARTIFACT_FILES: usize = 16;

/// Unpacks a bundle archive into `dir`: exactly the bundle's files (and its
/// precompiled artifacts, if any), regular files only, each of bounded size;
/// anything else refuses the archive.
fn unpack(archive: &Path, dir: &Path) -> Result<(), String> {
    let bad = |why: String| format!("the plug-in archive is not a bundle: {why}");
    let file = std::fs::File::open(archive).map_err(|e| format!("open {}: {e}", archive.display()))?;
    let mut entries = tar::Archive::new(file);
    let mut seen = Vec::new();
    for entry in entries.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.display().to_string();
        let known = bundle::FILES.contains(&path.as_str()) || ArtifactFile::parse(&path).is_some();
        if !known {
            return Err(bad(format!("unexpected entry `{path}`")));
        }
        if seen.len() >= bundle::FILES.len() + MAX_ARTIFACT_FILES {
            return Err(bad(format!("more than {MAX_ARTIFACT_FILES} precompiled files")));
        }
        if entry.header().entry_type() != tar::EntryType::Regular || seen.contains(&path) {
            return Err(bad(format!("`{path}` is not one regular file")));
        }
        if entry.size() > MAX_BUNDLE_FILE {
            return Err(bad(format!("`{path}` is larger than {} MiB", MAX_BUNDLE_FILE >> 20)));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.by_ref().take(MAX_BUNDLE_FILE).read_to_end(&mut bytes).map_err(|e| bad(e.to_string()))?;
        std::fs::write(dir.join(&path), bytes).map_err(|e| format!("unpack {path}: {e}"))?;
        seen.push(path);
    }
    if !known_all_present(&seen) {
        return Err(bad(format!("it holds {seen:?}, not plugin.wasm, manifest.toml and signature")));
    }
    Ok(())
}
