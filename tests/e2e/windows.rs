//! The Windows agent, cross-built with mingw-w64 and run under Wine against a
//! local gateway: it enrols, says Hello, asks for commands, takes a signed
//! `windows-msi` plug-in delivered through the queue, and runs a `service`
//! command through it — Wine's own `sc.exe` starts the BITS service — then
//! reports the result; and it runs as a Windows service itself, registered by
//! `outfit-agent service install`, started and stopped by Wine's Service
//! Control Manager, and removed by `outfit-agent service uninstall`. Nothing is simulated but the
//! machine.

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

/// What both tests start from: the agent beside the one DLL Wine 8 lacks
/// (Windows looks in the program's directory first; see the fixture's
/// comment), a gateway with the demo model, the device registered with its
/// enrolment token, an empty Wine prefix and device root.
struct WindowsDevice {
    dir: tempfile::TempDir,
    program: PathBuf,
    database: Database,
    gateway: Gateway,
    token: String,
    prefix: PathBuf,
    root: PathBuf,
    built: Duration,
}

impl WindowsDevice {
    fn new() -> Result<Self> {
        let started = Instant::now();
        let dir = tempfile::tempdir()?;
        let exe = build_windows_agent()?;
        let built = started.elapsed();
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
        let prefix = dir.path().join("wineprefix");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root)?;
        Ok(Self { dir, program, database, gateway, token, prefix, root, built })
    }

    /// A Wine command in this device's prefix.
    fn wine(&self) -> Command {
        let mut wine = Command::new(WINE);
        wine.env("WINEPREFIX", &self.prefix).env("WINEDEBUG", "-all");
        wine
    }

    /// The agent's arguments, with Windows paths.
    fn agent_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> =
            ["--gateway", &self.gateway.url, "--device", DEVICE, "--site", "demo", "--enrol-token", &self.token]
                .map(str::to_owned)
                .to_vec();
        args.extend(["--ca".into(), z(&self.gateway.dir.join("ca.pem")), "--root".into(), z(&self.root)]);
        args.extend(["--listen", "127.0.0.1:0", "--poll-interval", "2"].map(str::to_owned));
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    }

    /// Stops everything Wine started in this prefix.
    fn stop_wine(&self) {
        let _ = Command::new("/usr/lib/wine/wineserver64").arg("-k").env("WINEPREFIX", &self.prefix).status();
    }
}

/// A failed test leaves no Wine behind (a persistent wineserver would live on).
impl Drop for WindowsDevice {
    fn drop(&mut self) {
        self.stop_wine();
    }
}

#[test]
fn the_windows_agent_under_wine_runs_a_plugin_command_from_its_queue() -> Result<()> {
    let device = WindowsDevice::new()?;
    let (dir, gateway, database) = (&device.dir, &device.gateway, &device.database);

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

    let log = std::fs::File::create(dir.path().join("agent.log"))?;
    let child = device
        .wine()
        .arg(device.program.join("outfit-agent.exe"))
        .args(device.agent_args(&["--trusted-keys", &z(&trusted)]))
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
    let state = run(device.wine().args(["sc", "query", "BITS"]))?;
    assert!(state.contains("RUNNING") || state.contains("START_PENDING"), "{state}");
    println!(
        "windows smoke: cross-build {:.1} s, agent start to Hello {:.1} s, install-plugin + service {:.1} s",
        device.built.as_secs_f64(),
        up.as_secs_f64(),
        exchange.elapsed().as_secs_f64()
    );
    drop(_agent);
    Ok(())
}

