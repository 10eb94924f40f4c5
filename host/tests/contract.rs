//! Contract tests of the plug-ins whose OS cannot exist on this machine
//! (`windows-msi`: msiexec and the registry; `solaris-pkg`: pkgadd, pkgrm,
//! pkginfo). The real components run in the real host with their real
//! manifests; only the programs are replaced by a recording executor
//! ([`Recording`]) that answers as the real tools do. Each test checks the
//! exact argv sequence and the files written under the device root, and that
//! the manifest refuses anything else.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::os::Recording;
use outfit_agent::plugin::v1::{ServiceAction, ServiceChange};
use outfit_agent::plugin::{CallContext, PackageFile, Plugin};
use std::path::{Path, PathBuf};
use std::sync::Arc;

include!("../wasm_plugin.rs");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The plug-in `name` built from `plugins/`, its commands run by `os`.
fn plugin(name: &str, os: &Arc<Recording>) -> Plugin {
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), name)).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins").join(name).join("manifest.toml")).unwrap();
    Plugin::load(&wasm, &manifest, None).unwrap().with_os(os.clone())
}

fn context(root: &Path) -> CallContext {
    CallContext {
        device: "contract".into(),
        command: "7".into(),
        root: root.to_owned(),
        spool: root.join("spool"),
        repository: None,
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

const UNINSTALL: &str = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall";
const UNINSTALL_32: &str = r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall";
const CODE: &str = "{6F1C4C2A-1B6E-4E8A-9C3D-2B7A5E0F9D11}";

/// `reg query … /s` as Windows prints it with one Windows Installer product.
fn registry_with_product() -> String {
    format!(
        "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{CODE}\r\n    \
         DisplayName    REG_SZ    Outfit Web\r\n    DisplayVersion    REG_SZ    2.1.0\r\n    \
         Publisher    REG_SZ    Outfit\r\n\r\n\
         HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\NotAnMsi\r\n    \
         DisplayName    REG_SZ    Hand-installed\r\n"
    )
}

#[test]
fn windows_msi_installs_queries_and_removes_with_msiexec_and_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let msi = ctx.spool.join("3f2a.msi");
    let file = PackageFile {
        name: "Outfit Web".into(),
        version: "2.1.0".into(),
        format: "msi".into(),
        path: msi.display().to_string(),
    };

    // Not installed yet: msiexec /i, which asks for a restart (3010); the
    // registry then lists the product (the second query answers with it).
    let os = Arc::new(
        Recording::new()
            .answer(&["reg", "query", UNINSTALL_32], 1, "")
            .answer(&["msiexec", "/i"], 3010, "")
            .answer_after(&["reg", "query", UNINSTALL], 1, 0, &registry_with_product()),
    );
    let windows = plugin("windows-msi", &os);
    let done = windows.install(&ctx, &file).unwrap().unwrap();
    assert_eq!(done, "installed Outfit Web 2.1.0 (a restart is needed to finish)");
    let msi_path = msi.display().to_string();
    assert_eq!(
        os.runs(),
        [
            argv(&["reg", "query", UNINSTALL, "/s"]),
            argv(&["reg", "query", UNINSTALL_32, "/s"]),
            argv(&["msiexec", "/i", &msi_path, "/qn", "/norestart"]),
            argv(&["reg", "query", UNINSTALL, "/s"]),
            argv(&["reg", "query", UNINSTALL_32, "/s"]),
        ]
    );

    // Installed: query reads it (the non-MSI entry is not a product), install is a
    // no-op, remove uninstalls by product code.
    // Registered for the first four looks (query, two plans, the product-code
    // lookup), gone once msiexec /x ran.
    let os = Arc::new(
        Recording::new()
            .answer(&["reg", "query", UNINSTALL_32], 1, "")
            .answer_after(&["reg", "query", UNINSTALL], 4, 0, "")
            .answer(&["reg", "query", UNINSTALL], 0, &registry_with_product()),
    );
    let windows = plugin("windows-msi", &os);
    let installed = windows.query(&ctx).unwrap().unwrap();
    assert_eq!(
        installed.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect::<Vec<_>>(),
        [("Outfit Web", "2.1.0")]
    );
    assert_eq!(windows.install(&ctx, &file).unwrap().unwrap(), "already as asked; nothing to do");
    assert_eq!(windows.remove(&ctx, "Outfit Web").unwrap().unwrap(), format!("removed Outfit Web {CODE}"));
    assert_eq!(windows.remove(&ctx, "Never There").unwrap().unwrap(), "already as asked; nothing to do");
    let runs = os.runs();
    assert_eq!(
        runs.iter().filter(|r| r[0] == "msiexec").collect::<Vec<_>>(),
        [&argv(&["msiexec", "/x", CODE, "/qn", "/norestart"])]
    );
    assert_eq!(
        runs.len(),
        2 * 6 + 1,
        "six reads of both registry views (query, three plans, the product-code lookup, verify) and one msiexec: {runs:?}"
    );

    // A failing installer is reported with what Windows Installer's code means.
    let os = Arc::new(Recording::new().answer(&["reg", "query"], 1, "").answer(&["msiexec"], 1618, ""));
    let err = plugin("windows-msi", &os).install(&ctx, &file).unwrap().unwrap_err();
    assert_eq!(err, "install Outfit Web: another installation is in progress (1618)");

    // Nothing is written anywhere under the root.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn sc_query(state: &str) -> String {
    format!(
        "\r\nSERVICE_NAME: W3SVC\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n        STATE              : {state}\r\n"
    )
}

#[test]
fn windows_msi_starts_and_disables_services_with_sc() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let query = ["sc", "query", "W3SVC"];
    let qc = ["sc", "qc", "W3SVC"];
    let change = |action| ServiceChange { name: "W3SVC".into(), action };

    // Stopped → sc start → start pending (which counts: sc returns before the service is up).
    let os = Arc::new(Recording::new().answer_after(&query, 1, 0, &sc_query("2  START_PENDING")).answer(
        &query,
        0,
        &sc_query("1  STOPPED"),
    ));
    let windows = plugin("windows-msi", &os);
    assert_eq!(windows.service(&ctx, &change(ServiceAction::Start)).unwrap().unwrap(), "service W3SVC: sc start W3SVC");
    assert_eq!(os.runs(), [argv(&query), argv(&["sc", "start", "W3SVC"]), argv(&query)]);

    // A restart of a stopped service: sc stop says 1062 (not started), which is fine.
    let os = Arc::new(Recording::new().answer(&["sc", "stop"], 1062, "").answer(&query, 0, &sc_query("4  RUNNING")));
    let windows = plugin("windows-msi", &os);
    let done = windows.service(&ctx, &change(ServiceAction::Restart)).unwrap().unwrap();
    assert_eq!(done, "service W3SVC: sc stop W3SVC, sc start W3SVC");

    // Disable: sc config … start= disabled, verified with sc qc.
    let auto = "\r\n        START_TYPE         : 2   AUTO_START\r\n";
    let disabled = "\r\n        START_TYPE         : 4   DISABLED\r\n";
    let os = Arc::new(Recording::new().answer_after(&qc, 1, 0, disabled).answer(&qc, 0, auto));
    let windows = plugin("windows-msi", &os);
    let done = windows.service(&ctx, &change(ServiceAction::Disable)).unwrap().unwrap();
    assert_eq!(done, "service W3SVC: sc config W3SVC start= disabled");
    assert_eq!(os.runs()[1], argv(&["sc", "config", "W3SVC", "start=", "disabled"]));
    // Already disabled: only the look.
    assert_eq!(
        windows.service(&ctx, &change(ServiceAction::Disable)).unwrap().unwrap(),
        "already as asked; nothing to do"
    );
    // Not a service name: refused before sc runs.
    let before = os.runs().len();
    let bad = ServiceChange { name: "/?".into(), action: ServiceAction::Stop };
    assert_eq!(windows.service(&ctx, &bad).unwrap().unwrap_err(), "plan: `/?` is not a Windows service name");
    assert_eq!(os.runs().len(), before);
}

