//! Fails when the Rust message types and the WSDL/XSD disagree: every element
//! of the XSD has a Rust type whose serialization validates against the XSD
//! (checked with libxml2's `xmllint`, a validator we did not write) and
//! round-trips; every WSDL operation's messages name such elements.

use outfit_wsdl::messages::*;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::Command as Process;
use yaserde::{YaDeserialize, YaSerialize};

fn schema_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
    }
}

/// Serializes a message, validates it against the XSD and decodes it back.
fn check<T: YaSerialize + YaDeserialize + PartialEq + std::fmt::Debug>(value: T) -> String {
    let xml = yaserde::ser::to_string(&value).expect("serialize");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(xml.as_bytes()).unwrap();
    let out = Process::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema_dir().join("outfit-agent.xsd"))
        .arg(file.path())
        .output()
        .expect("xmllint is installed by the README's setup (package libxml2-utils)");
    assert!(out.status.success(), "{xml}\ndoes not validate: {}", String::from_utf8_lossy(&out.stderr));
    let back: T = yaserde::de::from_str(&xml).expect("deserialize");
    assert_eq!(back, value);
    let root = roxmltree::Document::parse(&xml).unwrap();
    root.root_element().tag_name().name().to_owned()
}

/// One sample per top-level XSD element; returns the element names covered.
fn rust_elements() -> BTreeSet<String> {
    [
        check(Hello {
            device: "d".into(),
            boot_id: "b".into(),
            agent_version: "0.1.0".into(),
            poke_url: Some("https://127.0.0.1:9/soap/poke".into()),
        }),
        check(HelloResponse { pending_commands: 2 }),
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
        }))),
        check(Poke { gateway: "g".into() }),
        check(PokeResponse { accepted: true }),
        check(FaultDetail { code: "UnknownDevice".into() }),
    ]
    .into_iter()
    .collect()
}

const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

#[test]
fn every_xsd_element_has_a_rust_type_that_validates() {
    let xsd = std::fs::read_to_string(schema_dir().join("outfit-agent.xsd")).unwrap();
    let doc = roxmltree::Document::parse(&xsd).unwrap();
    let declared: BTreeSet<String> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((XSD_NS, "element")))
        .map(|n| n.attribute("name").unwrap().to_owned())
        .collect();
    assert_eq!(declared, rust_elements(), "XSD elements and Rust message types differ");
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
    assert_eq!(parts, 9);
    let operations: BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name((WSDL_NS, "operation")) && n.parent().unwrap().has_tag_name((WSDL_NS, "portType")))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(operations, BTreeSet::from(["Hello", "NextCommand", "ReportResult", "Poke"]));
    // Each operation's request and response element is one the envelope codec carries.
    for op in &operations {
        assert!(elements.contains(*op) && elements.contains(&format!("{op}Response")), "{op}");
    }
}

#[test]
fn templates_keep_every_byte() {
    let command = sample_command();
    let xml = yaserde::ser::to_string(&command).unwrap();
    let back: Command = yaserde::de::from_str(&xml).unwrap();
    assert_eq!(back.configure.unwrap().template_text().unwrap(), "  port={{ port }}\n");
}

#[test]
fn wsdl_and_xsd_are_well_formed_schemas() {
    let out = Process::new("xmllint").args(["--noout", "--schema", "/dev/null"]).output().expect("xmllint");
    // Sanity: xmllint really rejects a bad schema, so the validation above means something.
    assert!(!out.status.success());
}
