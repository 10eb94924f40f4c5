//! Malformed SOAP gets a SOAP Fault with a stable code, and the gateway keeps
//! serving. Requests are raw bytes over a real TLS connection.

use anyhow::Result;
use outfit_tests::Gateway;
use outfit_wsdl::envelope::{Answer, FaultCode, decode_answer};
use outfit_wsdl::transport::{self, Endpoint};

const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><s:Envelope xmlns:s="{ENV}" xmlns:o="urn:outfit:agent:1"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

#[test]
fn malformed_requests_get_faults_with_stable_codes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    let tls = transport::client_config(&gateway.dir.join("ca.pem"), None)?;
    let endpoint = Endpoint::parse(&gateway.url)?.join(outfit_wsdl::GATEWAY_AGENT_PATH);
    let runtime = tokio::runtime::Runtime::new()?;
    let send = |body: String| -> Result<Answer<()>> {
        let reply = runtime.block_on(transport::soap_call(&tls, &endpoint, "Hello", body))?;
        decode_answer(&reply, |b| b.hello_response.map(|_| ())).map_err(|f| anyhow::anyhow!("{f}"))
    };
    let cases = [
        ("not XML", "this is not xml <".to_owned(), FaultCode::MalformedEnvelope),
        (
            "truncated",
            envelope("<o:NextCommand><o:device>x</o:device>").replace("</s:Body></s:Envelope>", ""),
            FaultCode::MalformedEnvelope,
        ),
        (
            "SOAP 1.2 namespace",
            r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#.to_owned(),
            FaultCode::MalformedEnvelope,
        ),
        (
            "operation in a wrong namespace",
            envelope(r#"<x:NextCommand xmlns:x="urn:somebody:else"><x:device>node</x:device></x:NextCommand>"#),
            FaultCode::UnknownOperation,
        ),
        (
            "unknown operation",
            envelope("<o:Frobnicate><o:device>node</o:device></o:Frobnicate>"),
            FaultCode::UnknownOperation,
        ),
        ("missing field", envelope("<o:NextCommand/>"), FaultCode::MissingField),
        (
            "no client certificate",
            envelope(
                "<o:Hello><o:device>ghost</o:device><o:bootId>b</o:bootId><o:agentVersion>1</o:agentVersion></o:Hello>",
            ),
            FaultCode::Unauthenticated,
        ),
        ("oversized", envelope(&"<o:x/>".repeat(300_000)), FaultCode::TooLarge),
        (
            "external entity reading a local file",
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>{}"#,
                envelope("<o:NextCommand><o:device>&x;</o:device></o:NextCommand>")
            ),
            FaultCode::DoctypeRefused,
        ),
        ("billion laughs", billion_laughs(), FaultCode::DoctypeRefused),
        (
            "100,000 nested elements",
            envelope(&format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000))),
            FaultCode::TooDeep,
        ),
    ];
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let first_line = passwd.lines().next().unwrap_or("root:x:0:0");
    let count = cases.len();
    for (what, body, code) in cases {
        let reply = runtime.block_on(transport::soap_call(&tls, &endpoint, "Hello", body))?;
        assert!(!String::from_utf8_lossy(&reply).contains(first_line), "{what}: the answer leaks /etc/passwd");
        match decode_answer(&reply, |b| b.hello_response.map(|_| ())).map_err(|f| anyhow::anyhow!("{f}"))? {
            Answer::Fault(fault) => {
                assert_eq!(fault.code, code, "{what}: {}", fault.message);
                assert!(!fault.message.is_empty(), "{what}");
            }
            Answer::Ok(()) => panic!("{what}: expected a fault"),
        }
    }
    // Memory stays bounded: bodies are capped before parsing and the screen
    // keeps only open element names.
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.process.child.id()))?;
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(peak_kb > 0 && peak_kb < 150 * 1024, "gateway peak RSS {peak_kb} kB after the hostile corpus");
    // Still serving: a well-formed request without a client certificate gets its fault.
    assert!(matches!(
        send(envelope("<o:NextCommand><o:device>ghost</o:device></o:NextCommand>"))?,
        Answer::Fault(f) if f.code == FaultCode::Unauthenticated
    ));
    let invalid = database.scalar("SELECT COUNT(*) FROM exchanges WHERE operation = 'invalid'")?;
    assert_eq!(invalid, (count - 2).to_string(), "every undecodable request is logged");
    Ok(())
}

/// Ten levels of entities, each ten of the one below: 10^9 "lol"s if expanded.
fn billion_laughs() -> String {
    let mut doc = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">"#);
    for i in 1..10 {
        doc.push_str(&format!(r#"<!ENTITY l{i} "{}">"#, format!("&l{};", i - 1).repeat(10)));
    }
    doc.push_str("]>");
    doc.push_str(&envelope("<o:NextCommand><o:device>&l9;</o:device></o:NextCommand>"));
    doc
}