/// `pkginfo -l` with one package installed.
const PKGINFO: &str = "   PKGINST:  OUTFweb\n      NAME:  Outfit web\n  CATEGORY:  application\n      \
                       ARCH:  i386\n   VERSION:  2.1.0,REV=2026.12.01\n    STATUS:  completely installed\n";

#[test]
fn solaris_pkg_installs_queries_and_removes_with_pkgadd_pkgrm_and_pkginfo_under_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let root = dir.path().display().to_string();
    let package = ctx.spool.join("9c1e.pkg").display().to_string();
    let file = PackageFile {
        name: "OUTFweb".into(),
        version: "2.1.0,REV=2026.12.01".into(),
        format: "pkg".into(),
        path: package.clone(),
    };
    let admin = format!("{root}/var/sadm/install/admin/outfit");

    // An empty root (pkginfo says 1 with no output), then pkgadd, then the package is there.
    let os = Arc::new(Recording::new().answer_after(&["pkginfo"], 1, 0, PKGINFO).answer(&["pkginfo"], 1, "").answer(
        &["pkgadd"],
        0,
        "",
    ));
    let solaris = plugin("solaris-pkg", &os);
    assert_eq!(solaris.install(&ctx, &file).unwrap().unwrap(), "installed OUTFweb 2.1.0,REV=2026.12.01");
    assert_eq!(
        os.runs(),
        [
            argv(&["pkginfo", "-R", &root, "-l"]),
            argv(&["pkgadd", "-n", "-a", &admin, "-R", &root, "-d", &package, "all"]),
            argv(&["pkginfo", "-R", &root, "-l"]),
        ]
    );
    // The admin file that makes pkgadd non-interactive, written under the root.
    let written = std::fs::read_to_string(dir.path().join("var/sadm/install/admin/outfit")).unwrap();
    assert!(written.contains("instance=overwrite\n") && written.contains("action=nocheck\n"), "{written}");

    // Installed (the first three looks), removed after pkgrm (the fourth look).
    let os = Arc::new(Recording::new().answer_after(&["pkginfo"], 3, 1, "").answer(&["pkginfo"], 0, PKGINFO).answer(
        &["pkgrm"],
        10,
        "",
    ));
    let solaris = plugin("solaris-pkg", &os);
    let installed = solaris.query(&ctx).unwrap().unwrap();
    assert_eq!(installed[0].name, "OUTFweb");
    assert_eq!(installed[0].version, "2.1.0,REV=2026.12.01");
    assert_eq!(solaris.install(&ctx, &file).unwrap().unwrap(), "already as asked; nothing to do");
    assert_eq!(solaris.remove(&ctx, "OUTFweb").unwrap().unwrap(), "removed OUTFweb (a reboot is needed to finish)");
    let runs = os.runs();
    assert_eq!(runs[3], argv(&["pkgrm", "-n", "-a", &admin, "-R", &root, "OUTFweb"]));
    assert_eq!(runs.len(), 5, "query, plan, plan, pkgrm, verify: {runs:?}");
    // A name that would be an option is refused by the plug-in before anything runs.
    let before = os.runs().len();
    let err = solaris.remove(&ctx, "-R/").unwrap().unwrap_err();
    assert!(err.contains("not an SVR4 package name"), "{err}");
    assert_eq!(os.runs().len(), before);

    // pkgadd failing says why.
    let os = Arc::new(Recording::new().answer(&["pkginfo"], 1, "").answer(&["pkgadd"], 5, ""));
    let err = plugin("solaris-pkg", &os).install(&ctx, &file).unwrap().unwrap_err();
    assert!(err.starts_with("pkgadd exited with status 5 (interaction was required)"), "{err}");
}

