//! The operator, peer and file-server contracts, held to the agent contract's standard
//! (`contract.rs`): every element has a Rust type whose serialization
//! validates against the XSD (xmllint) and round-trips, and every WSDL
//! operation has both its elements.

mod common;

use common::*;
use std::collections::BTreeSet;

const OPERATOR_XSD: &str = "outfit-operator.xsd";

fn policy() -> outfit_wsdl::operator::RolloutPolicy {
    outfit_wsdl::operator::RolloutPolicy {
        start: true,
        canary: Some(1),
        batch_size: Some(2),
        max_failures: Some(0),
        max_failure_percent: Some(10),
        expire_after_seconds: Some(600),
    }
}

fn rollout() -> outfit_wsdl::operator::RolloutInfo {
    outfit_wsdl::operator::RolloutInfo {
        id: 4,
        site: "s".into(),
        model: "m".into(),
        version: 2,
        state: "halted".into(),
        max_failure_percent: Some(10),
        expire_after_seconds: Some(600),
        halt_reason: Some("1 of 1 devices failed".into()),
        created_by: "alice".into(),
        created_at: "2026-12-05T08:00:00Z".into(),
        ..Default::default()
    }
}

/// The operator contract, held to the same standard: every element has a
/// Rust type whose serialization validates, and every operation has both.
#[test]
fn every_operator_element_and_operation_has_a_rust_type_that_validates() {
    use outfit_wsdl::operator::*;
    let summary = DeviceSummary {
        name: "web-1".into(),
        site: "shop".into(),
        model: "webserver".into(),
        queue: "halted".into(),
        failed: 1,
        desired_version: Some(3),
        ..DeviceSummary::default()
    };
    let elements: BTreeSet<String> = [
        check_in(
            OPERATOR_XSD,
            SetParameter {
                site: "s".into(),
                model: "m".into(),
                category: "CONTENT".into(),
                component: "c".into(),
                name: "n".into(),
                value: "v".into(),
                reason: Some("why".into()),
                rollout: Some(policy()),
            },
        ),
        check_in(
            OPERATOR_XSD,
            SetParameterResponse { model_version: 3, created: true, rollout: Some(4), proposal: Some("dc-b#4".into()) },
        ),
        check_in(OPERATOR_XSD, Provision { site: "s".into(), device: "d".into() }),
        check_in(OPERATOR_XSD, ProvisionResponse { commands: 6 }),
        // Samples with every optional and repeated part filled.
        check_in(
            OPERATOR_XSD,
            ListDevicesResponse {
                total: 2,
                device: vec![summary.clone(), DeviceSummary { applied_version: Some(2), ..summary.clone() }],
                overdue_reboot: vec![OverdueReboot {
                    device: "web-1".into(),
                    command: "7".into(),
                    since: "2026-12-05T08:00:00Z".into(),
                }],
            },
        ),
        check_in(
            OPERATOR_XSD,
            ShowDeviceResponse {
                summary,
                agent_version: Some("0.1.0".into()),
                platform: Some("linux-x86_64".into()),
                precompiled_only: None,
                plugin: vec![PluginInfo {
                    name: "debian".into(),
                    version: "0.2.0".into(),
                    world: "w".into(),
                    serves: "deb".into(),
                }],
            },
        ),
        check_in(
            OPERATOR_XSD,
            RunScript {
                script: "hotfix".into(),
                site: "shop".into(),
                device: vec!["a".into(), "b".into()],
                model: None,
                expires_in: Some(60),
            },
        ),
        check_in(
            OPERATOR_XSD,
            ListAuditResponse {
                entry: vec![AuditEntry {
                    time: "2026-12-05T08:00:00.000Z".into(),
                    principal: "ann".into(),
                    action: "Provision".into(),
                    site: Some("shop".into()),
                    object: "web-1".into(),
                    from: "127.0.0.1:5000".into(),
                    outcome: "allowed".into(),
                    detail: "6 commands queued".into(),
                }],
            },
        ),
        check_in(OPERATOR_XSD, ProvisionMany::default()),
        check_in(OPERATOR_XSD, ProvisionManyResponse::default()),
        check_in(OPERATOR_XSD, ListDevices::default()),
        check_in(OPERATOR_XSD, ListDevicesResponse::default()),
        check_in(OPERATOR_XSD, ShowDevice::default()),
        check_in(OPERATOR_XSD, ShowDeviceResponse::default()),
        check_in(OPERATOR_XSD, AddDevice::default()),
        check_in(OPERATOR_XSD, AddDeviceResponse::default()),
        check_in(OPERATOR_XSD, IssueToken::default()),
        check_in(OPERATOR_XSD, IssueTokenResponse::default()),
        check_in(OPERATOR_XSD, RevokeDevice::default()),
        check_in(OPERATOR_XSD, RevokeDeviceResponse::default()),
        check_in(OPERATOR_XSD, ListEnrolmentRequests::default()),
        check_in(OPERATOR_XSD, ListEnrolmentRequestsResponse::default()),
        check_in(OPERATOR_XSD, ApproveEnrolment::default()),
        check_in(OPERATOR_XSD, ApproveEnrolmentResponse::default()),
        check_in(OPERATOR_XSD, RejectEnrolment::default()),
        check_in(OPERATOR_XSD, RejectEnrolmentResponse::default()),
        check_in(OPERATOR_XSD, ShowQueue::default()),
        check_in(OPERATOR_XSD, ShowQueueResponse::default()),
        check_in(OPERATOR_XSD, Retry::default()),
        check_in(OPERATOR_XSD, RetryResponse::default()),
        check_in(OPERATOR_XSD, Skip::default()),
        check_in(OPERATOR_XSD, SkipResponse::default()),
        check_in(OPERATOR_XSD, Abort::default()),
        check_in(OPERATOR_XSD, AbortResponse::default()),
        check_in(OPERATOR_XSD, Reboot::default()),
        check_in(OPERATOR_XSD, RebootResponse::default()),
        check_in(OPERATOR_XSD, ListScripts::default()),
        check_in(OPERATOR_XSD, ListScriptsResponse::default()),
        check_in(OPERATOR_XSD, RunScript::default()),
        check_in(OPERATOR_XSD, RunScriptResponse::default()),
        check_in(OPERATOR_XSD, RollbackPlugin::default()),
        check_in(OPERATOR_XSD, RollbackPluginResponse::default()),
        check_in(OPERATOR_XSD, SaveOperator::default()),
        check_in(OPERATOR_XSD, SaveOperatorResponse::default()),
        check_in(OPERATOR_XSD, IssueOperatorCertificate::default()),
        check_in(OPERATOR_XSD, IssueOperatorCertificateResponse::default()),
        check_in(OPERATOR_XSD, RevokeOperatorCertificates::default()),
        check_in(OPERATOR_XSD, RevokeOperatorCertificatesResponse::default()),
        check_in(OPERATOR_XSD, AddGroup::default()),
        check_in(OPERATOR_XSD, AddGroupResponse::default()),
        check_in(OPERATOR_XSD, JoinGroup::default()),
        check_in(OPERATOR_XSD, JoinGroupResponse::default()),
        check_in(OPERATOR_XSD, Grant::default()),
        check_in(OPERATOR_XSD, GrantResponse::default()),
        check_in(OPERATOR_XSD, ListAudit::default()),
        check_in(OPERATOR_XSD, ListAuditResponse::default()),
        check_in(
            OPERATOR_XSD,
            ImportModel {
                site: "shop".into(),
                name: "webserver".into(),
                role: vec![RoleSpec {
                    category: "OS".into(),
                    name: "base".into(),
                    component: vec![ComponentSpec {
                        name: "base".into(),
                        package_name: "outfit-demo-os".into(),
                        version: "1.0.0".into(),
                        format: "deb".into(),
                        sha256: "ab".repeat(32),
                        config: Some(ConfigSpec {
                            path: "/etc/os.conf".into(),
                            template: "dHo9e3sgdHogfX0K".into(),
                            mode: Some("640".into()),
                            owner: None,
                            group: None,
                        }),
                        plugin: None,
                        parameter: vec![ParameterValue { name: "tz".into(), value: "UTC".into() }],
                    }],
                }],
                reason: Some("first".into()),
                rollout: Some(policy()),
            },
        ),
        check_in(OPERATOR_XSD, ImportModel::default()),
        check_in(OPERATOR_XSD, ImportModelResponse::default()),
        check_in(OPERATOR_XSD, ListModels::default()),
        check_in(OPERATOR_XSD, ListModelsResponse::default()),
        check_in(OPERATOR_XSD, ShowModel::default()),
        check_in(OPERATOR_XSD, ShowModelResponse::default()),
        check_in(OPERATOR_XSD, ListPackages::default()),
        check_in(OPERATOR_XSD, ListPackagesResponse::default()),
        check_in(OPERATOR_XSD, ImportScript::default()),
        check_in(OPERATOR_XSD, ImportScriptResponse::default()),
        check_in(OPERATOR_XSD, InstallPlugin::default()),
        check_in(OPERATOR_XSD, InstallPluginResponse::default()),
        check_in(OPERATOR_XSD, ListProposals { site: "shop".into(), model: Some("web".into()) }),
        check_in(
            OPERATOR_XSD,
            ListProposalsResponse {
                proposal: vec![ProposalInfo {
                    origin: "dc-b".into(),
                    seq: 4,
                    model: "web".into(),
                    base_version: Some(1),
                    author: "bob".into(),
                    reason: Some("why".into()),
                    state: "refused".into(),
                    version: None,
                    decision: Some("version 2 came first".into()),
                }],
            },
        ),
        check_in(OPERATOR_XSD, ListModelVersions::default()),
        check_in(
            OPERATOR_XSD,
            ListModelVersionsResponse {
                version: vec![ModelVersionInfo {
                    version: 3,
                    author: Some("alice".into()),
                    reason: Some("bad port".into()),
                    restores: Some(1),
                    created_at: "2026-12-05T08:00:00Z".into(),
                    current: true,
                }],
            },
        ),
        check_in(OPERATOR_XSD, DiffModel { to: Some(2), ..DiffModel::default() }),
        check_in(
            OPERATOR_XSD,
            DiffModelResponse {
                from: 1,
                to: 2,
                difference: vec![Difference {
                    category: "APP".into(),
                    component: "web".into(),
                    kind: "parameter".into(),
                    name: Some("port".into()),
                    before: Some("80".into()),
                    after: Some("81".into()),
                    text_diff: Some("--- a\n+++ b".into()),
                }],
            },
        ),
        check_in(
            OPERATOR_XSD,
            RollbackModel { reason: Some("r".into()), rollout: Some(policy()), ..RollbackModel::default() },
        ),
        check_in(OPERATOR_XSD, RollbackModelResponse { rollout: Some(4), ..RollbackModelResponse::default() }),
        check_in(OPERATOR_XSD, ListCategories::default()),
        check_in(
            OPERATOR_XSD,
            ListCategoriesResponse {
                category: vec![CategoryInfo {
                    name: "MIDDLEWARE".into(),
                    rank: 2,
                    description: Some("monthly".into()),
                }],
            },
        ),
        check_in(
            OPERATOR_XSD,
            AddCategory { after: Some("OS".into()), description: Some("d".into()), ..AddCategory::default() },
        ),
        check_in(OPERATOR_XSD, AddCategoryResponse::default()),
        check_in(OPERATOR_XSD, PlanRollout { version: Some(2), ..PlanRollout::default() }),
        check_in(
            OPERATOR_XSD,
            PlanRolloutResponse {
                version: 2,
                devices: 2,
                group: vec![PlanGroup {
                    from_version: Some(1),
                    devices: 2,
                    command: vec![PlannedCommand {
                        kind: "configure".into(),
                        component: Some("web".into()),
                        summary: "configure /etc/web.conf".into(),
                    }],
                    device: vec!["web-1".into(), "web-2".into()],
                }],
            },
        ),
        check_in(OPERATOR_XSD, StartRollout { version: Some(2), policy: Some(policy()), ..StartRollout::default() }),
        check_in(OPERATOR_XSD, StartRolloutResponse { rollout: rollout() }),
        check_in(OPERATOR_XSD, ListRollouts { model: Some("m".into()), ..ListRollouts::default() }),
        check_in(OPERATOR_XSD, ListRolloutsResponse { rollout: vec![rollout()] }),
        check_in(OPERATOR_XSD, ShowRollout::default()),
        check_in(
            OPERATOR_XSD,
            ShowRolloutResponse {
                rollout: rollout(),
                device: vec![RolloutDevice {
                    device: "web-1".into(),
                    stage: 0,
                    state: "failed".into(),
                    from_version: Some(1),
                    commands: 1,
                    detail: Some("command 7 failed".into()),
                }],
            },
        ),
        check_in(OPERATOR_XSD, SteerRollout::default()),
        check_in(OPERATOR_XSD, SteerRolloutResponse { rollout: rollout() }),
        check_in(OPERATOR_XSD, ShowInventory::default()),
        check_in(
            OPERATOR_XSD,
            ShowInventoryResponse {
                device: "web-1".into(),
                taken_at: Some("2026-12-05T08:00:00Z".into()),
                occasion: Some("drained".into()),
                fact: vec![ParameterValue { name: "kernel".into(), value: "6.1.0".into() }],
                disk: vec![DiskInfo { mount: "/".into(), total_bytes: 10, available_bytes: 5 }],
                interface: vec![InterfaceInfo { name: "eth0".into(), address: vec!["192.0.2.1/24".into()] }],
                package: vec![InstalledInfo { name: "web".into(), version: "1".into(), format: "deb".into() }],
                file: vec![ManagedFileInfo {
                    path: "/etc/web.conf".into(),
                    component: "web".into(),
                    sha256: Some("ab".repeat(32)),
                    changed: true,
                }],
                plugin: vec![ParameterValue { name: "debian".into(), value: "0.1.0".into() }],
                report: vec![InventoryInfo {
                    taken_at: "2026-12-05T08:00:00Z".into(),
                    received_at: "2026-12-05T08:00:01Z".into(),
                    occasion: "drained".into(),
                    version: Some(3),
                    drift: 1,
                }],
            },
        ),
        check_in(OPERATOR_XSD, ListDrift { history: Some(true), limit: Some(5), ..ListDrift::default() }),
        check_in(
            OPERATOR_XSD,
            ListDriftResponse {
                drift: vec![DriftInfo {
                    id: 7,
                    device: "web-1".into(),
                    site: "shop".into(),
                    model: "webserver".into(),
                    kind: "file".into(),
                    category: Some("APP".into()),
                    component: Some("web".into()),
                    subject: "/etc/web.conf".into(),
                    expected: Some("ab".into()),
                    actual: Some("cd".into()),
                    diff: Some("-port=80\n+port=81".into()),
                    changed_by: Some("ann".into()),
                    version: Some(3),
                    first_seen: "2026-12-05T08:00:00Z".into(),
                    last_seen: "2026-12-05T08:00:00Z".into(),
                    resolved_at: Some("2026-12-05T09:00:00Z".into()),
                    resolution: Some("promoted into version 4".into()),
                }],
            },
        ),
        check_in(OPERATOR_XSD, RequestInventory { device: vec!["web-1".into()], ..RequestInventory::default() }),
        check_in(OPERATOR_XSD, RequestInventoryResponse::default()),
        check_in(OPERATOR_XSD, Remediate::default()),
        check_in(OPERATOR_XSD, RemediateResponse::default()),
        check_in(
            OPERATOR_XSD,
            PromoteDrift { reason: Some("r".into()), rollout: Some(policy()), ..PromoteDrift::default() },
        ),
        check_in(OPERATOR_XSD, PromoteDriftResponse { rollout: Some(5), ..PromoteDriftResponse::default() }),
    ]
    .into_iter()
    .collect();
    assert_eq!(declared(OPERATOR_XSD), elements, "operator XSD elements and Rust message types differ");
    let operations = wsdl_operations("outfit-operator.wsdl");
    assert_eq!(operations.len(), 48, "{operations:?}");
    for op in &operations {
        assert!(elements.contains(op) && elements.contains(&format!("{op}Response")), "{op}");
    }
}

