// Builds a plug-in crate of `plugins/` for wasm32-wasip2 with a nested cargo
// and returns the component's path. Shared, through `include!`, by `build.rs`
// (the built-in plug-ins), `tests/hostile.rs` and `tests/contract.rs` (the
// fixtures and bundle-only plug-ins) and `tests/e2e/plugins.rs`. The
// nested cargo has its own target directory, so it never waits on the outer
// build's lock.

#[allow(dead_code, reason = "tests/e2e builds only versioned plug-ins")]
fn build_wasm_plugin(workspace: &std::path::Path, name: &str) -> std::path::PathBuf {
    build_wasm_plugin_version(workspace, name, None)
}

/// Like `build_wasm_plugin`, with the plug-in calling itself `version`
/// (`OUTFIT_PLUGIN_VERSION`), in a target directory of its own so the two
/// builds do not undo each other.
#[allow(dead_code, reason = "build.rs builds no second version")]
fn build_wasm_plugin_version(workspace: &std::path::Path, name: &str, version: Option<&str>) -> std::path::PathBuf {
    let target_dir = match version {
        Some(version) => workspace.join("target/wasm-version").join(version),
        None => workspace.join("target/wasm"),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(workspace.join("plugins").join(name))
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
    build.env_remove("OUTFIT_PLUGIN_VERSION");
    if let Some(version) = version {
        build.env("OUTFIT_PLUGIN_VERSION", version);
    }
    let status = build.status().unwrap_or_else(|e| panic!("run cargo to build plugins/{name}: {e}"));
    assert!(
        status.success(),
        "building plugins/{name} for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
    target_dir.join(format!("wasm32-wasip2/release/outfit_plugin_{}.wasm", name.replace('-', "_")))
}
