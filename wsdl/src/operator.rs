//! The operator services' messages (mirroring `outfit-operator.xsd`) and their
//! envelope, whose Header carries a WS-Security UsernameToken — what SOAP
//! toolkits such as zeep and suds send for username/password authentication.
//!
//! **Invariant:** as for the agent protocol, a request with no known
//! operation, or a missing field, or no UsernameToken is an error with a
//! stable fault code, never a half-empty message.

use crate::envelope::{Answer, FaultCode, SoapFault, ensure_single, parse_document};
pub use crate::operator_messages::*;
use yaserde::{YaDeserialize, YaSerialize};

/// The WS-Security 1.0 (OASIS 2004) namespaces.
pub const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Envelope",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "op" = "urn:outfit:operator:1",
        "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    }
)]
pub struct OperatorEnvelope {
    #[yaserde(rename = "Header", prefix = "soapenv")]
    pub header: Option<Header>,
    #[yaserde(rename = "Body", prefix = "soapenv")]
    pub body: OperatorBody,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Header",
    prefix = "soapenv",
    namespaces = {
        "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/",
        "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    }
)]
pub struct Header {
    #[yaserde(rename = "Security", prefix = "wsse")]
    pub security: Option<Security>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Security",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct Security {
    #[yaserde(rename = "UsernameToken", prefix = "wsse")]
    pub username_token: Option<UsernameToken>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "UsernameToken",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct UsernameToken {
    #[yaserde(rename = "Username", prefix = "wsse")]
    pub username: String,
    #[yaserde(rename = "Password", prefix = "wsse")]
    pub password: Option<Password>,
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
#[yaserde(
    rename = "Password",
    prefix = "wsse",
    namespaces = { "wsse" = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" }
)]
pub struct Password {
    /// `…#PasswordText` (or absent, which means the same); digests are refused.
    #[yaserde(attribute = true, rename = "Type")]
    pub kind: Option<String>,
    #[yaserde(text = true)]
    pub value: String,
}

/// Declares every operator operation once: the Body that carries its
/// request and response elements, the request and response enums, and their
/// decoding and encoding.
macro_rules! operations {
    ($($op:ident { $req:ident: $req_name:tt, $resp:ident: $resp_name:tt => $resp_ty:ident }),* $(,)?) => {
        #[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize)]
        #[yaserde(
            rename = "Body",
            prefix = "soapenv",
            namespaces = { "soapenv" = "http://schemas.xmlsoap.org/soap/envelope/", "op" = "urn:outfit:operator:1" }
        )]
        pub struct OperatorBody {
            /// A response's Fault (the gateway encodes faults with
            /// [`crate::envelope::encode_fault`]; clients read them here).
            #[yaserde(rename = "Fault", prefix = "soapenv")]
            pub fault: Option<crate::envelope::Fault>,
            $(
                #[yaserde(rename = $req_name, prefix = "op")]
                pub $req: Option<$op>,
                #[yaserde(rename = $resp_name, prefix = "op")]
                pub $resp: Option<$resp_ty>,
            )*
        }

        /// An operator request as the gateway's operator endpoint sees it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum OperatorRequest {
            $($op($op),)*
        }

        /// A response of the operator service.
        #[derive(Debug, Clone, PartialEq)]
        pub enum OperatorResponse {
            $($op($resp_ty),)*
        }

        impl OperatorRequest {
            pub fn operation(&self) -> &'static str {
                match self {
                    $(Self::$op(_) => $req_name,)*
                }
            }

            /// The one request a Body holds.
            fn take(body: OperatorBody) -> Result<Self, SoapFault> {
                let found = 0 $(+ usize::from(body.$req.is_some()))*;
                ensure_single(found, crate::OPERATOR_NS)?;
                $(
                    if let Some(m) = body.$req {
                        return Ok(Self::$op(m));
                    }
                )*
                unreachable!("ensure_single checked that one operation is present")
            }

            fn into_body(self) -> OperatorBody {
                let mut body = OperatorBody::default();
                match self {
                    $(Self::$op(m) => body.$req = Some(m),)*
                }
                body
            }
        }

        impl OperatorResponse {
            fn into_body(self) -> OperatorBody {
                let mut body = OperatorBody::default();
                match self {
                    $(Self::$op(m) => body.$resp = Some(m),)*
                }
                body
            }

            /// The response a Body holds for `operation` (`None`: not that one).
            fn take(body: OperatorBody, operation: &str) -> Option<Self> {
                $(
                    if operation == $req_name {
                        return body.$resp.map(Self::$op);
                    }
                )*
                None
            }
        }
    };
}

