//! `outfit-gateway demo --dir DIR`: the main job on the embedded default. Builds
//! three real .deb packages with `dpkg-deb --build`, imports the demo model into
//! a SQLite-backed gateway, registers three devices whose roots are
//! `DIR/devices/<name>/`, starts an agent process for each, provisions them,
//! shows progress and verifies every root with `dpkg-query`.

use crate::home::{Home, Settings};
use crate::server::Gateway;
use anyhow::{Context, Result, bail, ensure};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use outfit_domain::model::DesiredComponent;
use outfit_domain::rights::{Caller, Principal};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The demo model and package sources, compiled into the binary so the demo
/// runs from any directory.
const ASSETS: &[(&str, &str)] = &[
    ("model.toml", include_str!("../demo/model.toml")),
    ("templates/os.conf.j2", include_str!("../demo/templates/os.conf.j2")),
    ("templates/app.conf.j2", include_str!("../demo/templates/app.conf.j2")),
    ("templates/content.conf.j2", include_str!("../demo/templates/content.conf.j2")),
    ("packages/outfit-demo-os/DEBIAN/control", include_str!("../demo/packages/outfit-demo-os/DEBIAN/control")),
    (
        "packages/outfit-demo-os/usr/share/outfit-demo/os/README",
        include_str!("../demo/packages/outfit-demo-os/usr/share/outfit-demo/os/README"),
    ),
    ("packages/outfit-demo-app/DEBIAN/control", include_str!("../demo/packages/outfit-demo-app/DEBIAN/control")),
    (
        "packages/outfit-demo-app/usr/share/outfit-demo/app/app.txt",
        include_str!("../demo/packages/outfit-demo-app/usr/share/outfit-demo/app/app.txt"),
    ),
    (
        "packages/outfit-demo-content/DEBIAN/control",
        include_str!("../demo/packages/outfit-demo-content/DEBIAN/control"),
    ),
    (
        "packages/outfit-demo-content/var/www/outfit-demo/index.html",
        include_str!("../demo/packages/outfit-demo-content/var/www/outfit-demo/index.html"),
    ),
];

const DEVICES: [&str; 3] = ["web-1", "web-2", "web-3"];

/// Writes the demo sources under `dir` and builds the packages into `dir/build`.
pub fn build_example(dir: &Path) -> Result<PathBuf> {
    for (path, contents) in ASSETS {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("asset paths have a parent"))?;
        std::fs::write(&target, contents).with_context(|| format!("write {}", target.display()))?;
    }
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    for entry in std::fs::read_dir(dir.join("packages"))? {
        let source = entry?.path();
        set_dir_modes(&source)?;
        let status = Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&source)
            .arg(&build)
            .stdout(Stdio::null())
            .status()
            .context("run dpkg-deb (install the `dpkg` package)")?;
        ensure!(status.success(), "dpkg-deb --build {} failed", source.display());
    }
    Ok(dir.join("model.toml"))
}

/// dpkg-deb refuses control directories with unusual modes; make them 0755.
fn set_dir_modes(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            set_dir_modes(&path)?;
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        }
    }
    Ok(())
}

/// Finds the agent binary: `$OUTFIT_AGENT_BIN`, else beside this executable.
pub fn agent_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("OUTFIT_AGENT_BIN") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::current_exe()?.with_file_name("outfit-agent");
    ensure!(
        path.exists(),
        "no agent binary at {} (build it with `cargo build -p outfit-agent` or set OUTFIT_AGENT_BIN)",
        path.display()
    );
    Ok(path)
}

/// An agent process that is killed when dropped.
struct AgentProcess(Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What differs between a device root and the model; empty when they match.
pub fn verify_root(root: &Path, desired: &[DesiredComponent]) -> Result<Vec<String>> {
    let admindir = root.join("var/lib/dpkg");
    let output = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"])
        .output()
        .context("run dpkg-query")?;
    let listed = String::from_utf8_lossy(&output.stdout);
    let installed: Vec<(String, String)> = listed
        .lines()
        .filter(|l| l.trim_end().ends_with("ii"))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect();
    let mut problems = Vec::new();
    for d in desired {
        let c = &d.component;
        let want = (c.package.name.clone(), c.package.version.clone());
        if !installed.contains(&want) {
            problems.push(format!("package {} {} is not installed", want.0, want.1));
        }
        if let Some(config) = &c.config {
            let path = &config.path;
            let file = root.join(path.trim_start_matches('/'));
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    for (name, value) in &c.parameters {
                        if !text.contains(value.as_str()) {
                            problems.push(format!("{path} lacks parameter {name} = {value}"));
                        }
                    }
                }
                Err(e) => problems.push(format!("{path}: {e}")),
            }
        }
    }
    if installed.len() != desired.len() {
        problems.push(format!("{} packages installed, model has {}", installed.len(), desired.len()));
    }
    Ok(problems)
}

