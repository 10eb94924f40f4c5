//! Signed plug-in bundles: keys made and bundles signed with the
//! `outfit-plugin` tool, checked as the agent checks them. A signed bundle
//! loads; a tampered component, a tampered manifest (more grants), an
//! unsigned bundle and one signed by an untrusted key are refused before
//! anything is compiled.

// Loading a component from its wasm needs the code generator.
#![cfg(feature = "compiler")]

use outfit_agent::plugin::signature::{self, Bundle, SignatureError, TrustedKeys};
use outfit_agent::plugin::{Plugin, RPM_MANIFEST, RPM_WASM};
use std::path::Path;
use std::process::Command;

fn tool(args: &[&str]) -> (bool, String) {
    let out = Command::new(outfit_tests::bin("outfit-plugin")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A bundle of the real RPM plug-in, standing in for a third party's.
fn bundle(dir: &Path, name: &str) -> Bundle {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(signature::COMPONENT_FILE), RPM_WASM).unwrap();
    std::fs::write(dir.join(signature::MANIFEST_FILE), RPM_MANIFEST).unwrap();
    Bundle { dir }
}

#[test]
fn only_bundles_signed_by_a_trusted_key_load() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    let (ok, public) = tool(&["keygen", "--key", key.to_str().unwrap()]);
    assert!(ok, "{public}");
    let trusted_file = dir.path().join("trusted-keys");
    std::fs::write(&trusted_file, format!("# our vendor\n{public}")).unwrap();
    let trusted = TrustedKeys::load(&trusted_file).unwrap();
    let (ok, out) = tool(&["keygen", "--key", key.to_str().unwrap()]);
    assert!(!ok && out.contains("refusing to overwrite"), "{out}");

    // Signed by the trusted key: verifies (also through the tool) and loads.
    let good = bundle(dir.path(), "good");
    let (ok, out) = tool(&["sign", "--key", key.to_str().unwrap(), good.dir.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = tool(&["verify", "--trusted-keys", trusted_file.to_str().unwrap(), good.dir.to_str().unwrap()]);
    assert!(ok, "{out}");
    let verified = good.verify(&trusted).unwrap();
    Plugin::load(&verified.component, &verified.manifest, None).unwrap();

    // One byte of the component changed after signing.
    let tampered = bundle(dir.path(), "tampered");
    tampered.sign(&std::fs::read(&key).unwrap()).unwrap();
    let mut wasm = RPM_WASM.to_vec();
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    std::fs::write(tampered.dir.join(signature::COMPONENT_FILE), wasm).unwrap();
    assert!(matches!(tampered.verify(&trusted), Err(SignatureError::Untrusted)));
    let (ok, out) = tool(&["verify", "--trusted-keys", trusted_file.to_str().unwrap(), tampered.dir.to_str().unwrap()]);
    assert!(!ok && out.contains("does not verify"), "{out}");

    // The manifest widened after signing (a command it was never granted).
    let widened = bundle(dir.path(), "widened");
    widened.sign(&std::fs::read(&key).unwrap()).unwrap();
    let manifest = format!("{RPM_MANIFEST}\n# granted later\n");
    std::fs::write(widened.dir.join(signature::MANIFEST_FILE), manifest).unwrap();
    assert!(matches!(widened.verify(&trusted), Err(SignatureError::Untrusted)));

    // Never signed.
    let unsigned = bundle(dir.path(), "unsigned");
    assert!(matches!(unsigned.verify(&trusted), Err(SignatureError::Unsigned(_))));

    // Signed, but by a key the agent does not trust.
    let stranger = bundle(dir.path(), "stranger");
    let (other_key, _) = signature::generate_key().unwrap();
    stranger.sign(&other_key).unwrap();
    assert!(matches!(stranger.verify(&trusted), Err(SignatureError::Untrusted)));
    // And with no trusted keys at all, nothing verifies.
    assert!(matches!(good.verify(&TrustedKeys::default()), Err(SignatureError::NoTrustedKeys)));
    // The bundle list the agent walks: every directory, in name order.
    let names: Vec<String> = signature::bundles(dir.path())
        .unwrap()
        .iter()
        .map(|b| b.dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["good", "stranger", "tampered", "unsigned", "widened"]);
}