operations! {
    SetParameter { set_parameter: "SetParameter", set_parameter_response: "SetParameterResponse" => SetParameterResponse },
    Provision { provision: "Provision", provision_response: "ProvisionResponse" => ProvisionResponse },
    ProvisionMany { provision_many: "ProvisionMany", provision_many_response: "ProvisionManyResponse" => ProvisionManyResponse },
    ListDevices { list_devices: "ListDevices", list_devices_response: "ListDevicesResponse" => ListDevicesResponse },
    ShowDevice { show_device: "ShowDevice", show_device_response: "ShowDeviceResponse" => ShowDeviceResponse },
    AddDevice { add_device: "AddDevice", add_device_response: "AddDeviceResponse" => AddDeviceResponse },
    IssueToken { issue_token: "IssueToken", issue_token_response: "IssueTokenResponse" => IssueTokenResponse },
    RevokeDevice { revoke_device: "RevokeDevice", revoke_device_response: "RevokeDeviceResponse" => RevokeDeviceResponse },
    ListEnrolmentRequests { list_enrolment_requests: "ListEnrolmentRequests", list_enrolment_requests_response: "ListEnrolmentRequestsResponse" => ListEnrolmentRequestsResponse },
    ApproveEnrolment { approve_enrolment: "ApproveEnrolment", approve_enrolment_response: "ApproveEnrolmentResponse" => ApproveEnrolmentResponse },
    RejectEnrolment { reject_enrolment: "RejectEnrolment", reject_enrolment_response: "RejectEnrolmentResponse" => RejectEnrolmentResponse },
    ShowQueue { show_queue: "ShowQueue", show_queue_response: "ShowQueueResponse" => ShowQueueResponse },
    Retry { retry: "Retry", retry_response: "RetryResponse" => RetryResponse },
    Skip { skip: "Skip", skip_response: "SkipResponse" => SkipResponse },
    Abort { abort: "Abort", abort_response: "AbortResponse" => AbortResponse },
    Reboot { reboot: "Reboot", reboot_response: "RebootResponse" => RebootResponse },
    ListScripts { list_scripts: "ListScripts", list_scripts_response: "ListScriptsResponse" => ListScriptsResponse },
    RunScript { run_script: "RunScript", run_script_response: "RunScriptResponse" => RunScriptResponse },
    RollbackPlugin { rollback_plugin: "RollbackPlugin", rollback_plugin_response: "RollbackPluginResponse" => RollbackPluginResponse },
    SaveOperator { save_operator: "SaveOperator", save_operator_response: "SaveOperatorResponse" => SaveOperatorResponse },
    IssueOperatorCertificate { issue_operator_certificate: "IssueOperatorCertificate", issue_operator_certificate_response: "IssueOperatorCertificateResponse" => IssueOperatorCertificateResponse },
    RevokeOperatorCertificates { revoke_operator_certificates: "RevokeOperatorCertificates", revoke_operator_certificates_response: "RevokeOperatorCertificatesResponse" => RevokeOperatorCertificatesResponse },
    AddGroup { add_group: "AddGroup", add_group_response: "AddGroupResponse" => AddGroupResponse },
    JoinGroup { join_group: "JoinGroup", join_group_response: "JoinGroupResponse" => JoinGroupResponse },
    Grant { grant: "Grant", grant_response: "GrantResponse" => GrantResponse },
    ListAudit { list_audit: "ListAudit", list_audit_response: "ListAuditResponse" => ListAuditResponse },
    ImportModel { import_model: "ImportModel", import_model_response: "ImportModelResponse" => ImportModelResponse },
    ListModels { list_models: "ListModels", list_models_response: "ListModelsResponse" => ListModelsResponse },
    ShowModel { show_model: "ShowModel", show_model_response: "ShowModelResponse" => ShowModelResponse },
    ListPackages { list_packages: "ListPackages", list_packages_response: "ListPackagesResponse" => ListPackagesResponse },
    ImportScript { import_script: "ImportScript", import_script_response: "ImportScriptResponse" => ImportScriptResponse },
    InstallPlugin { install_plugin: "InstallPlugin", install_plugin_response: "InstallPluginResponse" => InstallPluginResponse },
    ListProposals { list_proposals: "ListProposals", list_proposals_response: "ListProposalsResponse" => ListProposalsResponse },
    ListModelVersions { list_model_versions: "ListModelVersions", list_model_versions_response: "ListModelVersionsResponse" => ListModelVersionsResponse },
    DiffModel { diff_model: "DiffModel", diff_model_response: "DiffModelResponse" => DiffModelResponse },
    RollbackModel { rollback_model: "RollbackModel", rollback_model_response: "RollbackModelResponse" => RollbackModelResponse },
    ListCategories { list_categories: "ListCategories", list_categories_response: "ListCategoriesResponse" => ListCategoriesResponse },
    AddCategory { add_category: "AddCategory", add_category_response: "AddCategoryResponse" => AddCategoryResponse },
    PlanRollout { plan_rollout: "PlanRollout", plan_rollout_response: "PlanRolloutResponse" => PlanRolloutResponse },
    StartRollout { start_rollout: "StartRollout", start_rollout_response: "StartRolloutResponse" => StartRolloutResponse },
    ListRollouts { list_rollouts: "ListRollouts", list_rollouts_response: "ListRolloutsResponse" => ListRolloutsResponse },
    ShowRollout { show_rollout: "ShowRollout", show_rollout_response: "ShowRolloutResponse" => ShowRolloutResponse },
    SteerRollout { steer_rollout: "SteerRollout", steer_rollout_response: "SteerRolloutResponse" => SteerRolloutResponse },
    ShowInventory { show_inventory: "ShowInventory", show_inventory_response: "ShowInventoryResponse" => ShowInventoryResponse },
    ListDrift { list_drift: "ListDrift", list_drift_response: "ListDriftResponse" => ListDriftResponse },
    RequestInventory { request_inventory: "RequestInventory", request_inventory_response: "RequestInventoryResponse" => RequestInventoryResponse },
    Remediate { remediate: "Remediate", remediate_response: "RemediateResponse" => RemediateResponse },
    PromoteDrift { promote_drift: "PromoteDrift", promote_drift_response: "PromoteDriftResponse" => PromoteDriftResponse }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, serde::Serialize)]