pub async fn run(dir: &Path) -> Result<()> {
    let started = Instant::now();
    let home = Home::new(dir);
    let settings = Settings::local("demo-gateway", "gateway.sqlite");
    home.init(&settings, &["localhost".into(), "127.0.0.1".into()])?;
    println!("gateway directory {} (SQLite database gateway.sqlite)", dir.display());

    let model_file = build_example(&dir.join("example"))?;
    let gateway = Arc::new(Gateway::open(home.clone())?);
    let url = gateway.clone().start().await?;
    println!("gateway listening on {url}");
    // The demo acts as the local administrator, through the same use cases
    // as every operator (authorised and audited).
    let caller = Caller { principal: Principal::LocalAdministrator { user: "demo".into() }, from: "cli".into() };
    let services = gateway.services.clone();
    let imported = services.import_model(&caller, &model_file, Some("the demo's model"))?;
    println!("imported model demo/webserver version {} (3 roles: OS, APP, CONTENT)", imported.version);

    let agent_bin = agent_binary()?;
    let mut agents = Vec::new();
    for name in DEVICES {
        let root = dir.join("devices").join(name);
        std::fs::create_dir_all(&root)?;
        services.add_device(&caller, "demo", name, "webserver")?;
        let token = services.issue_token(&caller, "demo", name, "127.0.0.1", 600)?;
        let agent_dir = dir.join("agents").join(name);
        std::fs::create_dir_all(&agent_dir)?;
        let log = std::fs::File::create(agent_dir.join("agent.log"))?;
        // The agent enrols on its first start: its own key, the token, a certificate.
        let child = Command::new(&agent_bin)
            .arg("--gateway")
            .arg(&url)
            .arg("--ca")
            .arg(home.ca_cert())
            .arg("--device")
            .arg(name)
            .arg("--site")
            .arg("demo")
            .arg("--enrol-token")
            .arg(&token)
            .arg("--root")
            .arg(&root)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("start {}", agent_bin.display()))?;
        agents.push(AgentProcess(child));
    }
    println!("started {} agents; waiting for their Hello", agents.len());
    wait_for_hello(&gateway, &caller, &mut agents).await?;

    let mut total = Vec::new();
    for name in DEVICES {
        // The poke goes out in the background; an agent it misses polls.
        let provisioned = services.provision(&caller, None, name, None)?;
        total.push(provisioned.commands as u64);
    }

    let finished = show_progress(&gateway, &caller, &total).await?;
    println!();
    println!("{:<8} {:>9} {:>7} {:>9}  root verified with dpkg-query", "device", "succeeded", "failed", "model");
    let desired = services.desired_components(&caller, "demo", imported.model_version_id)?;
    let mut all_ok = finished;
    for name in DEVICES {
        let status = services.device_status(&caller, name)?;
        let counts = status.counts;
        let applied = status.device.applied == Some(imported.model_version_id);
        let problems = verify_root(&dir.join("devices").join(name), &desired)?;
        let verdict = if problems.is_empty() { "matches the model".to_owned() } else { problems.join("; ") };
        println!(
            "{:<8} {:>9} {:>7} {:>9}  {}",
            name,
            counts.succeeded,
            counts.failed,
            if applied { format!("v{}", imported.version) } else { "-".into() },
            verdict
        );
        all_ok &= applied && problems.is_empty() && counts.failed == 0;
    }
    drop(agents);
    println!("demo finished in {:.1}s", started.elapsed().as_secs_f64());
    if !all_ok {
        bail!("not every device matches its model; agent logs are in {}", dir.join("agents").display());
    }
    println!("every device matches its model");
    Ok(())
}

async fn wait_for_hello(gateway: &Gateway, caller: &Caller, agents: &mut [AgentProcess]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut ready = 0;
        for name in DEVICES {
            if gateway.services.device_status(caller, name)?.device.poke_url.is_some() {
                ready += 1;
            }
        }
        if ready == DEVICES.len() {
            return Ok(());
        }
        for agent in agents.iter_mut() {
            if let Some(status) = agent.0.try_wait()? {
                bail!("an agent exited early ({status}); see its agent.log");
            }
        }
        ensure!(Instant::now() < deadline, "agents did not say Hello within 120 s; see their agent.log");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Shows a bar per device until every queue is done or halted; returns whether
/// all finished without failure.
async fn show_progress(gateway: &Gateway, caller: &Caller, total: &[u64]) -> Result<bool> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    let handles: Vec<ProgressBar> = DEVICES
        .iter()
        .zip(total)
        .map(|(name, n)| {
            let bar = bars.add(ProgressBar::new(*n));
            bar.set_style(style.clone());
            bar.set_prefix(name.to_string());
            bar
        })
        .collect();
    // Without a terminal the bars are hidden; print a line per change instead.
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut shown = vec![u64::MAX; DEVICES.len()];
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut done = 0;
        let mut failed = false;
        for (i, (name, bar)) in DEVICES.iter().zip(&handles).enumerate() {
            let counts = gateway.services.device_status(caller, name)?.counts;
            bar.set_position(counts.succeeded as u64);
            if plain && shown[i] != counts.succeeded as u64 {
                shown[i] = counts.succeeded as u64;
                println!("{name}: {}/{} commands succeeded", counts.succeeded, total[i]);
            }
            if counts.failed > 0 {
                bar.abandon_with_message("halted: a command failed");
                failed = true;
                done += 1;
            } else if counts.pending + counts.sent == 0 {
                bar.finish_with_message("done");
                done += 1;
            } else {
                bar.set_message(format!("{} pending", counts.pending + counts.sent));
            }
        }
        if done == DEVICES.len() {
            return Ok(!failed);
        }
        if Instant::now() > deadline {
            println!("gave up waiting after 300 s");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