#[test]
fn the_windows_agent_runs_as_a_service_the_service_manager_starts_and_stops() -> Result<()> {
    let device = WindowsDevice::new()?;
    // Wine ends its session, services included, when the last ordinary
    // process exits (`sc` here): a persistent wineserver keeps the service
    // manager up as Windows' is. It is started once the prefix exists and
    // Wine's first boot in it has ended (a service created while that boot
    // still runs can be lost), and the service manager it hosts is started
    // by a command whose output nobody waits for, since it lives on.
    std::fs::create_dir_all(&device.prefix)?;
    let quiet = |command: &mut Command| -> Result<()> {
        let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        ensure!(status.success(), "{command:?} failed: {status}");
        Ok(())
    };
    let wineserver = || {
        let mut server = Command::new("/usr/lib/wine/wineserver64");
        server.env("WINEPREFIX", &device.prefix);
        server
    };
    quiet(device.wine().args(["wineboot", "--init"]))?;
    quiet(wineserver().arg("-w"))?;
    quiet(wineserver().arg("-p"))?;

    let log = device.dir.path().join("service.log");
    let service_log = || std::fs::read_to_string(&log).unwrap_or_default();
    // The agent registers itself with the service manager: its usual
    // arguments and a log file (a service has no stderr); it adds
    // --windows-service. Wrong arguments register nothing.
    let program = device.program.join("outfit-agent.exe");
    // Output goes to files, not pipes: a Wine program's start can start
    // Wine's service manager, which inherits the pipes and lives on.
    let said = device.dir.path().join("service-command.out");
    let wine_to_file = |command: &mut Command| -> Result<(std::process::ExitStatus, String)> {
        let status = command.stdout(std::fs::File::create(&said)?).stderr(Stdio::null()).status()?;
        Ok((status, std::fs::read_to_string(&said)?))
    };
    let (refused, _) =
        wine_to_file(device.wine().arg(&program).args(["service", "install", "--", "--no-such-option"]))?;
    assert!(!refused.success(), "service install took arguments the agent refuses");
    let mut install = device.wine();
    install.arg(&program).args(["service", "install", "--"]).args(device.agent_args(&[]));
    let (status, installed) = wine_to_file(install.arg("--log-file").arg(z(&log)))?;
    assert!(status.success() && installed.contains("registered the service OutfitAgent"), "{status}: {installed}");
    let created = run(device.wine().args(["sc", "query", "OutfitAgent"]))?;
    assert!(created.contains("STOPPED"), "{created}");
    let started = Instant::now();
    quiet(device.wine().args(["sc", "start", "OutfitAgent"]))?;
    wait_for(Duration::from_secs(180), "the service's Hello", || {
        Ok(service_log().contains("gateway acknowledged Hello").then_some(()))
    })
    .with_context(service_log)?;
    let up = started.elapsed();
    let state = run(device.wine().args(["sc", "query", "OutfitAgent"]))?;
    assert!(state.contains("RUNNING"), "{state}");
    // The gateway served the service's exchanges like any agent's.
    let hellos = device.database.scalar(
        "SELECT COUNT(*) FROM exchanges WHERE operation = 'Hello' AND device_id = (SELECT id FROM devices WHERE name = 'win-1')",
    )?;
    assert_eq!(hellos, "1");

    // Stop: the service manager's request reaches the agent, which ends and
    // reports Stopped.
    run(device.wine().args(["sc", "stop", "OutfitAgent"]))?;
    wait_for(Duration::from_secs(60), "the service to stop", || {
        let state = run(device.wine().args(["sc", "query", "OutfitAgent"]))?;
        Ok(state.contains("STOPPED").then_some(()))
    })
    .with_context(service_log)?;
    assert!(service_log().contains("the service manager asked the agent to stop"), "{}", service_log());
    let (status, removed) = wine_to_file(device.wine().arg(&program).args(["service", "uninstall"]))?;
    assert!(status.success() && removed.contains("removed the service OutfitAgent"), "{status}: {removed}");
    let gone = device.wine().args(["sc", "query", "OutfitAgent"]).output()?;
    assert!(!String::from_utf8_lossy(&gone.stdout).contains("STOPPED"), "the service is still registered");
    println!("windows service: sc start to Hello {:.1} s", up.as_secs_f64());
    Ok(())
}