/// The peer contract, to the same standard; its log entries carry the
/// operator contract's `RoleSpec`, validated through the XSD's import.
#[test]
fn every_peer_element_and_operation_has_a_rust_type_that_validates() {
    use outfit_wsdl::operator::{ComponentSpec, ConfigSpec, ParameterValue, RoleSpec};
    use outfit_wsdl::peer::*;
    const PEER_XSD: &str = "outfit-peer.xsd";
    let component = ComponentSpec {
        name: "site".into(),
        package_name: "shop".into(),
        version: "3.0".into(),
        format: "deb".into(),
        sha256: "ab".repeat(32),
        config: Some(ConfigSpec {
            path: "/etc/shop.conf".into(),
            template: "eD0xCg==".into(),
            ..ConfigSpec::default()
        }),
        plugin: None,
        parameter: vec![ParameterValue { name: "x".into(), value: "1".into() }],
    };
    let version = LogEntry {
        origin: "dc-a".into(),
        seq: 7,
        hlc: 1 << 40,
        site: "shop".into(),
        model: "web".into(),
        kind: "version".into(),
        version: Some(2),
        author: Some("ann".into()),
        reason: Some("why".into()),
        restores: Some(1),
        proposal_origin: Some("dc-b".into()),
        proposal_seq: Some(3),
        role: vec![RoleSpec { category: "CONTENT".into(), name: "site".into(), component: vec![component] }],
        ..LogEntry::default()
    };
    let decision = LogEntry {
        kind: "decision".into(),
        outcome: Some("refused".into()),
        outcome_reason: Some("version 2 came first".into()),
        proposal_origin: Some("dc-b".into()),
        proposal_seq: Some(3),
        ..LogEntry::default()
    };
    let elements: BTreeSet<String> = [
        check_in(PEER_XSD, PullLog { known: vec![Known { origin: "dc-a".into(), seq: 6 }] }),
        check_in(PEER_XSD, PullLogResponse { entry: vec![version, decision], more: true }),
        check_in(PEER_XSD, SiteDigest { site: "shop".into() }),
        check_in(PEER_XSD, SiteDigestResponse { digest: "cd".repeat(32) }),
    ]
    .into_iter()
    .collect();
    assert_eq!(declared(PEER_XSD), elements, "peer XSD elements and Rust message types differ");
    let operations = wsdl_operations("outfit-peer.wsdl");
    assert_eq!(operations, ["PullLog", "SiteDigest"].into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
    for op in &operations {
        assert!(elements.contains(op) && elements.contains(&format!("{op}Response")), "{op}");
    }
}

/// The file-server contract, to the same standard.
#[test]
fn every_file_server_element_and_operation_has_a_rust_type_that_validates() {
    use outfit_wsdl::file_server::*;
    const FILE_SERVER_XSD: &str = "outfit-file-server.xsd";
    let elements: BTreeSet<String> = [
        check_in(FILE_SERVER_XSD, CheckRelease::new(&[0x30, 0x82], "10.0.0.7:50000", &"ab".repeat(32))),
        check_in(FILE_SERVER_XSD, CheckReleaseResponse { allowed: true, reason: None, valid_seconds: 10 }),
        check_in(
            FILE_SERVER_XSD,
            CheckReleaseResponse { allowed: false, reason: Some("not in its model".into()), valid_seconds: 0 },
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(declared(FILE_SERVER_XSD), elements, "file-server XSD elements and Rust message types differ");
    let operations = wsdl_operations("outfit-file-server.wsdl");
    assert_eq!(operations, ["CheckRelease"].into_iter().map(str::to_owned).collect::<BTreeSet<_>>());
}
