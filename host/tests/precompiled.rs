//! Plug-ins compiled ahead of time and signed (`outfit-plugin precompile`),
//! loaded as an agent without a compiler loads them: the artifact's signature
//! is checked before wasmtime ever sees its bytes, and one that does not
//! verify refuses the bundle instead of being compiled around.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::cache::CompileCache;
use outfit_agent::plugin::set::Loader;
use outfit_agent::plugin::signature::{self, Bundle, TrustedKeys, WASMTIME_VERSION};
use outfit_agent::plugin::{Backend, CallContext, RPM_MANIFEST, RPM_WASM};
use std::path::Path;
use std::process::Command;

fn tool(args: &[&str]) -> (bool, String) {
    let out = Command::new(outfit_tests::bin("outfit-plugin")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn loader(dir: &Path, backend: Backend, trusted: &TrustedKeys) -> Loader {
    Loader {
        backend,
        cache: CompileCache::new(dir.join("cache")),
        trusted: trusted.clone(),
        probe: CallContext {
            device: "test".into(),
            command: "describe".into(),
            root: dir.to_owned(),
            spool: dir.join("spool"),
            repository: None,
        },
    }
}

fn cached_entries(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cache")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_signed_artifact_loads_without_compiling_and_a_changed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    let (ok, public) = tool(&["keygen", "--key", key.to_str().unwrap()]);
    assert!(ok, "{public}");
    let trusted = TrustedKeys::from_keys([public.trim().to_owned()]).unwrap();
    let bundle = Bundle { dir: dir.path().join("rpm") };
    std::fs::create_dir_all(&bundle.dir).unwrap();
    std::fs::write(bundle.dir.join(signature::COMPONENT_FILE), RPM_WASM).unwrap();
    std::fs::write(bundle.dir.join(signature::MANIFEST_FILE), RPM_MANIFEST).unwrap();
    let bundle_arg = bundle.dir.to_str().unwrap();
    let native = Backend::Native.target();

    // Precompiling vouches for a signed bundle only.
    let (ok, out) = tool(&["precompile", "--key", key.to_str().unwrap(), "--target", native, bundle_arg]);
    assert!(!ok && out.contains("run `outfit-plugin sign` first"), "{out}");
    let (ok, out) = tool(&["sign", "--key", key.to_str().unwrap(), bundle_arg]);
    assert!(ok, "{out}");
    let (ok, out) =
        tool(&["precompile", "--key", key.to_str().unwrap(), "--target", native, "--target", "pulley64", bundle_arg]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("precompiled for {native}")) && out.contains("precompiled for pulley64"), "{out}");

    // Both backends load their artifact and nothing is compiled (the compile
    // cache stays empty); the plug-in answers `describe` on each.
    for backend in [Backend::Native, Backend::Pulley] {
        let loaded = loader(dir.path(), backend, &trusted).load_bundle(&bundle.dir, "placed").unwrap();
        assert_eq!((loaded.plugin.name(), loaded.formats.as_slice()), ("rpm", &["rpm".to_owned()][..]));
    }
    assert_eq!(cached_entries(dir.path()), 0, "a precompiled plug-in is not compiled again");

    let (artifact_file, signature_file) = signature::artifact_files(native);
    let artifact = bundle.dir.join(&artifact_file);
    let good = std::fs::read(&artifact).unwrap();
    let load = || loader(dir.path(), Backend::Native, &trusted).load_bundle(&bundle.dir, "placed");

    // One byte of machine code changed after signing.
    let mut changed = good.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x40;
    std::fs::write(&artifact, &changed).unwrap();
    let err = load().unwrap_err();
    assert!(err.contains(&format!("precompiled artifact for {native}")) && err.contains("does not verify"), "{err}");

    // Another target's code under this target's name, signed as such (a signer's
    // mistake, not an attack): the signature verifies, wasmtime refuses it.
    let pulley_code = std::fs::read(bundle.dir.join(signature::artifact_files("pulley64").0)).unwrap();
    let pkcs8 = std::fs::read(&key).unwrap();
    bundle.sign_precompiled(&pkcs8, native, &pulley_code).unwrap();
    let err = load().unwrap_err();
    assert!(err.contains("load plug-in"), "{err}");

    // Signed by a key the agent does not trust.
    let (stranger, _) = signature::generate_key().unwrap();
    bundle.sign_precompiled(&stranger, native, &good).unwrap();
    assert!(load().unwrap_err().contains("does not verify"));

    // The signature is missing.
    std::fs::write(&artifact, &good).unwrap();
    std::fs::remove_file(bundle.dir.join(&signature_file)).unwrap();
    let err = load().unwrap_err();
    assert!(err.contains("unsigned"), "{err}");
    assert_eq!(cached_entries(dir.path()), 0, "a refused artifact is never compiled around");

    // Without an artifact for its target, this agent (it has the compiler) compiles.
    std::fs::remove_file(&artifact).unwrap();
    load().unwrap();
    assert!(cached_entries(dir.path()) > 0);
}

/// The artifact signature names the wasmtime version; it must be the one built in.
#[test]
fn the_signed_wasmtime_version_is_the_one_in_cargo_lock() {
    let lock = std::fs::read_to_string(outfit_tests::workspace().join("Cargo.lock")).unwrap();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"wasmtime\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"'))
        .unwrap();
    assert_eq!(version, WASMTIME_VERSION);
}
