//! Builds the built-in plug-ins (`plugins/debian`, `plugins/rpm`) for
//! wasm32-wasip2 and leaves them in OUT_DIR for `include_bytes!`. A nested cargo
//! with its own target directory avoids waiting on the outer build's lock.

use std::path::PathBuf;
use std::process::Command;

const BUILT_IN: [&str; 2] = ["debian", "rpm"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = workspace.join("target/wasm");
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    for name in BUILT_IN {
        let plugin = workspace.join("plugins").join(name);
        for watched in ["src", "Cargo.toml", "manifest.toml"] {
            println!("cargo:rerun-if-changed={}", plugin.join(watched).display());
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(&plugin)
            .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
            .arg(&target_dir);
        // The outer build's settings are for the host target, not for wasm.
        for (key, _) in std::env::vars() {
            if (key.starts_with("CARGO_") && key != "CARGO_HOME")
                || key == "RUSTFLAGS"
                || key == "RUSTC_WRAPPER"
                || key == "RUSTC"
            {
                build.env_remove(key);
            }
        }
        let status = build.status().unwrap_or_else(|e| panic!("run cargo to build plugins/{name}: {e}"));
        assert!(
            status.success(),
            "building plugins/{name} for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
        );
        let wasm = target_dir.join(format!("wasm32-wasip2/release/outfit_plugin_{name}.wasm"));
        std::fs::copy(&wasm, out.join(format!("{name}.wasm")))
            .unwrap_or_else(|e| panic!("copy the {name} plug-in into OUT_DIR: {e}"));
    }
}
