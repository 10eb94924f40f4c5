//! Trust operations: `SaveOperator`, `IssueOperatorCertificate`,
//! `RevokeOperatorCertificates`, `AddGroup`, `JoinGroup`, `Grant`.

use outfit_app::{Failure, Refusal, Services};
use outfit_domain::rights::{Action, Caller, Holder, Right};
use outfit_wsdl::operator as wire;

pub fn save_operator(
    s: &Services,
    caller: &Caller,
    m: wire::SaveOperator,
) -> Result<wire::SaveOperatorResponse, Failure> {
    Ok(wire::SaveOperatorResponse { created: s.save_operator(caller, &m.operator, &m.password)? })
}

pub fn issue_certificate(
    s: &Services,
    caller: &Caller,
    m: wire::IssueOperatorCertificate,
) -> Result<wire::IssueOperatorCertificateResponse, Failure> {
    let days = m.days.map_or(365, |d| d.max(1) as u64);
    let issued = s.issue_operator_certificate(caller, &m.operator, days)?;
    Ok(wire::IssueOperatorCertificateResponse { certificate: issued.cert_pem, key: issued.key_pem })
}

pub fn revoke_certificates(
    s: &Services,
    caller: &Caller,
    m: wire::RevokeOperatorCertificates,
) -> Result<wire::RevokeOperatorCertificatesResponse, Failure> {
    Ok(wire::RevokeOperatorCertificatesResponse {
        revoked: s.revoke_operator_certificates(caller, &m.operator)? as i32,
    })
}

pub fn add_group(s: &Services, caller: &Caller, m: wire::AddGroup) -> Result<wire::AddGroupResponse, Failure> {
    Ok(wire::AddGroupResponse { created: s.add_group(caller, &m.group)? })
}

pub fn join_group(s: &Services, caller: &Caller, m: wire::JoinGroup) -> Result<wire::JoinGroupResponse, Failure> {
    s.join_group(caller, &m.group, &m.operator)?;
    Ok(wire::JoinGroupResponse { group: m.group })
}

pub fn grant(s: &Services, caller: &Caller, m: wire::Grant) -> Result<wire::GrantResponse, Failure> {
    let object = m.operator.clone().or_else(|| m.group.clone()).unwrap_or_default();
    let refuse =
        |message: String| s.refuse_input(caller, "Grant", m.site.as_deref(), &object, Refusal::invalid(message));
    let holder = match (&m.operator, &m.group) {
        (Some(operator), None) => Holder::Operator(operator),
        (None, Some(group)) => Holder::Group(group),
        _ => return Err(refuse("name an operator or a group, one of the two".into())),
    };
    let action = Action::parse(&m.action)
        .ok_or_else(|| refuse(format!("`{}` is not read, change, deploy or admin", m.action)))?;
    let right = Right { action, site: m.site, category: m.category };
    s.grant(caller, holder, &right)?;
    Ok(wire::GrantResponse { right: format!("{holder} may now {}", right.describe()) })
}
