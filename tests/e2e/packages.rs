//! The packages an operator installs: `.deb` (cargo-deb) and `.rpm`
//! (cargo-generate-rpm) of the gateway, the CLI and the agent, made from this
//! run's binaries (`--profile dev --no-build`; docs/packages.md makes a
//! release), and the runtime-only agent's `.deb` (static, no compiling
//! program). lintian finds no error; the systemd units verify; the `.deb`s
//! unpacked into a fresh root run — a gateway `init` + `serve`, the CLI
//! registering a device, the agent enrolling — and the `.rpm`s install with
//! rpm into another fresh root, their defaults files marked as configuration.

use anyhow::{Context, Result};
use outfit_tests::{build_demo_model, lean_target, lean_target_dir, nested_cargo, run, runtime_only_agent, wait_for};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const DEBS: [&str; 3] = ["outfit-gateway", "outfit-cli", "outfit-agent"];

fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(dir)?.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(suffix)).collect();
    found.sort();
    Ok(found)
}

/// Kills the gateway when the test ends, however it ends.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_packages_pass_lintian_verify_and_run_from_fresh_roots() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("packages");
    for package in DEBS {
        run(nested_cargo().args(["deb", "-p", package, "--no-build", "--profile", "dev", "--output"]).arg(&out))?;
    }
    // The runtime-only agent: the static daemon without Cranelift, alone.
    runtime_only_agent()?;
    let variant = ["deb", "-p", "outfit-agent", "--variant", "runtime-only", "--no-build", "--profile", "dev"];
    run(nested_cargo()
        .args(variant)
        .args(["--target", &lean_target(), "--output"])
        .arg(&out)
        .env("CARGO_TARGET_DIR", lean_target_dir()))?;
    // Uncompressed: zstd over unstripped debug binaries takes minutes.
    for crate_dir in ["gateway", "gateway/cli", "host"] {
        let args = ["generate-rpm", "-p", crate_dir, "--profile", "dev", "--payload-compress", "none", "-o"];
        run(nested_cargo().args(args).arg(&out))?;
    }
    let debs = files_ending(&out, ".deb")?;
    let rpms = files_ending(&out, ".rpm")?;
    assert_eq!((debs.len(), rpms.len()), (4, 3), "{debs:?} {rpms:?}");
    let deb = |name: &str| {
        debs.iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}_")))
            .unwrap_or_else(|| panic!("no {name} package in {debs:?}"))
    };

    // lintian: warnings (no manual pages yet) but no error.
    for deb in &debs {
        run(Command::new("lintian").args(["--fail-on", "error"]).arg(deb))?;
    }
    for (package, conffile) in [
        ("outfit-agent", "/etc/default/outfit-agent"),
        ("outfit-agent-runtime-only", "/etc/default/outfit-agent"),
        ("outfit-gateway", "/etc/default/outfit-gateway"),
    ] {
        let conffiles = run(Command::new("dpkg-deb").arg("--info").arg(deb(package)).arg("conffiles"))?;
        assert_eq!(conffiles.trim(), conffile, "{package}");
    }
    // The runtime-only agent is static and has no compiling program beside it.
    let lean_root = dir.path().join("lean-root");
    run(Command::new("dpkg").arg("-x").arg(deb("outfit-agent-runtime-only")).arg(&lean_root))?;
    let lean = lean_root.join("usr/bin/outfit-agent");
    let headers = run(Command::new("readelf").arg("--program-headers").arg(&lean))?;
    assert!(!headers.contains("INTERP"), "the runtime-only agent should be static:\n{headers}");
    assert!(!lean_root.join("usr/bin/outfit-agent-compiler").exists());
    let version = run(Command::new(&lean).arg("--version"))?;
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let control = run(Command::new("dpkg-deb").arg("--field").arg(deb("outfit-agent-runtime-only")).arg("Conflicts"))?;
    assert_eq!(control.trim(), "outfit-agent");

    // Unpacked into a fresh root, beside the host's own systemd units (what
    // the outfit units refer to), both units verify.
    let root = dir.path().join("root");
    for package in DEBS {
        run(Command::new("dpkg").arg("-x").arg(deb(package)).arg(&root))?;
    }
    let units = root.join("usr/lib/systemd/system");
    for unit in std::fs::read_dir("/usr/lib/systemd/system")?.flatten() {
        let to = units.join(unit.file_name());
        if !to.exists() && unit.path().is_file() {
            std::fs::copy(unit.path(), to)?;
        }
    }
    for unit in ["outfit-gateway.service", "outfit-agent.service"] {
        run(Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg(format!("/usr/lib/systemd/system/{unit}")))?;
    }

    // The unpacked binaries run: a gateway from scratch, a device registered
    // through the CLI, the agent enrolled.
    let bin = |name: &str| root.join("usr/bin").join(name);
    for name in ["outfit-gateway", "outfit", "outfit-agent"] {
        let version = run(Command::new(bin(name)).arg("--version"))?;
        assert!(version.contains(env!("CARGO_PKG_VERSION")), "{name}: {version}");
    }
    // The agent's compiling program is installed beside it, and is not for people.
    let by_hand = Command::new(bin("outfit-agent-compiler")).output()?;
    assert_eq!(by_hand.status.code(), Some(2), "{by_hand:?}");
    assert!(String::from_utf8_lossy(&by_hand.stderr).contains("run by outfit-agent"), "{by_hand:?}");
    let home = dir.path().join("gateway");
    run(Command::new(bin("outfit-gateway"))
        .args(["init", "--listen", "127.0.0.1:0", "--operator-listen", "127.0.0.1:0", "--dir"])
        .arg(&home))?;
    run(Command::new(bin("outfit-gateway"))
        .args(["bootstrap", "admin", "--out"])
        .arg(home.join("admin"))
        .arg("--dir")
        .arg(&home))?;
    let log = std::fs::File::create(dir.path().join("gateway.log"))?;
    let _serving = Serving(
        Command::new(bin("outfit-gateway"))
            .arg("serve")
            .arg("--dir")
            .arg(&home)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    );
    let url = wait_for(Duration::from_secs(30), "the packaged gateway to listen", || {
        Ok(std::fs::read_to_string(home.join("gateway.url")).ok().filter(|u| !u.is_empty()))
    })?;
    let operator_url = std::fs::read_to_string(home.join("operator.url"))?;
    let outfit = |args: &[&str]| {
        let mut command = Command::new(bin("outfit"));
        command
            .args(args)
            .args(["--gateway", operator_url.trim()])
            .arg("--ca")
            .arg(home.join("ca.pem"))
            .arg("--cert")
            .arg(home.join("admin/admin.pem"))
            .arg("--key")
            .arg(home.join("admin/admin.key"))
            .env("OUTFIT_CONFIG", dir.path().join("profiles.toml"))
            .env_remove("OUTFIT_PASSWORD");
        run(&mut command)
    };
    let model = build_demo_model(&dir.path().join("model"))?;
    outfit(&["model", "import", model.to_str().unwrap(), "--rollout", "none"])?;
    outfit(&["device", "add", "pkg-1", "--site", "demo", "--model", "webserver"])?;
    let token = outfit(&["device", "token", "pkg-1", "--site", "demo", "--address", "127.0.0.1"])?;
    let state = dir.path().join("agent");
    std::fs::create_dir_all(&state)?;
    let enrolled = run(Command::new(bin("outfit-agent"))
        .args(["--gateway", &url, "--device", "pkg-1", "--site", "demo", "--enrol-only", "--enrol-token", token.trim()])
        .arg("--ca")
        .arg(home.join("ca.pem"))
        .arg("--root")
        .arg(&state)
        .arg("--state-dir")
        .arg(&state))
    .context("the packaged agent enrols")?;
    assert!(enrolled.contains("pkg-1: enrolled"), "{enrolled}");

    // The .rpm packages install with rpm into a fresh root (their scriptlets
    // need a whole system: a user database, systemd); the defaults files are
    // configuration an upgrade keeps.
    let rpm_root = dir.path().join("rpm-root");
    run(Command::new("rpm").arg("--root").arg(&rpm_root).arg("--initdb"))?;
    run(Command::new("rpm").arg("--root").arg(&rpm_root).args(["-i", "--nodeps", "--noscripts"]).args(&rpms))?;
    let version = run(Command::new(rpm_root.join("usr/bin/outfit")).arg("--version"))?;
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
    let config = run(Command::new("rpm").arg("--root").arg(&rpm_root).args(["-qc", "outfit-gateway", "outfit-agent"]))?;
    assert_eq!(config.lines().collect::<Vec<_>>(), ["/etc/default/outfit-gateway", "/etc/default/outfit-agent"]);
    Ok(())
}
