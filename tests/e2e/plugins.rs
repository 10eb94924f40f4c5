//! Plug-ins delivered through the queue: a signed bundle of a new version of
//! the Debian plug-in reaches a running agent as an `install-plugin` command,
//! the next commands run on it without an agent restart, `rollback-plugin`
//! returns to the built-in version, a bundle signed by an untrusted key is
//! refused with the serving version kept, and a restart serves the version
//! last selected.

use anyhow::{Result, ensure};
use outfit_tests::{Database, Gateway, bin, installed_packages, prepare_root, run, wait_for, workspace};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

include!("../../host/wasm_plugin.rs");

const DEVICE: &str = "plug-1";

/// `outfit-plugin ARGS`; its stdout.
pub(crate) fn tool(args: &[&str]) -> Result<String> {
    run(Command::new(bin("outfit-plugin")).args(args))
}

/// A new signing key (`dir/vendor.key`) and a trusted-keys file holding it.
pub(crate) fn vendor_key(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let vendor = dir.join("vendor.key");
    let public = tool(&["keygen", "--key", vendor.to_str().unwrap()])?;
    let trusted = dir.join("trusted-keys");
    std::fs::write(&trusted, public.trim())?;
    Ok((vendor, trusted))
}

/// A plug-in of `plugins/` as a bundle signed with `key`.
pub(crate) fn bundle(dir: &Path, name: &str, key: &Path) -> Result<PathBuf> {
    let wasm = build_wasm_plugin_version(&workspace(), name, None);
    let bundle = dir.join(name);
    std::fs::create_dir_all(&bundle)?;
    std::fs::copy(wasm, bundle.join("plugin.wasm"))?;
    std::fs::copy(workspace().join("plugins").join(name).join("manifest.toml"), bundle.join("manifest.toml"))?;
    tool(&["sign", "--key", key.to_str().unwrap(), bundle.to_str().unwrap()])?;
    Ok(bundle)
}

/// The Debian plug-in built to call itself `version`, as a bundle signed with `key`.
fn debian_bundle(dir: &Path, version: &str, key: &Path) -> Result<PathBuf> {
    let wasm = build_wasm_plugin_version(&workspace(), "debian", Some(version));
    let bundle = dir.join(format!("debian-{version}"));
    std::fs::create_dir_all(&bundle)?;
    std::fs::copy(wasm, bundle.join("plugin.wasm"))?;
    let manifest = std::fs::read_to_string(workspace().join("plugins/debian/manifest.toml"))?;
    ensure!(manifest.contains("version = \"0.1.0\""), "the debian manifest's version line changed");
    std::fs::write(
        bundle.join("manifest.toml"),
        manifest.replace("version = \"0.1.0\"", &format!("version = \"{version}\"")),
    )?;
    tool(&["sign", "--key", key.to_str().unwrap(), bundle.to_str().unwrap()])?;
    Ok(bundle)
}

/// Runs a gateway CLI command that queues work for `DEVICE` and waits until
/// every command it queued has ended (or the queue halted on a failure);
/// returns their (kind, state, result).
fn queued(gateway: &Gateway, database: &Database, args: &[&str]) -> Result<Vec<(String, String, String)>> {
    queued_on(gateway, database, DEVICE, args)
}

/// [`queued`] for `device`.
pub(crate) fn queued_on(
    gateway: &Gateway,
    database: &Database,
    device: &str,
    args: &[&str],
) -> Result<Vec<(String, String, String)>> {
    let before = database.scalar("SELECT COALESCE(MAX(id), 0) FROM commands")?;
    gateway.cli(args)?;
    let sql = format!(
        "SELECT kind, state, COALESCE(result, '') FROM commands WHERE id > {before} \
         AND device_id = (SELECT id FROM devices WHERE name = '{device}') ORDER BY sequence"
    );
    wait_for(Duration::from_secs(120), &format!("the commands of `{}` to end", args.join(" ")), || {
        let rows: Vec<(String, String, String)> = database
            .query(&sql)?
            .lines()
            .map(|line| {
                let mut f = line.splitn(3, '\t');
                let mut next = || f.next().unwrap_or("").to_owned();
                (next(), next(), next())
            })
            .collect();
        // Ended, or halted: a failed command holds back the rest.
        let end = |state: &str| state == "succeeded" || state == "failed";
        let halted = rows.iter().any(|(_, state, _)| state == "failed");
        let ended = !rows.is_empty() && rows.iter().all(|(_, state, _)| end(state) || (halted && state == "pending"));
        Ok(ended.then_some(rows))
    })
}

