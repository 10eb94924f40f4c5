//! The README's main job: `outfit-gateway demo --dir DIR` on a fresh directory
//! exits 0, and its device roots verify with dpkg-query from outside.

use anyhow::Result;
use outfit_tests::{bin, installed_packages, run};

#[test]
fn demo_provisions_three_devices() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let demo = dir.path().join("demo");
    let out = run(std::process::Command::new(bin("outfit-gateway"))
        .args(["demo", "--dir"])
        .arg(&demo)
        .env("OUTFIT_AGENT_BIN", bin("outfit-agent")))?;
    assert!(out.contains("every device matches its model"), "{out}");
    for name in ["web-1", "web-2", "web-3"] {
        let root = demo.join("devices").join(name);
        assert_eq!(
            installed_packages(&root)?,
            ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0"],
            "{name}"
        );
        assert!(std::fs::read_to_string(root.join("etc/outfit-demo/app.conf"))?.contains("listen_port = 8080"));
    }
    // A second run into the same directory is refused rather than mixing state.
    let again = std::process::Command::new(bin("outfit-gateway")).args(["demo", "--dir"]).arg(&demo).output()?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a gateway"));
    Ok(())
}
