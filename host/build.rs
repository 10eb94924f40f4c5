//! Builds the built-in plug-ins (`plugins/debian`, `plugins/rpm`) for
//! wasm32-wasip2 and leaves them in OUT_DIR for `include_bytes!` — only for an
//! agent with the `built-in-plugins` feature: a runtime-only agent has no
//! built-in plug-ins, it loads signed precompiled bundles. Also tells the agent the
//! target it is built for, which names the precompiled artifacts it loads.

use std::path::PathBuf;

include!("wasm_plugin.rs");

const BUILT_IN: [&str; 2] = ["debian", "rpm"];

fn main() {
    println!("cargo:rustc-env=OUTFIT_AGENT_TARGET={}", std::env::var("TARGET").unwrap());
    if std::env::var_os("CARGO_FEATURE_BUILT_IN_PLUGINS").is_none() {
        return;
    }
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!("cargo:rerun-if-changed={}", manifest_dir.join("wasm_plugin.rs").display());
    for name in BUILT_IN {
        let plugin = workspace.join("plugins").join(name);
        for watched in ["src", "Cargo.toml", "manifest.toml"] {
            println!("cargo:rerun-if-changed={}", plugin.join(watched).display());
        }
        let wasm = build_wasm_plugin(&workspace, name);
        std::fs::copy(&wasm, out.join(format!("{name}.wasm")))
            .unwrap_or_else(|e| panic!("copy the {name} plug-in into OUT_DIR: {e}"));
    }
}
