//! The real RPM plug-in component in the real wasmtime host: packages built
//! with `rpmbuild` are installed by real `rpm --root` into a temporary device
//! root and checked with `rpm -qa` from outside.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::{CallContext, ConfigFile, PackageFile, Plugin};
use std::path::{Path, PathBuf};

/// Builds `outfit-rpmtest-VERSION-1.noarch.rpm` into the agent's spool.
fn build_rpm(spool: &Path, version: &str) -> PathBuf {
    std::fs::create_dir_all(spool).unwrap();
    outfit_tests::build_rpm(spool, "outfit-rpmtest", version).unwrap()
}

fn installed(root: &Path) -> String {
    outfit_tests::installed_rpms(root).unwrap().join("\n")
}

fn package(path: &Path, version: &str) -> PackageFile {
    PackageFile {
        name: "outfit-rpmtest".into(),
        version: format!("{version}-1"),
        format: "rpm".into(),
        path: path.display().to_string(),
    }
}

#[test]
fn rpm_plugin_installs_upgrades_removes_with_real_rpm_in_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let ctx = CallContext {
        device: "rhel-1".into(),
        command: "1".into(),
        root: root.clone(),
        spool: root.join("var/lib/outfit-agent/spool"),
        repository: None,
    };
    let plugin = Plugin::rpm().unwrap();
    let info = plugin.describe(&ctx).unwrap();
    assert_eq!((info.name.as_str(), info.package_formats.as_slice()), ("rpm", ["rpm".to_owned()].as_slice()));
    assert!(plugin.query(&ctx).unwrap().unwrap().is_empty());

    let v1 = build_rpm(&ctx.spool, "1.0");
    let done = plugin.install(&ctx, &package(&v1, "1.0")).unwrap().unwrap();
    assert_eq!(done, "installed outfit-rpmtest 1.0-1");
    assert_eq!(installed(&root), "outfit-rpmtest 1.0-1");
    assert_eq!(std::fs::read_to_string(root.join("usr/share/outfit-rpmtest/version")).unwrap(), "1.0\n");
    // "Make installed": the same version again changes nothing.
    let again = plugin.install(&ctx, &package(&v1, "1.0")).unwrap().unwrap();
    assert!(again.contains("already installed"), "{again}");

    // A newer version upgrades in place.
    let v2 = build_rpm(&ctx.spool, "2.0");
    plugin.install(&ctx, &package(&v2, "2.0")).unwrap().unwrap();
    assert_eq!(installed(&root), "outfit-rpmtest 2.0-1");
    let listed = plugin.query(&ctx).unwrap().unwrap();
    assert_eq!((listed[0].name.as_str(), listed[0].version.as_str()), ("outfit-rpmtest", "2.0-1"));

    // A model version the package file does not carry is an error, not a success.
    let wrong = plugin.install(&ctx, &package(&v2, "9.9")).unwrap().unwrap_err();
    assert!(wrong.contains("outfit-rpmtest"), "{wrong}");
    assert_eq!(installed(&root), "outfit-rpmtest 2.0-1");

    // Removal is idempotent.
    assert_eq!(plugin.remove(&ctx, "outfit-rpmtest").unwrap().unwrap(), "removed outfit-rpmtest");
    assert_eq!(installed(&root), "");
    assert!(!root.join("usr/share/outfit-rpmtest/version").exists());
    assert!(plugin.remove(&ctx, "outfit-rpmtest").unwrap().unwrap().contains("was not installed"));

    // Contained: no file access, rpm only on the spool, packages only.
    let outside = dir.path().join("elsewhere.rpm");
    std::fs::copy(&v1, &outside).unwrap();
    let refused = plugin.install(&ctx, &package(&outside, "1.0")).unwrap().unwrap_err();
    assert!(refused.contains("not allowed by the plug-in's manifest"), "{refused}");
    let config = ConfigFile { path: "/etc/x.conf".into(), template: "x".into(), parameters: Vec::new() };
    assert!(plugin.configure(&ctx, &config).unwrap().unwrap_err().contains("packages only"));
    assert_eq!(installed(&root), "");
}
