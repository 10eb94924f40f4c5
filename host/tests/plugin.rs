//! The real Debian plug-in component in the real wasmtime host, against a
//! temporary device root with real dpkg. Denials come from the manifest's
//! grants, checked by the host before anything happens.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::{
    Backend, CallContext, ConfigFile, DEBIAN_MANIFEST, DEBIAN_WASM, PackageFile, Parameter, Plugin,
};
use std::path::Path;
use std::process::Command;

fn context(root: &Path) -> CallContext {
    CallContext {
        device: "test".into(),
        command: "1".into(),
        root: root.to_owned(),
        spool: root.join("var/lib/outfit-agent/spool"),
        repository: None,
    }
}

fn config(path: &str, template: &str) -> ConfigFile {
    ConfigFile {
        path: path.into(),
        template: template.into(),
        parameters: vec![Parameter { name: "port".into(), value: "8080".into() }],
    }
}

fn build_deb(dir: &Path, spool: &Path) -> std::path::PathBuf {
    let src = dir.join("pkg");
    std::fs::create_dir_all(src.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(src.join("usr/share/t")).unwrap();
    std::fs::write(
        src.join("DEBIAN/control"),
        "Package: outfit-test\nVersion: 0.3-1\nArchitecture: all\nMaintainer: t <t@t.invalid>\nDescription: t\n",
    )
    .unwrap();
    std::fs::write(src.join("usr/share/t/file"), "x\n").unwrap();
    std::fs::create_dir_all(spool).unwrap();
    let deb = spool.join("outfit-test.deb");
    let status = Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&src).arg(&deb).status().unwrap();
    assert!(status.success());
    deb
}

#[test]
fn debian_plugin_installs_configures_and_is_contained() {
    install_configure_remove(&Plugin::debian().unwrap());
}

/// The same component on wasmtime's Pulley interpreter (no native code, as on
/// SPARC) does the same things to a real root.
#[test]
fn debian_plugin_runs_the_same_under_pulley() {
    install_configure_remove(&Plugin::load_on(Backend::Pulley, DEBIAN_WASM, DEBIAN_MANIFEST, None).unwrap());
}

fn install_configure_remove(plugin: &Plugin) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let ctx = context(&root);

    let info = plugin.describe(&ctx).unwrap();
    assert_eq!((info.name.as_str(), info.package_formats.as_slice()), ("debian", ["deb".to_owned()].as_slice()));
    assert!(plugin.query(&ctx).unwrap().unwrap().is_empty());

    // Real dpkg into the root, through the run capability.
    let deb = build_deb(dir.path(), &ctx.spool);
    let file = PackageFile {
        name: "outfit-test".into(),
        version: "0.3-1".into(),
        format: "deb".into(),
        path: deb.display().to_string(),
    };
    assert_eq!(plugin.install(&ctx, &file).unwrap().unwrap(), "installed outfit-test 0.3-1");
    assert!(root.join("usr/share/t/file").is_file());
    let installed = plugin.query(&ctx).unwrap().unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!((installed[0].name.as_str(), installed[0].version.as_str()), ("outfit-test", "0.3-1"));

    // Installing again is a no-op: dpkg (and its maintainer scripts) do not run twice.
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(root.join("usr/share/t/file")).unwrap());
    assert_eq!(plugin.install(&ctx, &file).unwrap().unwrap(), "outfit-test 0.3-1 already installed");
    assert_eq!(std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(root.join("usr/share/t/file")).unwrap()), inode);

    // The model's version must be what dpkg installed.
    let wrong = PackageFile { version: "9.9".into(), ..file.clone() };
    let err = plugin.install(&ctx, &wrong).unwrap().unwrap_err();
    assert!(err.contains("is not installed"), "{err}");

    // Remove through dpkg as well (purged: nothing of it left); the package database agrees.
    assert_eq!(plugin.remove(&ctx, "outfit-test").unwrap().unwrap(), "purged outfit-test");
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    assert!(!status.contains("Package: outfit-test"), "{status}");
    assert!(plugin.query(&ctx).unwrap().unwrap().is_empty());
    assert!(!root.join("usr/share/t/file").exists());
    // Removing what is not installed is already done.
    assert_eq!(plugin.remove(&ctx, "not-there").unwrap().unwrap(), "not-there was not installed");

    // A configuration file, rendered byte for byte (trailing newline kept).
    let done = plugin.configure(&ctx, &config("/etc/app/app.conf", "  port = {{ port }}\n")).unwrap().unwrap();
    assert!(done.starts_with("wrote /etc/app/app.conf"), "{done}");
    assert_eq!(std::fs::read_to_string(root.join("etc/app/app.conf")).unwrap(), "  port = 8080\n");

    // An unknown parameter is an error, not an empty string in the file.
    let err = plugin.configure(&ctx, &config("/etc/app/x.conf", "{{ missing }}")).unwrap().unwrap_err();
    assert!(err.contains("render template"), "{err}");
    assert!(!root.join("etc/app/x.conf").exists());
}

#[test]
fn debian_plugin_cannot_leave_its_grants() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let ctx = context(&root);
    let plugin = Plugin::debian().unwrap();

    // Writing outside the manifest's write grants is refused before any I/O.
    let err = plugin.configure(&ctx, &config("/root/.ssh/authorized_keys", "k")).unwrap().unwrap_err();
    assert!(err.contains("not granted"), "{err}");
    assert!(!root.join("root").exists());
    let err = plugin.configure(&ctx, &config("/etc/../shadow", "k")).unwrap().unwrap_err();
    assert!(err.contains("free of `..`"), "{err}");

    // dpkg on a file outside the agent's spool does not match any argv pattern.
    let outside = dir.path().join("elsewhere.deb");
    std::fs::write(&outside, b"not a package").unwrap();
    let file = PackageFile {
        name: "x".into(),
        version: "1".into(),
        format: "deb".into(),
        path: outside.display().to_string(),
    };
    let err = plugin.install(&ctx, &file).unwrap().unwrap_err();
    assert!(err.contains("not allowed by the plug-in's manifest"), "{err}");
    assert!(!root.join("var/lib/dpkg/info/x.list").exists());
}