/// Asserts that every command succeeded and was run by `plugin`.
pub(crate) fn all_ran_on(rows: &[(String, String, String)], plugin: &str) {
    assert!(!rows.is_empty());
    for (kind, state, result) in rows {
        assert_eq!(state, "succeeded", "{kind}: {result}");
        assert!(result.starts_with(&format!("{plugin}: ")), "{kind} should have run on {plugin}: {result}");
    }
}

#[test]
fn a_plugin_upgrade_reaches_a_running_agent_through_the_queue_and_rolls_back() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;

    let (vendor, trusted) = vendor_key(dir.path())?;
    let upgrade = debian_bundle(dir.path(), "0.2.0", &vendor)?;
    // The same bytes signed by a key the agent does not trust.
    let stranger = dir.path().join("stranger.key");
    tool(&["keygen", "--key", stranger.to_str().unwrap()])?;
    let forged = dir.path().join("forged");
    run(Command::new("cp").arg("-r").arg(&upgrade).arg(&forged))?;
    std::fs::write(
        forged.join("manifest.toml"),
        std::fs::read_to_string(upgrade.join("manifest.toml"))?.replace("0.2.0", "0.3.0"),
    )?;
    tool(&["sign", "--key", stranger.to_str().unwrap(), forged.to_str().unwrap()])?;

    let root = dir.path().join(DEVICE);
    prepare_root(&root)?;
    gateway.register(DEVICE, "webserver", "demo", "127.0.0.1")?;
    let trusted_arg = ["--trusted-keys", trusted.to_str().unwrap()];
    let mut agent = gateway.start_agent_with(DEVICE, &root, &trusted_arg)?;

    let provision = ["provision", DEVICE];
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.1.0");

    // The upgrade, through the queue to the running agent.
    let install = ["plugin", "install", upgrade.to_str().unwrap(), "--site", "demo", DEVICE];
    let rows = queued(&gateway, &database, &install)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str(), rows[0].2.as_str()),
        ("install-plugin", "succeeded", "plug-in debian 0.2.0 installed and serving (was 0.1.0 (built-in))")
    );
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.2.0");
    let mut packages = installed_packages(&root)?;
    packages.sort();
    assert_eq!(packages, ["outfit-demo-app 2.1.0", "outfit-demo-content 3.0.0", "outfit-demo-os 1.0.0"]);

    // Signed by a stranger: refused before anything is compiled; 0.2.0 keeps serving.
    let refuse = ["plugin", "install", forged.to_str().unwrap(), "--site", "demo", DEVICE];
    let rows = queued(&gateway, &database, &refuse)?;
    assert_eq!(rows[0].1, "failed");
    assert!(
        rows[0].2.contains("plug-in debian 0.3.0 refused") && rows[0].2.contains("does not verify"),
        "{}",
        rows[0].2
    );
    gateway.cli(&["queue", "skip", DEVICE])?;
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.2.0");

    // Rollback: back to the built-in version, still without a restart.
    let rollback = ["plugin", "rollback", "debian", "--site", "demo", DEVICE];
    let rows = queued(&gateway, &database, &rollback)?;
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str(), rows[0].2.as_str()),
        ("rollback-plugin", "succeeded", "plug-in debian rolled back to 0.1.0 (built-in) (was 0.2.0 (delivered))")
    );
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.1.0");
    assert!(agent.child.try_wait()?.is_none(), "the agent never stopped");
    assert_eq!(gateway.agent_log(DEVICE).matches("gateway acknowledged Hello").count(), 1, "one agent start");

    // A second rollback goes forward again, and a restart serves what was selected last.
    let rows = queued(&gateway, &database, &rollback)?;
    assert_eq!(rows[0].2, "plug-in debian rolled back to 0.2.0 (delivered) (was 0.1.0 (built-in))");
    agent.child.kill()?;
    agent.child.wait()?;
    let _agent = gateway.start_agent_with(DEVICE, &root, &trusted_arg)?;
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.2.0");

    // A stored version is immutable: the same bundle again changes nothing;
    // other bytes (here a changed manifest, validly signed) under 0.2.0 are refused.
    assert_eq!(queued(&gateway, &database, &install)?[0].2, "plug-in debian 0.2.0 is already serving");
    let edited = dir.path().join("edited");
    run(Command::new("cp").arg("-r").arg(&upgrade).arg(&edited))?;
    let manifest = std::fs::read_to_string(edited.join("manifest.toml"))?;
    std::fs::write(edited.join("manifest.toml"), format!("# edited after release\n{manifest}"))?;
    tool(&["sign", "--key", vendor.to_str().unwrap(), edited.to_str().unwrap()])?;
    let rows = queued(&gateway, &database, &["plugin", "install", edited.to_str().unwrap(), "--site", "demo", DEVICE])?;
    assert_eq!(rows[0].1, "failed");
    assert!(rows[0].2.contains("holds a different bundle under that version"), "{}", rows[0].2);
    gateway.cli(&["queue", "skip", DEVICE])?;
    all_ran_on(&queued(&gateway, &database, &provision)?, "debian 0.2.0");
    Ok(())
}

