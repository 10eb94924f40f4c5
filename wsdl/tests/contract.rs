//! Fails when the Rust message types and the WSDL/XSD disagree: every element
//! of the XSD has a Rust type whose serialization validates against the XSD
//! (checked with libxml2's `xmllint`, a validator we did not write) and
//! round-trips; every WSDL operation's messages name such elements.

mod common;

use common::*;
use outfit_wsdl::messages::*;
use std::collections::BTreeSet;
use yaserde::{YaDeserialize, YaSerialize};

fn sample_command() -> Command {
    Command {
        id: "42".into(),
        sequence: 3,
        run: 2,
        kind: Some(CommandKind::Configure),
        install: None,
        configure: Some(ConfigFile::new(
            "web",
            "/etc/web.conf",
            "  port={{ port }}\n",
            vec![Parameter { name: "port".into(), value: "8080".into() }],
        )),
        plugin: None,
        network: None,
        service: None,
        remove: None,
    }
}

fn sample_install() -> Command {
    Command {
        id: "41".into(),
        sequence: 2,
        run: 1,
        kind: Some(CommandKind::Install),
        install: Some(Package {
            name: "web".into(),
            version: "1.0".into(),
            format: "deb".into(),
            sha256: "ab".repeat(32),
            size: 1000,
            location: "/repository/ab".into(),
        }),
        configure: None,
        plugin: None,
        network: None,
        service: None,
        remove: None,
    }
}

/// An inventory with every repeated and optional part filled.
fn inventory() -> outfit_wsdl::inventory::ReportInventory {
    use outfit_wsdl::inventory::*;
    ReportInventory {
        device: "d".into(),
        taken_at_ms: 1_764_900_000_000,
        occasion: "demand".into(),
        fact: vec![Fact { name: "kernel".into(), value: "6.1.0".into() }],
        disk: vec![DiskReport { mount: "/".into(), total_bytes: 10 << 30, available_bytes: 4 << 30 }],
        interface: vec![InterfaceReport { name: "eth0".into(), address: vec!["192.0.2.10/24".into()] }],
        package: vec![InstalledPackage { name: "web".into(), version: "1.0".into(), format: "deb".into() }],
        file: vec![ManagedFileReport {
            path: "/etc/web.conf".into(),
            component: "web".into(),
            written_sha256: "ab".repeat(32),
            sha256: Some("cd".repeat(32)),
            written: Some("cG9ydD04MAo=".into()),
            now: Some("cG9ydD04MQo=".into()),
        }],
        plugin: vec![PluginVersion { name: "debian".into(), version: "0.1.0".into() }],
        change: vec![LocalChangeReport {
            at_ms: 1,
            operator: "ann".into(),
            component: "web".into(),
            path: "/etc/web.conf".into(),
            template: "cG9ydD17eyBwIH19Cg==".into(),
            parameter: vec![Parameter { name: "p".into(), value: "81".into() }],
            promote: true,
            outcome: "succeeded".into(),
        }],
    }
}

const AGENT_XSD: &str = "outfit-agent.xsd";

/// Validates a document against the agent XSD with xmllint; `Err` carries its complaint.
fn validate(xml: &str) -> Result<(), String> {
    validate_against(AGENT_XSD, xml)
}

/// Serializes a message, validates it against the agent XSD and decodes it back.
fn check<T: YaSerialize + YaDeserialize + PartialEq + std::fmt::Debug>(value: T) -> String {
    check_in(AGENT_XSD, value)
}