#[test]
fn solaris_pkg_drives_smf_services_and_reports_a_change_that_does_not_take() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let fmri = "svc:/network/http:apache24";
    let svcs = ["svcs", "-H", "-o", "state", fmri];
    let enable = |action| ServiceChange { name: fmri.into(), action };

    // disabled → svcadm enable -s → online.
    let os = Arc::new(Recording::new().answer_after(&svcs, 1, 0, "online\n").answer(&svcs, 0, "disabled\n"));
    let solaris = plugin("solaris-pkg", &os);
    assert_eq!(
        solaris.service(&ctx, &enable(ServiceAction::Enable)).unwrap().unwrap(),
        format!("service {fmri} enable -s")
    );
    assert_eq!(os.runs(), [argv(&svcs), argv(&["svcadm", "enable", "-s", fmri]), argv(&svcs)]);

    // Already online: nothing runs but the look; a restart always runs.
    let os = Arc::new(Recording::new().answer(&svcs, 0, "online\n"));
    let solaris = plugin("solaris-pkg", &os);
    assert_eq!(
        solaris.service(&ctx, &enable(ServiceAction::Start)).unwrap().unwrap(),
        "already as asked; nothing to do"
    );
    assert_eq!(
        solaris.service(&ctx, &enable(ServiceAction::Restart)).unwrap().unwrap(),
        format!("service {fmri} restart")
    );
    assert_eq!(os.runs()[1], argv(&["svcadm", "restart", fmri]), "a restart is not planned against the state");

    // A stop that leaves it online fails, saying what the device shows.
    let err = solaris.service(&ctx, &enable(ServiceAction::Stop)).unwrap().unwrap_err();
    assert_eq!(err, format!("service {fmri} disable -st, but it does not verify: service {fmri} is online"));
    // A name that would be an option never reaches svcadm.
    let before = os.runs().len();
    let bad = ServiceChange { name: "-a".into(), action: ServiceAction::Start };
    let err = solaris.service(&ctx, &bad).unwrap().unwrap_err();
    assert_eq!(err, "plan: `-a` is not an SMF service name");
    assert_eq!(os.runs().len(), before);
}