#[test]
fn a_delivered_v1_network_plugin_switches_an_interface_from_static_to_dhcp() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let (vendor, trusted) = vendor_key(dir.path())?;
    let network = bundle(dir.path(), "network", &vendor)?;

    // A Debian device with ifupdown.
    let root = dir.path().join(DEVICE);
    prepare_root(&root)?;
    std::fs::create_dir_all(root.join("etc/network"))?;
    std::fs::write(root.join("etc/debian_version"), "12.8\n")?;
    std::fs::write(root.join("etc/network/interfaces"), "source /etc/network/interfaces.d/*\n")?;
    gateway.register(DEVICE, "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent_with(DEVICE, &root, &["--trusted-keys", trusted.to_str().unwrap()])?;

    let script = dir.path().join("network.toml");
    std::fs::write(
        &script,
        "site = \"demo\"\nname = \"renumber\"\n\
         [[steps]]\nkind = \"network\"\ninterface = \"eth0\"\naddress = \"192.0.2.10/24\"\n\
         gateway = \"192.0.2.1\"\ndns = [\"192.0.2.53\"]\n\
         [[steps]]\nkind = \"network\"\ninterface = \"eth0\"\n",
    )?;
    gateway.cli(&["script", "import", script.to_str().unwrap()])?;
    // Before the plug-in is there, the gateway says what is missing.
    let run = ["script", "run", "renumber", "--site", "demo", DEVICE];
    gateway.reported(DEVICE)?;
    let refused = format!("{:#}", gateway.cli(&run).unwrap_err());
    assert!(refused.contains("no plug-in of its agent handles `network` changes"), "{refused}");

    let install = ["plugin", "install", network.to_str().unwrap(), "--site", "demo", DEVICE];
    assert_eq!(queued(&gateway, &database, &install)?[0].2, "plug-in network 0.1.0 installed and serving (was none)");
    let rows = queued(&gateway, &database, &run)?;
    let results: Vec<&str> = rows
        .iter()
        .map(|(_, state, result)| {
            assert_eq!(state, "succeeded", "{result}");
            result.as_str()
        })
        .collect();
    assert_eq!(
        results,
        ["network 0.1.0: eth0 set to static 192.0.2.10/24 (ifupdown)", "network 0.1.0: eth0 set to DHCP (ifupdown)"]
    );
    let stanza = std::fs::read_to_string(root.join("etc/network/interfaces.d/outfit-eth0"))?;
    assert!(stanza.ends_with("auto eth0\niface eth0 inet dhcp\n"), "{stanza}");

    // Invalid steps never reach a device: the import refuses them.
    std::fs::write(
        &script,
        "site = \"demo\"\nname = \"bad\"\n[[steps]]\nkind = \"network\"\ninterface = \"eth0\"\naddress = \"192.0.2.300/24\"\n",
    )?;
    let refused = gateway.cli(&["script", "import", script.to_str().unwrap()]).unwrap_err();
    assert!(format!("{refused:#}").contains("step 1: `192.0.2.300` is not an IPv4 address"), "{refused:#}");
    Ok(())
}

