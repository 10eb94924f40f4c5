//! The Windows agent, cross-built with mingw-w64 and run under Wine against a
//! local gateway: it enrols, says Hello, asks for commands, takes a signed
//! `windows-msi` plug-in delivered through the queue, and runs a `service`
//! command through it — Wine's own `sc.exe` starts the BITS service — then
//! reports the result. Nothing is simulated but the machine.

use anyhow::{Context, Result, ensure};
use outfit_tests::{Database, Gateway, bin, nested_cargo, run, wait_for, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

include!("../../host/wasm_plugin.rs");

const TARGET: &str = "x86_64-pc-windows-gnu";
const DEVICE: &str = "win-1";
/// Debian installs Wine's 64-bit loader here (package wine64).
const WINE: &str = "/usr/lib/wine/wine64";

/// Builds `outfit-agent.exe` in a target directory of its own (the outer
/// cargo holds the workspace's).
fn build_windows_agent() -> Result<PathBuf> {
    let target_dir = workspace().join("target/windows");
    let mut build = nested_cargo();
    build.args(["build", "-j2", "-p", "outfit-agent", "--bin", "outfit-agent", "--target", TARGET]);
    build.arg("--target-dir").arg(&target_dir);
    build.env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER", "x86_64-w64-mingw32-gcc");
    let status = build.status().context("run cargo to cross-build the agent")?;
    ensure!(status.success(), "cross-building the agent for {TARGET} failed (is mingw-w64 installed? .ci/setup)");
    Ok(target_dir.join(TARGET).join("debug/outfit-agent.exe"))
}

/// A Linux path as Wine's Z: drive shows it.
fn z(path: &Path) -> String {
    format!("Z:{}", path.display().to_string().replace('/', "\\"))
}

#[test]
fn the_windows_agent_under_wine_runs_a_plugin_command_from_its_queue() -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let exe = build_windows_agent()?;
    let built = started.elapsed();

    // The agent and, beside it (Windows looks in the program's directory
    // first), the one DLL Wine 8 lacks (see the fixture's comment).
    let program = dir.path().join("program");
    std::fs::create_dir_all(&program)?;
    std::fs::copy(&exe, program.join("outfit-agent.exe"))?;
    run(Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(program.join("bcryptprimitives.dll"))
        .arg(workspace().join("tests/fixtures/windows/bcryptprimitives.c"))
        .arg("-ladvapi32"))?;

    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.cli(&["device", "add", DEVICE, "--site", "demo", "--model", "webserver"])?;
    let token = gateway.token(DEVICE, "demo", "127.0.0.1")?;

    // The windows-msi plug-in as a bundle signed by a key the agent trusts.
    let key = dir.path().join("vendor.key");
    let public = run(Command::new(bin("outfit-plugin")).args(["keygen", "--key"]).arg(&key))?;
    let trusted = dir.path().join("trusted-keys");
    std::fs::write(&trusted, public.trim())?;
    let bundle = dir.path().join("windows-msi");
    std::fs::create_dir_all(&bundle)?;
    std::fs::copy(build_wasm_plugin(&workspace(), "windows-msi"), bundle.join("plugin.wasm"))?;
    std::fs::copy(workspace().join("plugins/windows-msi/manifest.toml"), bundle.join("manifest.toml"))?;
    run(Command::new(bin("outfit-plugin")).args(["sign", "--key"]).arg(&key).arg(&bundle))?;

    let prefix = dir.path().join("wineprefix");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root)?;
    let log = std::fs::File::create(dir.path().join("agent.log"))?;
    let child = Command::new(WINE)
        .arg(program.join("outfit-agent.exe"))
        .args(["--gateway", &gateway.url, "--device", DEVICE, "--site", "demo", "--enrol-token", &token])
        .args(["--ca", &z(&gateway.dir.join("ca.pem")), "--root", &z(&root), "--trusted-keys", &z(&trusted)])
        .args(["--listen", "127.0.0.1:0", "--poll-interval", "2"])
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("start {WINE} (package wine64, .ci/setup)"))?;
    let _agent = outfit_tests::Process { child, name: DEVICE.into() };
    let agent_log = || std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    let hello = Instant::now();
    wait_for(Duration::from_secs(180), "the Windows agent's Hello", || {
        Ok(agent_log().contains("gateway acknowledged Hello").then_some(()))
    })
    .with_context(agent_log)?;
    let up = hello.elapsed();

    gateway.cli(&["plugin", "install", bundle.to_str().unwrap(), "--site", "demo", DEVICE])?;
    let script = dir.path().join("bits.toml");
    std::fs::write(
        &script,
        "site = \"demo\"\nname = \"bits\"\n[[steps]]\nkind = \"service\"\nname = \"BITS\"\naction = \"start\"\n",
    )?;
    gateway.cli(&["script", "import", script.to_str().unwrap()])?;
    gateway.cli(&["script", "run", "bits", "--site", "demo", DEVICE])?;
    let exchange = Instant::now();
    let results = wait_for(Duration::from_secs(180), "both commands to end", || {
        let rows = database.query(
            "SELECT kind, state, COALESCE(result, '') FROM commands WHERE state IN ('succeeded', 'failed') ORDER BY sequence",
        )?;
        Ok((rows.lines().count() == 2).then_some(rows))
    })
    .with_context(agent_log)?;
    assert_eq!(
        results.trim(),
        "install-plugin\tsucceeded\tplug-in windows-msi 0.1.0 installed and serving (was none)\n\
         service\tsucceeded\twindows-msi 0.1.0: service BITS: sc start BITS",
        "{}",
        agent_log()
    );
    // Wine's service manager agrees.
    let state =
        run(Command::new(WINE).args(["sc", "query", "BITS"]).env("WINEPREFIX", &prefix).env("WINEDEBUG", "-all"))?;
    assert!(state.contains("RUNNING") || state.contains("START_PENDING"), "{state}");
    println!(
        "windows smoke: cross-build {:.1} s, agent start to Hello {:.1} s, install-plugin + service {:.1} s",
        built.as_secs_f64(),
        up.as_secs_f64(),
        exchange.elapsed().as_secs_f64()
    );
    drop(_agent);
    let _ = Command::new("/usr/lib/wine/wineserver64").arg("-k").env("WINEPREFIX", &prefix).status();
    Ok(())
}
