//! The queue across failures: a gateway killed between handing out a command and
//! receiving its result loses nothing and runs nothing twice; a forged poke runs
//! nothing.

use anyhow::{Result, ensure};
use outfit_tests::proxy::Proxy;
use outfit_tests::{Database, Gateway, installed_packages, wait_for};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

/// `n` agents have started: said Hello and sent the inventory of their start.
fn hello_done(database: &Database, n: usize) -> impl FnMut() -> Result<Option<()>> + '_ {
    move || {
        let hello = database.scalar("SELECT COUNT(*) FROM devices WHERE poke_url IS NOT NULL")? == n.to_string();
        let inventory = database.scalar("SELECT COUNT(DISTINCT device_id) FROM inventories")? == n.to_string();
        Ok((hello && inventory).then_some(()))
    }
}

/// A gateway with the demo model and one agent that reaches it through a proxy
/// the test controls; the agent has said Hello. Bind `dir` and `agent` to names
/// (not `_`): dropping them removes the roots and kills the agent.
struct OneAgent {
    dir: tempfile::TempDir,
    database: Database,
    gateway: Gateway,
    proxy: Proxy,
    root: std::path::PathBuf,
    via: String,
    agent: outfit_tests::Process,
}

fn one_agent_behind_a_proxy(on_mariadb: bool, name: &str) -> Result<OneAgent> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = if on_mariadb {
        let database = Database::mariadb()?;
        let gateway = Gateway::start(&dir.path().join("gateway"), &database)?;
        (database, gateway)
    } else {
        Gateway::start_on_sqlite(dir.path())?
    };
    gateway.import_demo_model(&dir.path().join("model"))?;
    let proxy = Proxy::start(gateway.socket_addr());
    let root = dir.path().join("root");
    let via = format!("https://127.0.0.1:{}", proxy.addr.port());
    let agent = gateway.add_agent_via(name, "webserver", "demo", &root, &via)?;
    wait_for(Duration::from_secs(60), "Hello", hello_done(&database, 1))?;
    Ok(OneAgent { dir, database, gateway, proxy, root, via, agent })
}

#[test]
fn gateway_killed_between_hand_out_and_result_loses_nothing_and_runs_nothing_twice() -> Result<()> {
    let OneAgent { dir: _dir, database, mut gateway, proxy, root, agent: _agent, .. } =
        one_agent_behind_a_proxy(true, "crash-1")?;

    let inode = run_first_command_and_hold_its_report(&proxy, &gateway, &root)?;
    assert_eq!(database.scalar("SELECT state FROM commands WHERE sequence = 1")?, "sent");

    // kill -9 the gateway, drop the report in flight, start a new gateway process.
    gateway.crash_and_restart()?;
    proxy.retarget(gateway.socket_addr());
    assert_eq!(proxy.drop_held(), 1);
    proxy.pass();

    // Not lost, not run twice: command 1 was handed out once and its result
    // re-sent from the agent's journal; dpkg did not unpack it again.
    assert_exactly_once(&database, &root, inode)?;
    let reports = database.scalar(
        "SELECT COUNT(*) FROM exchanges WHERE operation = 'ReportResult' AND device_id = (SELECT id FROM devices WHERE name = 'crash-1')",
    )?;
    assert_eq!(reports, "6", "the lost report reached only the dead gateway, so the new one saw each result once");
    Ok(())
}

/// Holds the agent's exchanges so that command 1 has run but its result has not
/// reached the gateway; returns the inode of a file the command installed.
fn run_first_command_and_hold_its_report(proxy: &Proxy, gateway: &Gateway, root: &std::path::Path) -> Result<u64> {
    proxy.hold();
    gateway.cli(&["provision", "crash-1"])?;
    for step in ["NextCommand", "package download"] {
        ensure!(proxy.wait_held(1, Duration::from_secs(30)), "agent never opened the {step} connection");
        proxy.release(1);
    }
    ensure!(proxy.wait_held(1, Duration::from_secs(30)), "agent never tried to report");
    assert_eq!(installed_packages(root)?, ["outfit-demo-os 1.0.0"]);
    Ok(std::fs::metadata(root.join("usr/share/outfit-demo/os/README"))?.ino())
}