#[test]
fn the_manifests_refuse_what_they_do_not_grant() {
    // The policy the real manifests bind to, checked directly: any other
    // argument, program or spool file is refused before the executor is asked.
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path());
    let os = Arc::new(Recording::new().answer(&["reg", "query"], 1, ""));
    let windows = plugin("windows-msi", &os);
    let outside =
        PackageFile { name: "x".into(), version: "1".into(), format: "msi".into(), path: "/tmp/elsewhere.msi".into() };
    let err = windows.install(&ctx, &outside).unwrap().unwrap_err();
    assert!(err.contains("is not allowed by the plug-in's manifest"), "{err}");
    assert!(os.runs().iter().all(|r| r[0] == "reg"), "msiexec never ran: {:?}", os.runs());

    // A manifest for a world this agent does not serve is refused before compiling.
    let wasm = std::fs::read(build_wasm_plugin(&workspace(), "windows-msi")).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins/windows-msi/manifest.toml")).unwrap();
    let newer = manifest.replace("outfit:plugin/os-plugin@1.0.0", "outfit:plugin/os-plugin-world@2.0.0");
    let err = Plugin::load(&wasm, &newer, None).unwrap_err().to_string();
    assert!(err.contains("is for world `outfit:plugin/os-plugin-world@2.0.0`"), "{err}");
}

mod network {
    //! The network plug-in (WIT v1, plan → apply → verify): the file-based
    //! flavours write real files under a real root; netsh and ipadm run
    //! against the recording executor.

    use super::*;
    use outfit_agent::plugin::v1::{Addressing, InterfaceConfig, StaticAddress};

    fn fixed(name: &str) -> InterfaceConfig {
        InterfaceConfig {
            name: name.into(),
            addressing: Addressing::Fixed(StaticAddress {
                address: "192.0.2.10/24".into(),
                gateway: Some("192.0.2.1".into()),
                dns: vec!["192.0.2.53".into(), "192.0.2.54".into()],
            }),
        }
    }

    fn dhcp(name: &str) -> InterfaceConfig {
        InterfaceConfig { name: name.into(), addressing: Addressing::Dhcp }
    }

