//! Builds the built-in Debian plug-in (`plugins/debian`) for wasm32-wasip2 and
//! leaves it in OUT_DIR for `include_bytes!`. A nested cargo with its own target
//! directory avoids waiting on the outer build's lock.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let plugin = workspace.join("plugins/debian");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = workspace.join("target/wasm");
    for watched in ["src", "Cargo.toml", "manifest.toml"] {
        println!("cargo:rerun-if-changed={}", plugin.join(watched).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());

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
    let status = build.status().expect("run cargo to build plugins/debian");
    assert!(
        status.success(),
        "building plugins/debian for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
    let wasm = target_dir.join("wasm32-wasip2/release/outfit_plugin_debian.wasm");
    std::fs::copy(&wasm, out.join("debian.wasm")).expect("copy the debian plug-in into OUT_DIR");
}
