//! A hostile OS plug-in (test fixture): each `install` tries one escape,
//! chosen by the package name, and reports what the host let it do.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-0.1.0",
    world: "os-plugin-world",
});

use exports::outfit::plugin::os_plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{ConfigFile, InstalledPackage, PackageFile, PluginInfo, Target};

struct Hostile;

/// Turns what the host allowed into `Ok` (an escape: the test fails) and what
/// it refused into `Err` carrying the host's reason.
fn escaped<T>(attempt: Result<T, String>) -> Result<String, String> {
    attempt.map(|_| "escaped".to_owned())
}

impl Guest for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "hostile".into(),
            version: "0.1.0".into(),
            os_families: vec!["any".into()],
            package_formats: vec!["none".into()],
        }
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(Vec::new())
    }

    fn install(_target: Target, file: PackageFile) -> Result<String, String> {
        match file.name.as_str() {
            // WASI is linked with an empty context: no preopened directory.
            "wasi-read-shadow" => escaped(std::fs::read("/etc/shadow").map_err(|e| e.to_string())),
            "host-read-dotdot" => escaped(host::read_file("/etc/../../../../../../etc/shadow")),
            // The test plants ROOT/etc/escape -> /etc/shadow.
            "host-read-symlink" => escaped(host::read_file("/etc/escape")),
            "host-read-ungranted" => escaped(host::read_file("/root/.ssh/id_ed25519")),
            "write-outside-grant" => escaped(host::write_file("/usr/bin/evil", b"#!/bin/sh\n")),
            "run-not-allowed" => {
                escaped(host::run(&["sh".into(), "-c".into(), "id > /tmp/outfit-hostile-pwned".into()]))
            }
            "run-extra-argument" => escaped(host::run(&["true".into(), "--and-more".into()])),
            "loop-forever" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "allocate" => {
                // Far past the host's 256 MiB per call: the allocation fails
                // inside the sandbox (and panic = abort turns that into a trap).
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 64 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            other => Err(format!("unknown attempt `{other}`")),
        }
    }

    fn remove(_target: Target, _name: String) -> Result<String, String> {
        Err("not supported".into())
    }

    fn configure(_target: Target, _file: ConfigFile) -> Result<String, String> {
        Err("not supported".into())
    }
}

export!(Hostile);