#[yaserde(rename = "SetParameter", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SetParameter {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub model: String,
    #[yaserde(prefix = "op")]
    pub category: String,
    #[yaserde(prefix = "op")]
    pub component: String,
    #[yaserde(prefix = "op")]
    pub name: String,
    #[yaserde(prefix = "op")]
    pub value: String,
    /// Why (recorded with the version).
    #[yaserde(prefix = "op")]
    pub reason: Option<String>,
    /// Roll the new version out (absent: do not).
    #[yaserde(prefix = "op")]
    pub rollout: Option<RolloutPolicy>,
}

impl SetParameter {
    /// Every field but `value` (which may be empty) is required.
    pub fn validate(&self) -> Result<(), &'static str> {
        for (value, name) in [
            (&self.site, "site"),
            (&self.model, "model"),
            (&self.category, "category"),
            (&self.component, "component"),
            (&self.name, "name"),
        ] {
            if value.trim().is_empty() {
                return Err(name);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, serde::Serialize)]
#[yaserde(rename = "SetParameterResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct SetParameterResponse {
    #[yaserde(rename = "modelVersion", prefix = "op")]
    pub model_version: i32,
    #[yaserde(prefix = "op")]
    pub created: bool,
    /// The rollout it started or prepared.
    #[yaserde(prefix = "op")]
    pub rollout: Option<i64>,
    /// The site's home is another data centre: the change went there as this
    /// proposal (`ORIGIN#SEQ`) and nothing was added here.
    #[yaserde(prefix = "op")]
    pub proposal: Option<String>,
}

/// Builds one device of a site to its model's current version (queues the
/// commands and pokes the agent). Needs the `deploy` right for that site and
/// every role category of the model.
#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, serde::Serialize)]
#[yaserde(rename = "Provision", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct Provision {
    #[yaserde(prefix = "op")]
    pub site: String,
    #[yaserde(prefix = "op")]
    pub device: String,
}

impl Provision {
    pub fn validate(&self) -> Result<(), &'static str> {
        for (value, name) in [(&self.site, "site"), (&self.device, "device")] {
            if value.trim().is_empty() {
                return Err(name);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Default, YaSerialize, YaDeserialize, serde::Serialize)]
#[yaserde(rename = "ProvisionResponse", prefix = "op", namespaces = { "op" = "urn:outfit:operator:1" })]
#[serde(rename_all = "camelCase")]
pub struct ProvisionResponse {
    /// How many commands were queued.
    #[yaserde(prefix = "op")]
    pub commands: i32,
}

/// The claimed identity of an operator request (checked by the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Decodes an operator request. The operation is decoded even when the
/// credentials are missing, so the audit log can say what was attempted.
pub fn decode_operator_request(xml: &[u8]) -> Result<(OperatorRequest, Result<Credentials, SoapFault>), SoapFault> {
    let envelope: OperatorEnvelope = parse_document(xml)?;
    let request = OperatorRequest::take(envelope.body)?;
    match &request {
        OperatorRequest::SetParameter(m) => m.validate().map_err(SoapFault::missing)?,
        OperatorRequest::Provision(m) => m.validate().map_err(SoapFault::missing)?,
        _ => {}
    }
    Ok((request, credentials(envelope.header)))
}

fn credentials(header: Option<Header>) -> Result<Credentials, SoapFault> {
    let unauthenticated = |why: &str| SoapFault::new(FaultCode::Unauthenticated, why.to_owned());
    let token = header
        .and_then(|h| h.security)
        .and_then(|s| s.username_token)
        .ok_or_else(|| unauthenticated("a WS-Security UsernameToken is required in the SOAP Header"))?;
    let password = token.password.ok_or_else(|| unauthenticated("the UsernameToken has no Password"))?;
    if password.kind.as_deref().is_some_and(|kind| kind != PASSWORD_TEXT) {
        return Err(unauthenticated("only PasswordText UsernameTokens are accepted (the channel is TLS)"));
    }
    if token.username.trim().is_empty() {
        return Err(unauthenticated("the UsernameToken has no Username"));
    }
    Ok(Credentials { username: token.username.trim().to_owned(), password: password.value })
}

impl OperatorRequest {
    /// A request envelope with a PasswordText UsernameToken (what the CLI and tests send).
    pub fn encode(self, credentials: &Credentials) -> String {
        self.encode_with(Some(credentials))
    }

