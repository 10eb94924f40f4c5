//! WIT 1.2's `fetch` in the real host with a real component (the `fetcher`
//! fixture): the manifest's grant is checked before the agent is asked at
//! all, what the agent's repository returns reaches the plug-in, its errors
//! reach the operator, and a call without a repository fails cleanly. The
//! gateway's side (entitlement, download, digest) is `tests/e2e/plugins.rs`.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::{CallContext, ConfigFile, PackageFile, Plugin, Repository};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

include!("../wasm_plugin.rs");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn fetcher() -> Plugin {
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "fetcher")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/fetcher/manifest.toml")).unwrap();
    Plugin::load(&wasm, &manifest, None).unwrap()
}

fn report(packages: &str) -> ConfigFile {
    ConfigFile { path: "/etc/fetched/report".into(), template: packages.into(), parameters: Vec::new() }
}

/// A repository that serves files already in the spool and records every request.
fn local_repository(spool: &Path, asked: Arc<Mutex<Vec<String>>>) -> Repository {
    let spool = spool.to_owned();
    Repository::new(move |name, version| {
        asked.lock().unwrap().push(format!("{name} {version}"));
        let path = spool.join(format!("{name}_{version}.deb"));
        if !path.exists() {
            return Err(format!(
                "gateway refused LocatePackage: NotEntitled: package {name} {version} is no component"
            ));
        }
        Ok(PackageFile {
            name: name.into(),
            version: version.into(),
            format: "deb".into(),
            path: path.display().to_string(),
        })
    })
}

#[test]
fn a_plugin_fetches_only_what_its_manifest_grants_and_gets_what_the_agent_verified() {
    let root = tempfile::tempdir().unwrap();
    let spool = root.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join("outfit-demo-app_2.1.0.deb"), b"the package's bytes").unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let ctx = CallContext {
        device: "fetch-1".into(),
        command: "9".into(),
        root: root.path().to_owned(),
        spool: spool.clone(),
        repository: Some(local_repository(&spool, asked.clone())),
    };
    let plugin = fetcher();

    let done = plugin.configure(&ctx, &report("outfit-demo-app 2.1.0\n")).unwrap().unwrap();
    assert_eq!(done, "fetched 1 package(s) into /etc/fetched/report");
    // sha256 of "the package's bytes", as sha256sum saw the file the plug-in was given.
    let written = std::fs::read_to_string(root.path().join("etc/fetched/report")).unwrap();
    let expected = outfit_agent_sha256(b"the package's bytes");
    assert_eq!(written, format!("outfit-demo-app 2.1.0 deb {expected}\n"));

    // Not granted by the manifest: refused before the repository is asked.
    let refused = plugin.configure(&ctx, &report("openssh-server 1:9.2\n")).unwrap().unwrap_err();
    assert!(
        refused.contains("fetching package `openssh-server` is not granted by the plug-in's manifest"),
        "{refused}"
    );
    // Granted, but the gateway says no: its reason reaches the operator.
    let refused = plugin.configure(&ctx, &report("outfit-demo-secret 1.0\n")).unwrap().unwrap_err();
    assert!(refused.contains("fetch outfit-demo-secret 1.0: gateway refused LocatePackage: NotEntitled"), "{refused}");
    assert_eq!(*asked.lock().unwrap(), ["outfit-demo-app 2.1.0", "outfit-demo-secret 1.0"]);

    // Without a repository (no gateway) the plug-in gets an error, not a trap.
    let offline = CallContext { repository: None, ..ctx };
    let refused = plugin.configure(&offline, &report("outfit-demo-app 2.1.0\n")).unwrap().unwrap_err();
    assert!(refused.contains("this call has no repository"), "{refused}");
}

#[test]
fn only_a_world_1_2_manifest_may_grant_fetch() {
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "files")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/files/manifest.toml")).unwrap();
    let granted = manifest.replace("owners = true", "owners = true\nfetch = [\"*\"]");
    assert_ne!(granted, manifest);
    let refused = Plugin::load(&wasm, &granted, None).unwrap_err().to_string();
    assert!(refused.contains("grants `fetch`, which only world `outfit:plugin/os-plugin@1.2.0` has"), "{refused}");
}

fn outfit_agent_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Through the agent's executor: a fetch that cannot reach the gateway leaves
/// the command to run again later (`Unavailable`) instead of failing it and
/// halting the queue; a fetch the manifest refuses still fails it.
#[tokio::test(flavor = "multi_thread")]
async fn a_fetch_that_cannot_reach_the_gateway_leaves_the_command_to_run_again() {
    use outfit_agent::client::GatewayClient;
    use outfit_agent::execute::{Execution, Executor};
    use outfit_agent::plugin::set::{Loader, PluginSet};
    use outfit_wsdl::messages::{Command, CommandKind, ConfigFile as WireConfig, Outcome};

    let root = tempfile::tempdir().unwrap();
    let spool = root.path().join("spool");
    let probe = CallContext {
        device: "fetch-2".into(),
        command: "describe".into(),
        root: root.path().to_owned(),
        spool: spool.clone(),
        repository: None,
    };
    let loader = Loader {
        backend: Default::default(),
        cache: outfit_agent::plugin::cache::CompileCache::new(root.path().join("cache")),
        trusted: Default::default(),
        probe,
    };
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "fetcher")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/fetcher/manifest.toml")).unwrap();
    let fetcher = loader.load(&wasm, &manifest, "test").unwrap();
    let plugins = PluginSet::start(loader, vec![fetcher], Vec::new(), root.path().join("versions"));
    let managed = outfit_agent::inventory::Managed::new(root.path().join("managed"));
    let executor = Executor { plugins: Arc::new(plugins), root: root.path().to_owned(), spool, managed };

    // A gateway address nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let gateways = outfit_agent::client::Gateways::parse(&[format!("https://{closed}")]).unwrap();
    let gateway = GatewayClient::new(Arc::new(tls), Arc::new(gateways), "fetch-2".into());
    let command = |id: &str, packages: &str| Command {
        id: id.into(),
        sequence: 1,
        run: 1,
        kind: Some(CommandKind::Configure),
        configure: Some(WireConfig::new("web", "/etc/fetched/report", packages, Vec::new())),
        ..Command::default()
    };

    match executor.execute(&gateway, &command("1", "outfit-demo-app 2.1.0\n")).await {
        Execution::Unavailable(message) => {
            assert!(message.contains("fetch outfit-demo-app 2.1.0"), "{message}")
        }
        other => panic!("an unreachable gateway should leave the command to run again: {other:?}"),
    }
    match executor.execute(&gateway, &command("2", "openssl 3.0.0\n")).await {
        Execution::Done(Outcome::Failed, message) => assert!(message.contains("not granted"), "{message}"),
        other => panic!("an ungranted fetch fails the command: {other:?}"),
    }
}