    /// A root that looks like `markers` (device paths), with nothing else.
    fn device(markers: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for marker in markers {
            let path = dir.path().join(marker.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        dir
    }

    fn read(root: &Path, path: &str) -> String {
        std::fs::read_to_string(root.join(path.trim_start_matches('/'))).unwrap()
    }

    const HEAD: &str = "# Written by Outfit from the device's model; a local edit is drift.\n";

    #[test]
    fn debian_ifupdown_then_networkd_switch_static_to_dhcp_and_leave_a_held_state_alone() {
        let os = Arc::new(Recording::new());
        let network = plugin("network", &os);
        let root = device(&["/etc/debian_version", "/etc/network/interfaces"]);
        let ctx = context(root.path());
        let done = network.network(&ctx, &fixed("eth0")).unwrap().unwrap();
        assert_eq!(done, "eth0 set to static 192.0.2.10/24 (ifupdown)");
        assert_eq!(
            read(root.path(), "/etc/network/interfaces.d/outfit-eth0"),
            format!(
                "{HEAD}auto eth0\niface eth0 inet static\n    address 192.0.2.10/24\n    gateway 192.0.2.1\n    \
                 dns-nameservers 192.0.2.53 192.0.2.54\n"
            )
        );
        // Planned against what the device holds: the same change again does nothing.
        assert_eq!(network.network(&ctx, &fixed("eth0")).unwrap().unwrap(), "already as asked; nothing to do");
        assert_eq!(network.network(&ctx, &dhcp("eth0")).unwrap().unwrap(), "eth0 set to DHCP (ifupdown)");
        assert_eq!(
            read(root.path(), "/etc/network/interfaces.d/outfit-eth0"),
            format!("{HEAD}auto eth0\niface eth0 inet dhcp\n")
        );

        let root = device(&["/etc/debian_version"]);
        let ctx = context(root.path());
        assert_eq!(
            network.network(&ctx, &fixed("enp1s0")).unwrap().unwrap(),
            "enp1s0 set to static 192.0.2.10/24 (systemd-networkd)"
        );
        assert_eq!(
            read(root.path(), "/etc/systemd/network/10-outfit-enp1s0.network"),
            format!(
                "{HEAD}[Match]\nName=enp1s0\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\nDNS=192.0.2.54\n"
            )
        );
        let facts = network.inventory(&ctx).unwrap().unwrap();
        let facts: Vec<(&str, &str)> = facts.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
        assert_eq!(facts, [("os.family", "debian"), ("network.backend", "systemd-networkd")]);
        assert!(os.runs().is_empty(), "file-based flavours run no command: {:?}", os.runs());
    }

    #[test]
    fn rhel_networkmanager_keyfile_is_private_and_ifcfg_without_it() {
        use std::os::unix::fs::PermissionsExt;
        let os = Arc::new(Recording::new());
        let network = plugin("network", &os);
        let root = device(&["/etc/redhat-release", "/etc/NetworkManager/NetworkManager.conf"]);
        let ctx = context(root.path());
        assert_eq!(
            network.network(&ctx, &fixed("ens3")).unwrap().unwrap(),
            "ens3 set to static 192.0.2.10/24 (networkmanager-keyfile)"
        );
        let keyfile = "/etc/NetworkManager/system-connections/outfit-ens3.nmconnection";
        assert_eq!(
            read(root.path(), keyfile),
            format!(
                "{HEAD}[connection]\nid=outfit-ens3\ntype=ethernet\ninterface-name=ens3\n\n[ipv4]\nmethod=manual\n\
                 address1=192.0.2.10/24,192.0.2.1\ndns=192.0.2.53;192.0.2.54;\n"
            )
        );
        let mode = std::fs::metadata(root.path().join(keyfile.trim_start_matches('/'))).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "NetworkManager ignores a keyfile others can read");

        let root = device(&["/etc/redhat-release"]);
        let ctx = context(root.path());
        assert_eq!(network.network(&ctx, &dhcp("ens3")).unwrap().unwrap(), "ens3 set to DHCP (ifcfg)");
        assert_eq!(
            read(root.path(), "/etc/sysconfig/network-scripts/ifcfg-ens3"),
            format!("{HEAD}DEVICE=ens3\nONBOOT=yes\nBOOTPROTO=dhcp\n")
        );
        // Bad input is refused before anything is written.
        let mut bad = fixed("ens3");
        bad.addressing =
            Addressing::Fixed(StaticAddress { address: "192.0.2.300/24".into(), gateway: None, dns: vec![] });
        let err = network.network(&ctx, &bad).unwrap().unwrap_err();
        assert_eq!(err, "plan: `192.0.2.300` is not an IPv4 address");
        let err = network.network(&ctx, &dhcp("../../etc/shadow")).unwrap().unwrap_err();
        assert!(err.contains("is not an interface name"), "{err}");
        // Not a network change: refused by the plug-in; a package is not its job.
        let no_package = PackageFile { name: "x".into(), version: "1".into(), format: "deb".into(), path: "/x".into() };
        let err = network.install(&ctx, &no_package).unwrap().unwrap_err();
        assert_eq!(err, "plan: the network plug-in only configures network interfaces");
    }

    /// `netsh interface ipv4 show config` for an interface on DHCP, then after the static change.
    const NETSH_DHCP: &str = "\r\nConfiguration for interface \"Ethernet\"\r\n    DHCP enabled:                         Yes\r\n    \
                              IP Address:                           192.0.2.77\r\n    Subnet Prefix:                        \
                              192.0.2.0/24 (mask 255.255.255.0)\r\n";
    const NETSH_STATIC: &str = "\r\nConfiguration for interface \"Ethernet\"\r\n    DHCP enabled:                         No\r\n    \
                                IP Address:                           192.0.2.10\r\n    Subnet Prefix:                        \
                                192.0.2.0/24 (mask 255.255.255.0)\r\n    Default Gateway:                      192.0.2.1\r\n";

    #[test]
    fn windows_netsh_sets_a_static_address_and_dns_servers() {
        let show = ["netsh", "interface", "ipv4", "show", "config", "name=Ethernet"];
        // plan and apply each look once (DHCP); verify looks after the change (static).
        let os = Arc::new(Recording::new().answer_after(&show, 2, 0, NETSH_STATIC).answer(&show, 0, NETSH_DHCP));
        let network = plugin("network", &os);
        let root = device(&["/Windows/System32/drivers/etc/hosts"]);
        let ctx = context(root.path());
        assert_eq!(
            network.network(&ctx, &fixed("Ethernet")).unwrap().unwrap(),
            "Ethernet set to static 192.0.2.10/24 (netsh)"
        );
        assert_eq!(
            os.runs(),
            [
                argv(&show),
                argv(&show),
                argv(&[
                    "netsh",
                    "interface",
                    "ipv4",
                    "set",
                    "address",
                    "name=Ethernet",
                    "source=static",
                    "address=192.0.2.10",
                    "mask=255.255.255.0",
                    "gateway=192.0.2.1"
                ]),
                argv(&[
                    "netsh",
                    "interface",
                    "ipv4",
                    "set",
                    "dnsservers",
                    "name=Ethernet",
                    "source=static",
                    "address=192.0.2.53",
                    "register=primary"
                ]),
                argv(&[
                    "netsh",
                    "interface",
                    "ipv4",
                    "add",
                    "dnsservers",
                    "name=Ethernet",
                    "address=192.0.2.54",
                    "index=2"
                ]),
                argv(&show),
            ]
        );
        // The device already holds it: only the look.
        let os = Arc::new(Recording::new().answer(&show, 0, NETSH_STATIC));
        let network = plugin("network", &os);
        assert_eq!(network.network(&ctx, &fixed("Ethernet")).unwrap().unwrap(), "already as asked; nothing to do");
        assert_eq!(os.runs(), [argv(&show)]);
        // A change that does not take is reported, not claimed.
        let os = Arc::new(Recording::new().answer(&show, 0, NETSH_STATIC));
        let err = plugin("network", &os).network(&ctx, &dhcp("Ethernet")).unwrap().unwrap_err();
        assert!(
            err.starts_with("Ethernet set to DHCP (netsh), but it does not verify: still to do: run netsh"),
            "{err}"
        );
    }

    #[test]
    fn solaris_ipadm_replaces_the_address_object_and_writes_the_resolver() {
        let show = ["ipadm", "show-addr", "-p", "-o", "type,addr", "net0/outfit"];
        let os = Arc::new(Recording::new().answer_after(&show, 2, 0, "static:192.0.2.10/24\n").answer(
            &show,
            0,
            "dhcp:192.0.2.77/24\n",
        ));
        let network = plugin("network", &os);
        let root = device(&["/etc/release"]);
        let ctx = context(root.path());
        assert_eq!(network.network(&ctx, &fixed("net0")).unwrap().unwrap(), "net0 set to static 192.0.2.10/24 (ipadm)");
        assert_eq!(
            os.runs(),
            [
                argv(&show),
                argv(&show),
                argv(&["ipadm", "delete-addr", "net0/outfit"]),
                argv(&["ipadm", "create-addr", "-T", "static", "-a", "192.0.2.10/24", "net0/outfit"]),
                argv(&["route", "-p", "add", "default", "192.0.2.1"]),
                argv(&show),
            ]
        );
        assert_eq!(read(root.path(), "/etc/resolv.conf"), "nameserver 192.0.2.53\nnameserver 192.0.2.54\n");

        // To DHCP, on a root where the address object does not exist yet (show-addr fails, delete-addr too).
        let os =
            Arc::new(Recording::new().answer_after(&show, 2, 0, "dhcp:192.0.2.77/24\n").answer(&show, 1, "").answer(
                &["ipadm", "delete-addr"],
                1,
                "",
            ));
        let network = plugin("network", &os);
        assert_eq!(network.network(&ctx, &dhcp("net0")).unwrap().unwrap(), "net0 set to DHCP (ipadm)");
        assert_eq!(os.runs()[3], argv(&["ipadm", "create-addr", "-T", "dhcp", "net0/outfit"]));
    }

    #[test]
    fn a_v0_plugin_is_told_it_cannot_configure_networks() {
        // The built-in RPM plug-in still implements 0.1.0.
        let rpm = Plugin::rpm().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = rpm.network(&context(dir.path()), &dhcp("eth0")).unwrap().unwrap_err();
        assert_eq!(err, "plug-in rpm implements the 0.1.0 world, which has no network configuration");
    }
}