    /// A request envelope, with a UsernameToken or (for a caller who presents
    /// an operator client certificate) without one.
    pub fn encode_with(self, credentials: Option<&Credentials>) -> String {
        let header = credentials.map(|credentials| Header {
            security: Some(Security {
                username_token: Some(UsernameToken {
                    username: credentials.username.clone(),
                    password: Some(Password { kind: Some(PASSWORD_TEXT.into()), value: credentials.password.clone() }),
                }),
            }),
        });
        to_xml(&OperatorEnvelope { header, body: self.into_body() })
    }
}

/// What a client reads back: the response of `operation`, or a Fault.
pub fn decode_operator_response(xml: &[u8], operation: &str) -> Result<Answer<OperatorResponse>, SoapFault> {
    let mut envelope: OperatorEnvelope = parse_document(xml)?;
    if let Some(fault) = envelope.body.fault.take() {
        return Ok(Answer::Fault(fault.into()));
    }
    OperatorResponse::take(envelope.body, operation).map(Answer::Ok).ok_or_else(|| {
        SoapFault::new(FaultCode::UnknownOperation, format!("the response Body holds no {operation}Response"))
    })
}

/// A response envelope of the operator service (faults use [`crate::envelope::encode_fault`]).
pub fn encode_response(response: OperatorResponse) -> String {
    to_xml(&OperatorEnvelope { header: None, body: response.into_body() })
}

fn to_xml(envelope: &OperatorEnvelope) -> String {
    yaserde::ser::to_string(envelope).expect("serializing an in-memory envelope cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SetParameter {
        SetParameter {
            site: "x".into(),
            model: "web".into(),
            category: "CONTENT".into(),
            component: "site".into(),
            name: "greeting".into(),
            value: "hi".into(),
            ..SetParameter::default()
        }
    }

    #[test]
    fn request_and_credentials_round_trip() {
        let credentials = Credentials { username: "ann".into(), password: "s3cret <&>".into() };
        let xml = OperatorRequest::SetParameter(request()).encode(&credentials);
        let (decoded, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(decoded, OperatorRequest::SetParameter(request()));
        assert_eq!(claimed.unwrap(), credentials);
    }

    #[test]
    fn a_request_without_a_token_decodes_but_is_unauthenticated() {
        let xml = format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <o:SetParameter xmlns:o="{}"><o:site>x</o:site><o:model>web</o:model><o:category>OS</o:category>
            <o:component>c</o:component><o:name>n</o:name><o:value>v</o:value></o:SetParameter></s:Body></s:Envelope>"#,
            crate::OPERATOR_NS
        );
        let (_, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(claimed.unwrap_err().code, FaultCode::Unauthenticated);
    }

    #[test]
    fn a_digest_token_and_a_missing_field_are_refused() {
        let xml = OperatorRequest::SetParameter(request())
            .encode(&Credentials { username: "ann".into(), password: "p".into() })
            .replace("#PasswordText", "#PasswordDigest");
        let (_, claimed) = decode_operator_request(xml.as_bytes()).unwrap();
        assert_eq!(claimed.unwrap_err().code, FaultCode::Unauthenticated);
        let missing = OperatorRequest::SetParameter(SetParameter { component: String::new(), ..request() })
            .encode(&Credentials { username: "ann".into(), password: "p".into() });
        let fault = decode_operator_request(missing.as_bytes()).unwrap_err();
        assert_eq!(fault.code, FaultCode::MissingField);
        assert!(fault.message.contains("component"), "{}", fault.message);
    }
}
