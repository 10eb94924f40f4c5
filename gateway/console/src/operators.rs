//! Operators, groups and rights: who may do what on which site's role
//! categories, and the forms that change it (adding an operator or setting a
//! new password, granting a right, groups, revoking certificates). Every one
//! needs `admin` everywhere, as in the operator API.

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::operators::HolderListing;
use outfit_domain::rights::{Action, Holder, Right};

#[derive(Template)]
#[template(path = "operators.html")]
struct OperatorsPage {
    frame: Frame,
    holders: Vec<HolderListing>,
    actions: Vec<&'static str>,
    notice: Option<String>,
}

pub(crate) fn list(c: &Ctx<'_>) -> Result<Response, Shown> {
    let holders = c.services.personnel(c.caller())?;
    let actions = Action::ALL.iter().map(|a| a.as_str()).collect();
    page::ok(OperatorsPage { frame: c.frame("operators"), holders, actions, notice: c.notice() })
}

fn done(notice: &str) -> Response {
    page::done("/console/operators", notice)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct OperatorForm {
    name: String,
    password: String,
}

/// Adds an operator, or sets a new password (which ends their console sessions).
pub(crate) fn save(c: &Ctx<'_>) -> Result<Response, Shown> {
    let form: OperatorForm = c.form()?;
    let new = c.services.save_operator(c.caller(), form.name.trim(), &form.password)?;
    Ok(done(&if new {
        format!("Operator {} added.", form.name.trim())
    } else {
        format!("New password for {}.", form.name.trim())
    }))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct GrantForm {
    /// `operator` or `group`.
    kind: String,
    holder: String,
    action: String,
    site: String,
    category: String,
}

/// Grants a right to an operator or a group.
pub(crate) fn grant(c: &Ctx<'_>) -> Result<Response, Shown> {
    let form: GrantForm = c.form()?;
    let action =
        Action::parse(&form.action).ok_or_else(|| Shown::invalid(format!("`{}` is no action", form.action)))?;
    let holder = form.holder.trim();
    let holder = match form.kind.as_str() {
        "group" => Holder::Group(holder),
        _ => Holder::Operator(holder),
    };
    let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let right = Right { action, site: optional(&form.site), category: optional(&form.category) };
    c.services.grant(c.caller(), holder, &right)?;
    Ok(done(&format!("{holder} may now {}.", right.describe())))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct GroupForm {
    group: String,
    operator: String,
}

/// Adds a group, and with an operator named, makes them a member.
pub(crate) fn group(c: &Ctx<'_>) -> Result<Response, Shown> {
    let form: GroupForm = c.form()?;
    let (group, operator) = (form.group.trim(), form.operator.trim());
    c.services.add_group(c.caller(), group)?;
    if operator.is_empty() {
        return Ok(done(&format!("Group {group} exists.")));
    }
    c.services.join_group(c.caller(), group, operator)?;
    Ok(done(&format!("{operator} is a member of {group}.")))
}

/// Revokes every certificate of an operator.
pub(crate) fn revoke(c: &Ctx<'_>) -> Result<Response, Shown> {
    let form: OperatorForm = c.form()?;
    let n = c.services.revoke_operator_certificates(c.caller(), form.name.trim())?;
    Ok(done(&format!("{n} certificates of {} revoked.", form.name.trim())))
}
