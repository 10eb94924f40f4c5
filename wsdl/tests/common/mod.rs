//! What the contract tests share: xmllint validation, a round trip through a
//! message type, and what an XSD or WSDL declares.
#![allow(dead_code, reason = "each test crate uses a part")]

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Command as Process;
use yaserde::{YaDeserialize, YaSerialize};

pub fn schema_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn validate_against(xsd: &str, xml: &str) -> Result<(), String> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(xml.as_bytes()).unwrap();
    let out = Process::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema_dir().join(xsd))
        .arg(file.path())
        .output()
        .expect("xmllint is installed by the README's setup (package libxml2-utils)");
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// Serializes a message, validates it against `xsd` and decodes it back;
/// returns the root element's name.
pub fn check_in<T: YaSerialize + YaDeserialize + PartialEq + std::fmt::Debug>(xsd: &str, value: T) -> String {
    let xml = yaserde::ser::to_string(&value).expect("serialize");
    if let Err(complaint) = validate_against(xsd, &xml) {
        panic!("{xml}\ndoes not validate: {complaint}");
    }
    let back: T = yaserde::de::from_str(&xml).expect("deserialize");
    assert_eq!(back, value);
    let root = roxmltree::Document::parse(&xml).unwrap();
    root.root_element().tag_name().name().to_owned()
}

pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
pub const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";

/// The top-level elements an XSD declares.
pub fn declared(xsd: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(schema_dir().join(xsd)).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name((XSD_NS, "element")))
        .map(|n| n.attribute("name").unwrap().to_owned())
        .collect()
}

/// The operations of a WSDL's port types.
pub fn wsdl_operations(wsdl: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(schema_dir().join(wsdl)).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name((WSDL_NS, "operation")) && n.parent().unwrap().has_tag_name((WSDL_NS, "portType")))
        .map(|n| n.attribute("name").unwrap().to_owned())
        .collect()
}