/// Every command succeeded once, in order, and command 1 was not run again.
fn assert_exactly_once(database: &Database, root: &std::path::Path, inode: u64) -> Result<()> {
    wait_for(Duration::from_secs(60), "the queue to finish", || {
        let done = database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")?;
        let failed = database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'failed'")?;
        ensure!(failed == "0", "{}", database.query("SELECT sequence, result FROM commands")?);
        Ok((done == "6").then_some(()))
    })?;
    assert_eq!(
        database.query("SELECT sequence, state, attempts FROM commands ORDER BY sequence")?,
        (1..=6).map(|n| format!("{n}\tsucceeded\t1\n")).collect::<String>()
    );
    let file = root.join("usr/share/outfit-demo/os/README");
    assert_eq!(std::fs::metadata(file)?.ino(), inode, "the package was installed twice");
    assert_eq!(installed_packages(root)?.len(), 3);
    Ok(())
}

#[test]
fn agent_killed_before_reporting_resends_its_result_after_restart() -> Result<()> {
    let OneAgent { dir: _dir, database, gateway, proxy, root, via, agent } =
        one_agent_behind_a_proxy(false, "crash-1")?;
    let inode = run_first_command_and_hold_its_report(&proxy, &gateway, &root)?;

    // kill -9 the agent while its report is in flight, then start it again.
    drop(agent);
    proxy.drop_held();
    proxy.pass();
    assert_eq!(database.scalar("SELECT state FROM commands WHERE sequence = 1")?, "sent");
    let _agent = gateway.start_agent("crash-1", &root, &via)?;
    assert_exactly_once(&database, &root, inode)
}

#[test]
fn forged_poke_runs_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    let root = dir.path().join("root");
    let _agent = gateway.add_agent("target-1", "webserver", "demo", &root)?;
    wait_for(Duration::from_secs(60), "Hello", hello_done(&database, 1))?;
    let asked = || database.scalar("SELECT COUNT(*) FROM exchanges WHERE operation = 'NextCommand'");
    wait_for(Duration::from_secs(30), "the agent's first NextCommand", || Ok((asked()? != "0").then_some(())))?;
    let before: u32 = asked()?.parse()?;

    // Someone who is not the gateway pokes the agent (they only need to reach its port).
    use outfit_wsdl::transport::{Identity, client_config, soap_call};
    let poke_url = database.scalar("SELECT poke_url FROM devices WHERE name = 'target-1'")?;
    let ca = gateway.dir.join("ca.pem");
    let endpoint = outfit_wsdl::transport::Endpoint::parse(&poke_url)?;
    let envelope = || {
        outfit_wsdl::envelope::encode(outfit_wsdl::envelope::Body {
            poke: Some(outfit_wsdl::messages::Poke { gateway: "evil-gateway".into() }),
            ..Default::default()
        })
    };
    let runtime = tokio::runtime::Runtime::new()?;
    // Without a client certificate of the gateway's CA the agent refuses the handshake.
    let anonymous = runtime.block_on(soap_call(&client_config(&ca, None)?, &endpoint, "Poke", envelope()));
    assert!(anonymous.is_err(), "a poke without a client certificate must be refused: {anonymous:?}");
    // Another enrolled device of the same CA gets through the handshake but
    // is refused: its certificate does not name the gateway's role.
    gateway.cli(&["device", "add", "forger", "--site", "demo", "--model", "webserver"])?;
    let token = gateway.token("forger", "demo", "127.0.0.1")?;
    let forger = dir.path().join("forger");
    std::fs::create_dir_all(&forger)?;
    let (enrolled, stderr) = gateway.enrol("forger", "demo", &token, &forger)?;
    assert!(enrolled, "{stderr}");
    let (cert, key) = (forger.join("identity/cert.pem"), forger.join("identity/key.pem"));
    let forger_tls = client_config(&ca, Some(Identity { cert: &cert, key: &key }))?;
    let refused = runtime.block_on(soap_call(&forger_tls, &endpoint, "Poke", envelope()))?;
    let refused = String::from_utf8_lossy(&refused);
    assert!(refused.contains("Forbidden") && refused.contains("only the gateway may poke"), "{refused}");
    // Even a poke the agent accepts carries nothing it trusts: sent with the
    // gateway's own certificate but claiming another gateway, it makes the
    // agent ask its own gateway, which has nothing for it.
    let (cert, key) = (gateway.dir.join("server.pem"), gateway.dir.join("server.key"));
    let gateway_tls = client_config(&ca, Some(Identity { cert: &cert, key: &key }))?;
    runtime.block_on(soap_call(&gateway_tls, &endpoint, "Poke", envelope()))?;

    // The agent asks its own gateway over a new connection and is told there is nothing.
    wait_for(Duration::from_secs(30), "the agent to ask its gateway", || {
        Ok((asked()?.parse::<u32>()? > before).then_some(()))
    })?;
    assert_eq!(database.scalar("SELECT answer FROM exchanges ORDER BY id DESC LIMIT 1")?, "noCommand");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands")?, "0");
    assert!(installed_packages(&root)?.is_empty());
    Ok(())
}

