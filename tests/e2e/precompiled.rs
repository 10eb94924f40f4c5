//! The runtime-only agent: built without Cranelift (`--no-default-features`)
//! as a static musl binary (as shipped: no glibc, libm or loader mapped, see
//! host/benches/idle-rss.sh), it carries no code generator and no built-in
//! plug-ins, and runs only
//! plug-ins whose machine code was compiled ahead of time and signed
//! (`outfit-plugin precompile`). Placed bundles and bundles delivered through
//! the queue both work that way; a bundle without an artifact for the agent's
//! target is refused with the command that fixes it — by the agent, and, once
//! the agent has said so in `Hello`, by the gateway before it queues the
//! delivery. Real dpkg, real MariaDB.

use crate::plugins::{all_ran_on, bundle, queued_on, tool, vendor_key};
use anyhow::{Context, Result, ensure};
use outfit_tests::{Database, Gateway, bin, installed_packages, nested_cargo, prepare_root, run, workspace};
use std::path::{Path, PathBuf};
use std::process::Command;

const DEVICE: &str = "lean-1";

/// The runtime-only agent's target: this machine's CPU, Linux, static musl.
fn lean_target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

/// Builds the agent without its `compiler` feature for [`lean_target`], in a
/// target directory of its own (the outer cargo holds the workspace's).
fn build_runtime_only_agent() -> Result<PathBuf> {
    let target_dir = workspace().join("target/runtime-only");
    let mut build = nested_cargo();
    build.args(["build", "-j2", "-p", "outfit-agent", "--no-default-features", "--bin", "outfit-agent"]);
    build.args(["--target", &lean_target()]).arg("--target-dir").arg(&target_dir);
    ensure!(
        build.status().context("run cargo")?.success(),
        "building the runtime-only agent failed (musl target: `bash .ci/setup` installs musl-tools and it)"
    );
    Ok(target_dir.join(lean_target()).join("debug/outfit-agent"))
}

/// Whether the binary holds Cranelift's code (its symbols name the crate).
fn has_cranelift(program: &Path) -> Result<bool> {
    Ok(Command::new("grep").args(["-q", "-a", "cranelift_codegen"]).arg(program).status()?.success())
}

#[test]
fn a_runtime_only_agent_runs_signed_precompiled_plugins_and_refuses_others() -> Result<()> {
    let lean = build_runtime_only_agent()?;
    ensure!(has_cranelift(&bin("outfit-agent"))?, "the default agent should carry Cranelift");
    ensure!(!has_cranelift(&lean)?, "the runtime-only agent carries Cranelift");
    let target = lean_target();
    // Static: no program interpreter (dynamic loader) to map.
    let headers = run(Command::new("readelf").arg("--program-headers").arg(&lean))?;
    ensure!(!headers.contains("INTERP"), "the runtime-only agent should be linked statically:\n{headers}");

    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let (vendor, trusted) = vendor_key(dir.path())?;
    let key = vendor.to_str().unwrap();

    // Placed bundles: debian precompiled for this target, rpm only signed.
    let placed = dir.path().join("placed");
    std::fs::create_dir_all(&placed)?;
    let debian = bundle(&placed, "debian", &vendor)?;
    tool(&["precompile", "--key", key, "--target", &target, debian.to_str().unwrap()])?;
    bundle(&placed, "rpm", &vendor)?;

    let root = dir.path().join(DEVICE);
    prepare_root(&root)?;
    gateway.register(DEVICE, "webserver", "demo", "127.0.0.1")?;
    let args = ["--trusted-keys", trusted.to_str().unwrap(), "--plugin-dir", placed.to_str().unwrap()];
    let _agent = gateway.start_agent_program(&lean, DEVICE, &root, &args)?;

    // It reports the precompiled debian plug-in and nothing else.
    let shown = gateway.reported(DEVICE)?;
    assert!(shown.contains("\nplugin: debian 0.1.0 "), "{shown}");
    assert!(!shown.contains("plugin: rpm"), "{shown}");
    let log = gateway.agent_log(DEVICE);
    let how = format!("outfit-plugin precompile --key KEY --target {target} BUNDLE");
    assert!(log.contains("has no signed artifact for") && log.contains(&how), "{log}");

    // The model's packages, installed by real dpkg through the precompiled plug-in.
    all_ran_on(&queued_on(&gateway, &database, DEVICE, &["provision", DEVICE])?, "debian 0.1.0");
    let mut packages = installed_packages(&root)?;
    packages.sort();
    assert_eq!(packages, ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0"]);

    // Delivered through the queue: a precompiled bundle switches in without a
    // restart; one without an artifact for this target is refused, saying how.
    let delivered = dir.path().join("delivered");
    let files = bundle(&delivered, "files", &vendor)?;
    tool(&["precompile", "--key", key, "--target", &target, "--target", "pulley64", files.to_str().unwrap()])?;
    let install = ["plugin", "install", files.to_str().unwrap(), "--site", "demo", DEVICE];
    let rows = queued_on(&gateway, &database, DEVICE, &install)?;
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("succeeded", "plug-in files 0.1.0 installed and serving (was none)")
    );
    // The gateway knows from Hello that this agent cannot compile, and refuses
    // a bundle without code for its target before queueing anything.
    let network = bundle(&delivered, "network", &vendor)?;
    let install = ["plugin", "install", network.to_str().unwrap(), "--site", "demo", DEVICE];
    let commands = database.scalar("SELECT COUNT(*) FROM commands")?;
    let refused = format!("{:#}", gateway.cli(&install).unwrap_err());
    assert!(refused.contains("runs only precompiled plug-ins") && refused.contains(&how), "{refused}");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, commands, "nothing was queued");
    let shown = gateway.cli(&["device", "show", DEVICE])?;
    assert!(shown.contains("\nplugin: files 0.1.0 ") && !shown.contains("plugin: network"), "{shown}");
    assert!(shown.contains(&format!("\nruns only precompiled plug-ins for: {target}\n")), "{shown}");
    Ok(())
}