/// One sample per top-level XSD element; returns the element names covered.
fn rust_elements() -> BTreeSet<String> {
    [
        check(Enrol {
            device: "d".into(),
            site: "s".into(),
            token: Some("t".into()),
            csr: "-----BEGIN CERTIFICATE REQUEST-----".into(),
        }),
        check(Enrol { device: "d".into(), site: "s".into(), token: None, csr: "-----BEGIN".into() }),
        check(EnrolResponse { certificate: Some("-----BEGIN CERTIFICATE-----".into()), waiting: None }),
        check(EnrolResponse { certificate: None, waiting: Some("approve with …".into()) }),
        check(Renew { device: "d".into(), csr: "-----BEGIN CERTIFICATE REQUEST-----".into() }),
        check(RenewResponse { certificate: "-----BEGIN CERTIFICATE-----".into() }),
        check(Authorise {
            device: "d".into(),
            operator: "-----BEGIN CERTIFICATE-----".into(),
            action: "change".into(),
            category: Some("CONTENT".into()),
            component: Some("site".into()),
            path: Some("/etc/site.conf".into()),
            object: "configure /etc/site.conf".into(),
            from: "10.0.0.5:50000".into(),
        }),
        check(AuthoriseResponse { allowed: false, operator: "ann".into(), reason: "no right".into() }),
        check(Hello {
            device: "d".into(),
            boot_id: "b".into(),
            agent_version: "0.1.0".into(),
            poke_url: Some("https://127.0.0.1:9/soap/poke".into()),
            platform: Some("linux-x86_64".into()),
            plugins: vec![
                PluginReport {
                    name: "debian".into(),
                    version: "0.1.0".into(),
                    world: "outfit:plugin/os-plugin-world@0.1.0".into(),
                    formats: vec!["deb".into()],
                    changes: vec!["configure".into(), "service".into()],
                },
                PluginReport {
                    name: "files".into(),
                    version: "0.1.0".into(),
                    world: "outfit:plugin/os-plugin@1.1.0".into(),
                    formats: vec![],
                    changes: vec!["configure".into()],
                },
            ],
            precompiled_only: Some("x86_64-unknown-linux-gnu".into()),
        }),
        // What an agent older than the plug-in report sends.
        check(Hello { device: "d".into(), boot_id: "b".into(), agent_version: "0.1.0".into(), ..Hello::default() }),
        check(HelloResponse { pending_commands: 2 }),
        check(LocatePackage { device: "d".into(), name: "outfit-demo-app".into(), version: "2.1.0".into() }),
        check(LocatePackageResponse { package: sample_install().install.expect("the sample installs a package") }),
        check(inventory()),
        check(outfit_wsdl::inventory::ReportInventoryResponse { drift: 2 }),
        check(NextCommand { device: "d".into() }),
        check(NextCommandResponse::from(Instruction::command(sample_install()))),
        check(NextCommandResponse::from(Instruction::nothing("empty"))),
        check(ReportResult {
            device: "d".into(),
            command_id: "42".into(),
            outcome: Some(Outcome::Failed),
            message: "sha256 mismatch".into(),
        }),
        check(ReportResultResponse::from(Instruction::command(sample_command()))),
        check(ReportResult {
            device: "d".into(),
            command_id: "43".into(),
            outcome: Some(Outcome::RebootUnderway),
            message: "reboot underway".into(),
        }),
        check(NextCommandResponse::from(Instruction::command(Command {
            id: "43".into(),
            sequence: 4,
            run: 1,
            kind: Some(CommandKind::Reboot),
            install: None,
            configure: None,
            plugin: None,
            network: None,
            service: None,
            remove: None,
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            id: "44".into(),
            sequence: 5,
            run: 1,
            kind: Some(CommandKind::RollbackPlugin),
            install: None,
            configure: None,
            plugin: Some("debian".into()),
            network: None,
            service: None,
            remove: None,
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            id: "45".into(),
            sequence: 6,
            run: 1,
            kind: Some(CommandKind::Remove),
            remove: Some(RemovedPackage { name: "web".into(), format: "deb".into() }),
            ..Command::default()
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            kind: Some(CommandKind::Upgrade),
            ..sample_install()
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            kind: Some(CommandKind::InstallPlugin),
            ..sample_install()
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            kind: Some(CommandKind::Network),
            install: None,
            network: Some(NetworkConfig {
                interface: "eth0".into(),
                address: Some("192.0.2.10/24".into()),
                gateway: Some("192.0.2.1".into()),
                dns: vec!["192.0.2.53".into(), "192.0.2.54".into()],
            }),
            ..sample_install()
        }))),
        check(NextCommandResponse::from(Instruction::command(Command {
            kind: Some(CommandKind::Service),
            install: None,
            service: Some(ServiceChange { name: "nginx".into(), action: "restart".into() }),
            ..sample_install()
        }))),
        check(Poke { gateway: "g".into() }),
        check(PokeResponse { accepted: true }),
        check(FaultDetail { code: "UnknownDevice".into() }),
    ]
    .into_iter()
    .collect()
}

#[test]
fn every_xsd_element_has_a_rust_type_that_validates() {
    assert_eq!(declared(AGENT_XSD), rust_elements(), "XSD elements and Rust message types differ");
}

#[test]
fn every_wsdl_operation_uses_declared_elements() {
    let wsdl = std::fs::read_to_string(schema_dir().join("outfit-agent.wsdl")).unwrap();
    let doc = roxmltree::Document::parse(&wsdl).unwrap();
    let elements = rust_elements();
    let mut parts = 0;
    for part in doc.descendants().filter(|n| n.has_tag_name((WSDL_NS, "part"))) {
        let element = part.attribute("element").expect("document/literal parts name an element");
        let local = element.rsplit(':').next().unwrap();
        assert!(elements.contains(local), "WSDL part element {element} has no Rust type");
        parts += 1;
    }
    assert_eq!(parts, 19);
    let operations = wsdl_operations("outfit-agent.wsdl");
    let expected = [
        "Enrol",
        "Renew",
        "Authorise",
        "Hello",
        "NextCommand",
        "ReportResult",
        "LocatePackage",
        "ReportInventory",
        "Poke",
    ];
    assert_eq!(operations, expected.into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
    // Each operation's request and response element is one the envelope codec carries.
    for op in &operations {
        assert!(elements.contains(op) && elements.contains(&format!("{op}Response")), "{op}");
    }
}

#[test]
fn templates_keep_every_byte() {
    let command = sample_command();
    let xml = yaserde::ser::to_string(&command).unwrap();
    let back: Command = yaserde::de::from_str(&xml).unwrap();
    assert_eq!(back.configure.unwrap().template_text().unwrap(), "  port={{ port }}\n");
}

/// The validation above means something: the same check rejects messages that
/// break the schema (an unknown outcome, a command without its run, an element
/// out of order).
#[test]
fn validation_rejects_messages_that_break_the_schema() {
    let good = yaserde::ser::to_string(&ReportResult {
        device: "d".into(),
        command_id: "1".into(),
        outcome: Some(Outcome::Succeeded),
        message: "m".into(),
    })
    .unwrap();
    assert_eq!(validate(&good), Ok(()));
    let unknown_outcome = good.replace(">succeeded<", ">maybe<");
    assert!(validate(&unknown_outcome).unwrap_err().contains("outcome"));

    let command = yaserde::ser::to_string(&NextCommandResponse::from(Instruction::command(sample_install()))).unwrap();
    assert_eq!(validate(&command), Ok(()));
    let without_run = command.replace("<o:run>1</o:run>", "");
    assert!(validate(&without_run).is_err(), "{without_run}");
    let reordered =
        command.replace("<o:sequence>2</o:sequence><o:run>1</o:run>", "<o:run>1</o:run><o:sequence>2</o:sequence>");
    assert_ne!(reordered, command);
    assert!(validate(&reordered).is_err());
}