#[test]
fn a_delivered_files_plugin_gives_a_configuration_file_its_mode_and_the_devices_owner() -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let (vendor, trusted) = vendor_key(dir.path())?;
    let files = bundle(dir.path(), "files", &vendor)?;

    // The device's own users: `web` is 4711 there, whatever this machine has.
    let root = dir.path().join(DEVICE);
    prepare_root(&root)?;
    std::fs::create_dir_all(root.join("etc"))?;
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\nweb:x:4711:4711::/srv:/bin/false\n")?;
    std::fs::write(root.join("etc/group"), "root:x:0:\nweb:x:4711:\nadm:x:4:\n")?;
    gateway.register(DEVICE, "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent_with(DEVICE, &root, &["--trusted-keys", trusted.to_str().unwrap()])?;

    std::fs::write(dir.path().join("app.conf.j2"), "listen={{ port }}\n")?;
    let script = dir.path().join("secret.toml");
    std::fs::write(
        &script,
        "site = \"demo\"\nname = \"secret\"\n[[steps]]\nkind = \"configure\"\ncomponent = \"app\"\n\
         path = \"/etc/app/app.conf\"\ntemplate = \"app.conf.j2\"\nparameters = { port = \"8443\" }\n\
         mode = \"640\"\nowner = \"web\"\ngroup = \"adm\"\n",
    )?;
    gateway.cli(&["script", "import", script.to_str().unwrap()])?;
    let run = ["script", "run", "secret", "--site", "demo", DEVICE];
    // The agent reports only its built-in Debian plug-in (world 0.1.0), which
    // cannot set owners: the gateway refuses to queue the step and says why.
    let shown = gateway.reported(DEVICE)?;
    assert!(
        shown.contains("\nplugin: debian 0.1.0 outfit:plugin/os-plugin-world@0.1.0 [deb, install, remove, configure]"),
        "{shown}"
    );
    let commands = database.scalar("SELECT COUNT(*) FROM commands")?;
    let refused = gateway.cli(&run).unwrap_err();
    let message = format!("{refused:#}");
    assert!(message.contains(&format!("`configure` command for device `{DEVICE}` refused")), "{message}");
    assert!(message.contains("no plug-in of its agent sets file modes and owners"), "{message}");
    assert!(message.contains("plugin install"), "{message}");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, commands, "nothing was queued");
    // A step that names a plug-in the device does not have is refused as well.
    let pinned = |plugin: &str, path: &str| -> Result<()> {
        let file = dir.path().join(format!("{plugin}.toml"));
        std::fs::write(
            &file,
            format!(
                "site = \"demo\"\nname = \"by-{plugin}\"\n[[steps]]\nkind = \"configure\"\ncomponent = \"app\"\n\
                 path = \"{path}\"\ntemplate = \"app.conf.j2\"\nparameters = {{ port = \"1\" }}\nplugin = \"{plugin}\"\n"
            ),
        )?;
        gateway.cli(&["script", "import", file.to_str().unwrap()])?;
        Ok(())
    };
    pinned("files", "/etc/app/by-files.conf")?;
    pinned("debian", "/etc/app/by-debian.conf")?;
    let by = |plugin: &'static str| ["script", "run", plugin, "--site", "demo", DEVICE];
    let refused = format!("{:#}", gateway.cli(&by("by-files")).unwrap_err());
    assert!(refused.contains("names plug-in files, which its agent does not have"), "{refused}");

    let install = ["plugin", "install", files.to_str().unwrap(), "--site", "demo", DEVICE];
    assert_eq!(queued(&gateway, &database, &install)?[0].2, "plug-in files 0.1.0 installed and serving (was none)");
    // The agent reported the delivery before its result: the step is queued now.
    let shown = gateway.cli(&["device", "show", DEVICE])?;
    assert!(shown.contains("\nplugin: files 0.1.0 outfit:plugin/os-plugin@1.1.0 [configure"), "{shown}");
    let rows = queued(&gateway, &database, &run)?;
    assert_eq!(rows[0].1, "succeeded", "{}", rows[0].2);
    assert!(rows[0].2.starts_with("files 0.1.0: wrote /etc/app/app.conf: create"), "{}", rows[0].2);
    let conf = root.join("etc/app/app.conf");
    let meta = std::fs::metadata(&conf)?;
    assert_eq!(std::fs::read_to_string(&conf)?, "listen=8443\n");
    assert_eq!((meta.mode() & 0o777, meta.uid(), meta.gid()), (0o640, 4711, 4));
    // Named by the step, each plug-in serves it: debian although files is newer.
    for (script, plugin) in [("by-files", "files"), ("by-debian", "debian")] {
        let rows = queued(&gateway, &database, &by(script))?;
        assert_eq!(rows[0].1, "succeeded", "{}", rows[0].2);
        assert!(rows[0].2.starts_with(&format!("{plugin} 0.1.0: ")), "{}", rows[0].2);
    }
    assert_eq!(std::fs::read_to_string(root.join("etc/app/by-debian.conf"))?, "listen=1\n");

    // A bad mode never reaches a device.
    std::fs::write(&script, std::fs::read_to_string(&script)?.replace("\"640\"", "\"4755\""))?;
    let refused = gateway.cli(&["script", "import", script.to_str().unwrap()]).unwrap_err();
    assert!(format!("{refused:#}").contains("step 1: mode `4755` is not octal permission bits"), "{refused:#}");
    Ok(())
}

