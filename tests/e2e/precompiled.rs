//! The agent without Cranelift (`--no-default-features --features
//! built-in-plugins`), as a static musl binary (as shipped: no glibc, libm or
//! loader mapped, see host/benches/idle-rss.sh). Alone (the runtime-only
//! package) it carries no code generator, leaves its built-in plug-ins unserved
//! and runs only plug-ins whose machine code was compiled ahead of time and
//! signed (`outfit-plugin precompile`). Placed bundles and bundles delivered
//! through the queue both work that way; a bundle without an artifact for the
//! agent's target is refused with the command that fixes it — by the agent,
//! and, once the agent has said so in `Hello`, by the gateway before it queues
//! the delivery. With `outfit-agent-compiler` beside it (the default package)
//! it compiles in child processes of that program. Real dpkg, real MariaDB.

use crate::plugins::{all_ran_on, bundle, queued_on, tool, vendor_key};
use anyhow::{Result, ensure};
use outfit_tests::{Database, Gateway, bin, installed_packages, lean_target, prepare_root, run, runtime_only_agent};
use std::path::Path;
use std::process::Command;

const DEVICE: &str = "lean-1";

/// Whether the binary holds Cranelift's code (its symbols name the crate).
fn has_cranelift(program: &Path) -> Result<bool> {
    Ok(Command::new("grep").args(["-q", "-a", "cranelift_codegen"]).arg(program).status()?.success())
}

#[test]
fn a_runtime_only_agent_runs_signed_precompiled_plugins_and_refuses_others() -> Result<()> {
    let lean = runtime_only_agent()?;
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

/// The packaged agent: the same daemon without Cranelift, with
/// `outfit-agent-compiler` installed beside it. It serves the built-in
/// plug-ins, compiled in child processes of that program, and can compile
/// deliveries, so it does not tell its gateway it needs precompiled ones.
#[test]
fn the_agent_without_cranelift_compiles_through_the_program_beside_it() -> Result<()> {
    let lean = runtime_only_agent()?;
    let dir = tempfile::tempdir()?;
    let installed = dir.path().join("usr/bin");
    std::fs::create_dir_all(&installed)?;
    let agent = installed.join("outfit-agent");
    std::fs::copy(&lean, &agent)?;
    std::fs::copy(bin("outfit-agent-compiler"), installed.join("outfit-agent-compiler"))?;
    ensure!(!has_cranelift(&agent)?, "the packaged daemon carries Cranelift");

    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let device = "lean-2";
    let root = dir.path().join(device);
    prepare_root(&root)?;
    gateway.register(device, "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent_program(&agent, device, &root, &[])?;

    let shown = gateway.reported(device)?;
    assert!(shown.contains("\nplugin: debian 0.1.0 ") && shown.contains("\nplugin: rpm 0.1.0 "), "{shown}");
    assert!(!shown.contains("runs only precompiled plug-ins"), "{shown}");
    let log = gateway.agent_log(device);
    assert_eq!(log.matches("plug-in compiled in a child process").count(), 2, "{log}");

    all_ran_on(&queued_on(&gateway, &database, device, &["provision", device])?, "debian 0.1.0");
    let mut packages = installed_packages(&root)?;
    packages.sort();
    assert_eq!(packages, ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0"]);
    Ok(())
}
