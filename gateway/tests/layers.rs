//! The gateway's layers, enforced (ARCHITECTURE.md, "Layers"): what each
//! crate may depend on, read from Cargo's own metadata, and the imports the
//! crate graph cannot see (the app may use the network contract's bundle
//! format and certificate roles, never its SOAP messages).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("gateway/ is in the workspace").to_owned()
}

/// Each workspace crate's normal (not dev) dependencies, by crate name.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace())
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let normal = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("a name").to_owned())
            .collect();
        crates.insert(package["name"].as_str().expect("a name").to_owned(), normal);
    }
    crates
}

fn ours(deps: &BTreeSet<String>) -> BTreeSet<&str> {
    deps.iter().map(String::as_str).filter(|d| d.starts_with("outfit-")).collect()
}

#[test]
fn each_layer_depends_only_on_the_layers_below_it() {
    let crates = dependencies();
    let deps = |name: &str| crates.get(name).unwrap_or_else(|| panic!("crate {name} is in the workspace"));
    assert_eq!(ours(deps("outfit-domain")), BTreeSet::new(), "the domain imports nothing of ours");
    assert_eq!(ours(deps("outfit-store")), BTreeSet::from(["outfit-domain"]));
    assert_eq!(ours(deps("outfit-files")), BTreeSet::new(), "the file formats import nothing of ours");
    assert_eq!(
        ours(deps("outfit-app")),
        BTreeSet::from(["outfit-domain", "outfit-files", "outfit-store", "outfit-wsdl"])
    );
    assert_eq!(
        ours(deps("outfit-gateway")),
        BTreeSet::from(["outfit-app", "outfit-console", "outfit-domain", "outfit-wsdl"])
    );
    assert_eq!(
        ours(deps("outfit-console")),
        BTreeSet::from(["outfit-app", "outfit-domain"]),
        "the console is an edge over the use cases: no store, no wire types"
    );
    assert_eq!(
        ours(deps("outfit-cli")),
        BTreeSet::from(["outfit-files", "outfit-wsdl"]),
        "the CLI speaks the operator API only (and reads the files operators write)"
    );
    assert_eq!(
        ours(deps("outfit-fileserver")),
        BTreeSet::from(["outfit-wsdl"]),
        "a file server asks a gateway; it never reads the database"
    );
    for (name, deps) in &crates {
        let sql = deps.iter().any(|d| d.starts_with("diesel") || d == "libsqlite3-sys");
        assert_eq!(sql, name == "outfit-store", "{name}: only the store may depend on diesel");
    }
    for io in ["tokio", "hyper", "diesel", "rustls", "yaserde"] {
        assert!(!deps("outfit-domain").contains(io), "the domain does no I/O, yet depends on {io}");
    }
}

/// The CLI's and the file server's whole dependency trees (not only their
/// direct dependencies) hold no database code: they reach the database only
/// through a gateway.
#[test]
fn the_cli_and_the_file_server_have_no_database_in_their_trees() {
    for package in ["outfit-cli", "outfit-fileserver"] {
        let out = std::process::Command::new(env!("CARGO"))
            .args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--offline"])
            .current_dir(workspace())
            .output()
            .expect("run cargo tree");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8_lossy(&out.stdout);
        assert!(tree.contains("outfit-wsdl"), "{tree}");
        for forbidden in ["diesel", "libsqlite3-sys", "mysqlclient-sys", "outfit-store", "outfit-app"] {
            assert!(!tree.lines().any(|l| l.starts_with(forbidden)), "{package} depends on {forbidden}:\n{tree}");
        }
    }
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            found.push((path, text));
        }
    }
    found
}

#[test]
fn soap_types_stop_at_the_edge() {
    let app = workspace().join("gateway/app/src");
    for (path, text) in sources(&app) {
        for forbidden in
            ["outfit_wsdl::envelope", "outfit_wsdl::messages", "outfit_wsdl::operator", "outfit_wsdl::transport"]
        {
            assert!(!text.contains(forbidden), "{} uses {forbidden}: the app takes no wire types", path.display());
        }
    }
    for dir in ["gateway/src", "gateway/console/src"] {
        for (path, text) in sources(&workspace().join(dir)) {
            assert!(!text.contains("outfit_store"), "{} reaches the store around the use cases", path.display());
        }
    }
}