#[test]
fn a_v1_2_plugin_fetches_a_package_of_its_devices_model_and_nothing_else() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
    let model_dir = dir.path().join("model");
    gateway.import_demo_model(&model_dir)?;
    // Another site's model holds the same package under a version the demo
    // model does not have: it exists, but not for this device.
    let demo = std::fs::read_to_string(model_dir.join("model.toml"))?;
    let rival =
        demo.replace("site = \"demo\"", "site = \"rival\"").replace("version = \"2.1.0\"", "version = \"9.9.9\"");
    ensure!(rival.contains("site = \"rival\"") && rival.contains("9.9.9"), "the demo model's lines changed");
    std::fs::write(model_dir.join("rival.toml"), rival)?;
    gateway.cli(&["model", "import", model_dir.join("rival.toml").to_str().unwrap()])?;
    let (vendor, trusted) = vendor_key(dir.path())?;
    let fetcher = bundle(dir.path(), "fetcher", &vendor)?;

    let root = dir.path().join(DEVICE);
    prepare_root(&root)?;
    gateway.register(DEVICE, "webserver", "demo", "127.0.0.1")?;
    let _agent = gateway.start_agent_with(DEVICE, &root, &["--trusted-keys", trusted.to_str().unwrap()])?;
    let install = ["plugin", "install", fetcher.to_str().unwrap(), "--site", "demo", DEVICE];
    assert_eq!(queued(&gateway, &database, &install)?[0].2, "plug-in fetcher 0.1.0 installed and serving (was none)");

    // A configure step for the fetcher: its template names the packages.
    let fetch = |name: &str, packages: &str| -> Result<Vec<(String, String, String)>> {
        std::fs::write(dir.path().join(format!("{name}.list")), packages)?;
        let script = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &script,
            format!(
                "site = \"demo\"\nname = \"{name}\"\n[[steps]]\nkind = \"configure\"\ncomponent = \"web\"\n\
                 path = \"/etc/fetched/{name}\"\ntemplate = \"{name}.list\"\nparameters = {{}}\n"
            ),
        )?;
        gateway.cli(&["script", "import", script.to_str().unwrap()])?;
        queued(&gateway, &database, &["script", "run", name, "--site", "demo", DEVICE])
    };

    // A package of the device's model: located, downloaded, verified, and
    // the bytes the plug-in hashed are the ones the model holds.
    let rows = fetch("ours", "outfit-demo-app 2.1.0\noutfit-demo-os 1.0.0\n")?;
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("succeeded", "fetcher 0.1.0: fetched 2 package(s) into /etc/fetched/ours")
    );
    let digest = |name: &str, version: &str| {
        database.scalar(&format!(
            "SELECT sha256 FROM components WHERE package_name = '{name}' AND package_version = '{version}' \
             AND site_id = (SELECT id FROM sites WHERE name = 'demo')"
        ))
    };
    assert_eq!(
        std::fs::read_to_string(root.join("etc/fetched/ours"))?,
        format!(
            "outfit-demo-app 2.1.0 deb {}\noutfit-demo-os 1.0.0 deb {}\n",
            digest("outfit-demo-app", "2.1.0")?,
            digest("outfit-demo-os", "1.0.0")?
        )
    );

    // Another site's package: the gateway refuses to say where it is.
    let rows = fetch("theirs", "outfit-demo-app 9.9.9\n")?;
    assert_eq!(rows[0].1, "failed");
    assert!(
        rows[0].2.contains("fetch outfit-demo-app 9.9.9: gateway refused LocatePackage")
            && rows[0].2.contains("package outfit-demo-app 9.9.9 is no component of the model of `plug-1`"),
        "{}",
        rows[0].2
    );
    gateway.cli(&["queue", "skip", DEVICE])?;
    // A name outside the manifest's grant: refused by the agent, the gateway is never asked.
    let rows = fetch("ungranted", "openssl 3.0.0\n")?;
    assert_eq!(rows[0].1, "failed");
    assert!(rows[0].2.contains("fetching package `openssl` is not granted by the plug-in's manifest"), "{}", rows[0].2);
    gateway.cli(&["queue", "skip", DEVICE])?;
    assert!(!root.join("etc/fetched/theirs").exists() && !root.join("etc/fetched/ungranted").exists());

    let located: Vec<String> = database
        .query("SELECT answer FROM exchanges WHERE operation = 'LocatePackage' ORDER BY id")?
        .lines()
        .map(|a| a.split('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(located, ["package:", "package:", "NotEntitled"]);
    Ok(())
}