#[test]
fn reboot_in_the_middle_of_a_queue_waits_for_the_new_boot_then_resumes() -> Result<()> {
    // The agent manages a root directory, so its reboot restarts the agent as a new boot.
    let OneAgent { dir: _dir, database, gateway, proxy, root, agent: _agent, .. } =
        one_agent_behind_a_proxy(true, "rb-1")?;
    let boot_before = database.scalar("SELECT boot_id FROM devices WHERE name = 'rb-1'")?;

    // Queue: 6 provisioning commands, a reboot, 6 more (provisioning again is harmless).
    proxy.hold();
    gateway.cli(&["provision", "rb-1"])?;
    gateway.cli(&["queue", "reboot", "rb-1"])?;
    gateway.cli(&["provision", "rb-1"])?;
    assert_eq!(database.scalar("SELECT kind FROM commands WHERE sequence = 7")?, "reboot");

    // Let exchanges through one by one until the agent has reported the reboot.
    wait_for(Duration::from_secs(60), "the reboot to be under way", || {
        if database.scalar("SELECT state FROM commands WHERE sequence = 7")? == "rebooting" {
            return Ok(Some(()));
        }
        if proxy.wait_held(1, Duration::from_millis(200)) {
            proxy.release(1);
        }
        Ok(None)
    })?;
    // The rebooted agent's Hello is held: the gateway hands out nothing meanwhile.
    ensure!(proxy.wait_held(1, Duration::from_secs(30)), "the agent did not come back");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")?, "6");
    assert_eq!(database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'pending'")?, "6");
    let answer = database.scalar("SELECT answer FROM exchanges ORDER BY id DESC LIMIT 1")?;
    assert_eq!(answer, "noCommand:rebooting", "after RebootUnderway the queue waits");

    proxy.pass();
    wait_for(Duration::from_secs(60), "the queue to resume and finish", || {
        Ok((database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")? == "13").then_some(()))
    })?;
    let boot_after = database.scalar("SELECT boot_id FROM devices WHERE name = 'rb-1'")?;
    assert_ne!(boot_before, boot_after);
    let result = database.scalar("SELECT result FROM commands WHERE sequence = 7")?;
    assert!(result.contains(&format!("{boot_before} -> {boot_after}")), "{result}");
    // In order: nothing after the reboot finished before the reboot did.
    let order = database.scalar(
        "SELECT COUNT(*) FROM commands a JOIN commands b ON a.device_id = b.device_id \
         WHERE a.sequence < b.sequence AND a.finished_at > b.finished_at",
    )?;
    assert_eq!(order, "0");
    assert_eq!(installed_packages(&root)?.len(), 3);
    Ok(())
}

#[test]
fn two_gateways_on_one_database_serve_the_same_agents_without_running_anything_twice() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let first = Gateway::start(&dir.path().join("gateway"), &database)?;
    first.import_demo_model(&dir.path().join("model"))?;
    let second = first.start_peer(&dir.path().join("gateway-2"))?;
    // One proxy per agent sends each of its new connections to the other
    // gateway: every agent's exchanges alternate. (A proxy shared by all agents
    // could fall into lockstep and send one agent always to the same gateway.)
    let names = ["pair-1", "pair-2", "pair-3"];
    let mut agents = Vec::new();
    let mut proxies = Vec::new();
    for name in names {
        let proxy = Proxy::round_robin(vec![first.socket_addr(), second.socket_addr()]);
        let via = format!("https://127.0.0.1:{}", proxy.addr.port());
        agents.push(first.add_agent_via(name, "webserver", "demo", &dir.path().join("roots").join(name), &via)?);
        proxies.push(proxy);
    }
    wait_for(Duration::from_secs(60), "Hello", hello_done(&database, 3))?;
    first.cli(&["provision", names[0], names[1]])?;
    second.cli(&["provision", names[2]])?;
    wait_for(Duration::from_secs(90), "every queue to finish", || {
        let failed = database.scalar(
            "SELECT COUNT(*) FROM commands WHERE state <> 'succeeded' AND state <> 'pending' AND state <> 'sent'",
        )?;
        ensure!(failed == "0", "{}", database.query("SELECT device_id, sequence, state, result FROM commands")?);
        Ok((database.scalar("SELECT COUNT(*) FROM commands WHERE state = 'succeeded'")? == "18").then_some(()))
    })?;
    // Each command was handed out exactly once, and both gateways served every device.
    assert_eq!(database.scalar("SELECT MAX(attempts) FROM commands")?, "1");
    assert_eq!(
        database.query(
            "SELECT COUNT(DISTINCT gateway_instance) FROM exchanges WHERE device_id IS NOT NULL GROUP BY device_id"
        )?,
        "2\n2\n2\n"
    );
    for name in names {
        assert_eq!(installed_packages(&dir.path().join("roots").join(name))?.len(), 3, "{name}");
    }
    Ok(())
}

/// An agent given two gateways (`--gateway A,B`) that share a database keeps
/// working when A dies: its calls go to B, which also pokes it, and the
/// queue finishes with every command run once.
#[test]
fn an_agent_given_two_gateways_fails_over_when_one_dies() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let database = Database::mariadb()?;
    let mut first = Gateway::start(&dir.path().join("gateway"), &database)?;
    first.import_demo_model(&dir.path().join("model"))?;
    let second = first.start_peer(&dir.path().join("gateway-2"))?;
    let root = dir.path().join("roots/fail-1");
    let both = format!("{},{}", first.url, second.url);
    let _agent = first.add_agent_via("fail-1", "webserver", "demo", &root, &both)?;
    wait_for(Duration::from_secs(60), "Hello", hello_done(&database, 1))?;

    first.process.child.kill()?;
    first.process.child.wait()?;
    second.cli(&["provision", "fail-1"])?;
    wait_for(Duration::from_secs(90), "the queue to finish through the second gateway", || {
        let open = database.scalar("SELECT COUNT(*) FROM commands WHERE state <> 'succeeded'")?;
        ensure!(!open.is_empty());
        Ok((open == "0").then_some(()))
    })?;
    assert_eq!(installed_packages(&root)?.len(), 3);
    assert_eq!(database.scalar("SELECT MAX(attempts) FROM commands")?, "1", "each command went out once");
    let log = first.agent_log("fail-1");
    assert!(log.contains("gateway unavailable; trying the next one"), "{log}");
    assert!(log.contains("now talking to this gateway"), "{log}");
    Ok(())
}
