//! The files plug-in (WIT 1.1) for real: a real component in the real host
//! writes real files under a real device root, with the mode and the owner
//! the change asks for (the test runs as root, so `lchown` really happens),
//! owner names looked up in the root's own /etc/passwd and /etc/group.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::{CallContext, ConfigFile, FileAttributes, Parameter, Plugin};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

include!("../wasm_plugin.rs");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn files_plugin() -> Plugin {
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "files")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/files/manifest.toml")).unwrap();
    Plugin::load(&wasm, &manifest, None).unwrap()
}

/// A device root whose users are not the machine's: `web` is 4711 here.
fn device_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nweb:x:4711:4712::/srv:/bin/false\n")
        .unwrap();
    std::fs::write(dir.path().join("etc/group"), "root:x:0:\nweb:x:4712:\nadm:x:4:\n").unwrap();
    dir
}

fn context(root: &Path) -> CallContext {
    CallContext {
        device: "files".into(),
        command: "1".into(),
        root: root.to_owned(),
        spool: root.join("spool"),
        repository: None,
    }
}

fn config(template: &str, port: &str) -> ConfigFile {
    ConfigFile {
        path: "/etc/web/web.conf".into(),
        template: template.into(),
        parameters: vec![Parameter { name: "port".into(), value: port.into() }],
    }
}

fn attributes(mode: u32, owner: &str, group: &str) -> FileAttributes {
    FileAttributes { mode: Some(mode), owner: Some(owner.into()), group: Some(group.into()) }
}

#[test]
fn a_configuration_file_gets_its_contents_mode_and_the_devices_owner() {
    let root = device_root();
    let ctx = context(root.path());
    let files = files_plugin();
    let host_path = root.path().join("etc/web/web.conf");

    let done = files.configure_with(&ctx, &config("port={{ port }}\n", "8080"), &attributes(0o640, "web", "adm"));
    let done = done.unwrap().unwrap();
    assert!(done.starts_with("wrote /etc/web/web.conf: create"), "{done}");
    let meta = std::fs::metadata(&host_path).unwrap();
    assert_eq!(std::fs::read_to_string(&host_path).unwrap(), "port=8080\n");
    assert_eq!((meta.mode() & 0o777, meta.uid(), meta.gid()), (0o640, 4711, 4));

    // The same change again: nothing to do, nothing touched.
    let again = files.configure_with(&ctx, &config("port={{ port }}\n", "8080"), &attributes(0o640, "web", "adm"));
    assert_eq!(again.unwrap().unwrap(), "already as asked; nothing to do");

    // New contents without attributes: the rewritten file keeps mode and owner.
    files.configure(&ctx, &config("port={{ port }}\n", "9090")).unwrap().unwrap();
    let meta = std::fs::metadata(&host_path).unwrap();
    assert_eq!(std::fs::read_to_string(&host_path).unwrap(), "port=9090\n");
    assert_eq!((meta.mode() & 0o777, meta.uid(), meta.gid()), (0o640, 4711, 4));

    // Only the mode differs: only the mode changes.
    let done = files.configure_with(
        &ctx,
        &config("port={{ port }}\n", "9090"),
        &FileAttributes { mode: Some(0o600), ..FileAttributes::default() },
    );
    assert_eq!(done.unwrap().unwrap(), "wrote /etc/web/web.conf: mode 640 → 600");
    assert_eq!(std::fs::metadata(&host_path).unwrap().mode() & 0o777, 0o600);
}

#[test]
fn bad_owners_and_modes_are_refused_before_anything_is_written() {
    let root = device_root();
    let ctx = context(root.path());
    let files = files_plugin();
    let host_path = root.path().join("etc/web/web.conf");
    let refused = |attributes: FileAttributes| {
        let err = files.configure_with(&ctx, &config("port={{ port }}\n", "1"), &attributes).unwrap().unwrap_err();
        assert!(!host_path.exists(), "nothing may be written: {err}");
        err
    };
    // `nobody` exists on this machine but not on the device.
    let err = refused(attributes(0o644, "nobody", "web"));
    assert!(err.contains("user `nobody` is not in the device's /etc/passwd"), "{err}");
    let err = refused(FileAttributes { mode: Some(0o4755), ..FileAttributes::default() });
    assert!(err.contains("only permission bits"), "{err}");
    let err = refused(FileAttributes { group: Some("-x:y".into()), ..FileAttributes::default() });
    assert!(err.contains("is not a group name"), "{err}");
}

#[test]
fn owners_are_a_grant_and_older_worlds_cannot_set_them() {
    let root = device_root();
    let ctx = context(root.path());
    // The same component without `owners = true`: set-owner is denied.
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "files")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/files/manifest.toml")).unwrap();
    let ungranted = Plugin::load(&wasm, &manifest.replace("owners = true", ""), None).unwrap();
    let err = ungranted
        .configure_with(&ctx, &config("p={{ port }}\n", "1"), &attributes(0o644, "web", "web"))
        .unwrap()
        .unwrap_err();
    assert!(err.contains("not granted by the plug-in's manifest (`owners = true`)"), "{err}");
    // A 1.0 manifest may not grant `owners` at all.
    let old = manifest.replace("os-plugin@1.1.0", "os-plugin@1.0.0");
    assert!(Plugin::load(&wasm, &old, None).unwrap_err().to_string().contains("only world"));

    // The built-in Debian plug-in (0.1.0) refuses a mode rather than ignore it.
    let root = device_root();
    let ctx = context(root.path());
    let debian = Plugin::debian().unwrap();
    let err = debian.configure_with(&ctx, &config("p={{ port }}\n", "1"), &attributes(0o600, "web", "web"));
    let err = err.unwrap().unwrap_err();
    assert!(err.contains("cannot set file modes or owners"), "{err}");
    assert!(!root.path().join("etc/web/web.conf").exists());
}
