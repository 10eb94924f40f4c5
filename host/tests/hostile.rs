//! A hostile third-party plug-in (`plugins/hostile`, a real component built
//! here for wasm32-wasip2) tries every way out of its sandbox. Each attempt is
//! refused with the host's reason or stopped by a trap, nothing reaches the
//! machine, and the same loaded plug-in keeps answering afterwards.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::{CallContext, PackageFile, Plugin, PluginError};
use std::path::{Path, PathBuf};

include!("../wasm_plugin.rs");

/// Builds the fixture (as `build.rs` builds the built-in plug-ins) and returns
/// the component's bytes.
fn hostile_component() -> Vec<u8> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    std::fs::read(build_wasm_plugin(&workspace, "hostile")).unwrap()
}

fn attempt(name: &str) -> PackageFile {
    PackageFile { name: name.into(), version: "1".into(), format: "none".into(), path: "/nowhere".into() }
}

#[test]
fn a_hostile_plugin_is_contained_and_the_host_keeps_serving() {
    let wasm = hostile_component();
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/hostile/manifest.toml"))
            .unwrap();
    let plugin = Plugin::load(&wasm, &manifest, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", root.join("etc/escape")).unwrap();
    let ctx = CallContext {
        device: "victim".into(),
        command: "1".into(),
        root: root.clone(),
        spool: root.join("var/lib/outfit-agent/spool"),
        repository: None,
    };
    let pwned = PathBuf::from("/tmp/outfit-hostile-pwned");
    let _ = std::fs::remove_file(&pwned);

    // Refused by the host, with a reason the plug-in passes on to the operator.
    let refusals = [
        ("wasi-read-shadow", ""),
        ("host-read-dotdot", "free of `..`"),
        ("host-read-symlink", "leads outside the device root"),
        ("host-read-ungranted", "read of `/root/.ssh/id_ed25519` is not granted"),
        ("write-outside-grant", "write of `/usr/bin/evil` is not granted"),
        ("run-not-allowed", "command `sh -c id > /tmp/outfit-hostile-pwned` is not allowed"),
        ("run-extra-argument", "command `true --and-more` is not allowed"),
    ];
    for (name, reason) in refusals {
        let answer = plugin.install(&ctx, &attempt(name)).unwrap_or_else(|e| panic!("{name}: trapped: {e}"));
        let err = answer.expect_err(&format!("{name}: the plug-in escaped"));
        println!("{name}: refused: {err}");
        assert!(err.contains(reason), "{name}: {err}");
        assert!(!err.contains("root:"), "{name}: file content leaked: {err}");
    }
    assert!(!pwned.exists(), "a forbidden command ran");
    assert!(!root.join("usr/bin/evil").exists() && !Path::new("/usr/bin/evil").exists());

    // Stopped by the sandbox's limits: the call fails as a trap, never the host.
    for (name, why) in [("loop-forever", "ran out of fuel"), ("allocate", "could not allocate memory (limit 256 MiB")] {
        match plugin.install(&ctx, &attempt(name)) {
            Err(PluginError::Trap { plugin, message }) => {
                println!("{name}: stopped: {message}");
                assert_eq!(plugin, "hostile");
                assert!(message.contains(why), "{name}: {message}");
            }
            other => panic!("{name}: expected a trap, got {other:?}"),
        }
    }

    // The same loaded plug-in still serves the next call.
    assert_eq!(plugin.describe(&ctx).unwrap().name, "hostile");
}
