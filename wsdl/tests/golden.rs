//! The requests agents send and the poke the gateway sends, pinned byte for
//! byte (insta snapshots in `tests/fixtures/envelopes/`): deployed gateways
//! and agents decode exactly these. The responses are pinned against a live
//! gateway in `tests/e2e/wire.rs`.

use outfit_wsdl::envelope::{Body, FaultCode, GatewayRequest, SoapFault, encode, encode_fault};
use outfit_wsdl::messages::*;

fn pin(name: &str, envelope: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/envelopes"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, envelope));
}

const CSR: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";

#[test]
fn agent_requests_are_pinned() {
    let requests = [
        (
            "request-enrol",
            GatewayRequest::Enrol(Enrol {
                device: "web-17".into(),
                site: "shop".into(),
                token: Some("tok".into()),
                csr: CSR.into(),
            }),
        ),
        ("request-renew", GatewayRequest::Renew(Renew { device: "web-17".into(), csr: CSR.into() })),
        (
            "request-authorise",
            GatewayRequest::Authorise(Authorise {
                device: "web-17".into(),
                operator: "MIIBase64".into(),
                action: "change".into(),
                category: Some("CONTENT".into()),
                component: Some("site".into()),
                path: Some("/etc/site.conf".into()),
                object: "/access/configure".into(),
                from: "10.0.0.5:51000".into(),
            }),
        ),
        (
            "request-hello",
            GatewayRequest::Hello(Hello {
                device: "web-17".into(),
                boot_id: "boot-1".into(),
                agent_version: "0.1.0".into(),
                poke_url: Some("https://10.0.0.17:8444/soap/poke".into()),
                platform: Some("linux-x86_64".into()),
                plugins: vec![PluginReport {
                    name: "debian".into(),
                    version: "0.2.0".into(),
                    world: "outfit:plugin/os-plugin@0.1.0".into(),
                    formats: vec!["deb".into()],
                    changes: vec!["install".into(), "configure".into()],
                }],
                precompiled_only: Some("x86_64-unknown-linux-musl".into()),
            }),
        ),
        ("request-next-command", GatewayRequest::NextCommand(NextCommand { device: "web-17".into() })),
        (
            "request-report-result",
            GatewayRequest::ReportResult(ReportResult {
                device: "web-17".into(),
                command_id: "42".into(),
                outcome: Some(Outcome::RebootUnderway),
                message: "rebooting <now> & then".into(),
            }),
        ),
        (
            "request-locate-package",
            GatewayRequest::LocatePackage(LocatePackage {
                device: "web-17".into(),
                name: "outfit-demo-app".into(),
                version: "2.1.0".into(),
            }),
        ),
    ];
    for (name, request) in requests {
        pin(name, &request.encode());
    }
}

#[test]
fn the_poke_and_its_answers_are_pinned() {
    pin("request-poke", &encode(Body { poke: Some(Poke { gateway: "gateway".into() }), ..Body::default() }));
    pin(
        "agent-poke-response",
        &encode(Body { poke_response: Some(PokeResponse { accepted: true }), ..Body::default() }),
    );
    pin(
        "agent-poke-fault",
        &encode_fault(&SoapFault::new(FaultCode::Forbidden, "only the gateway may poke this agent")),
    );
}
