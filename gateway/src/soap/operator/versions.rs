//! A model's history and the role categories: `ListModelVersions`, `ListProposals`,
//! `DiffModel`, `RollbackModel`, `ListCategories`, `AddCategory`.

use super::iso8601;
use super::rollouts::follow;
use outfit_app::{Failure, Services};
use outfit_domain::rights::Caller;
use outfit_wsdl::operator as wire;

pub fn list(
    s: &Services,
    caller: &Caller,
    m: wire::ListModelVersions,
) -> Result<wire::ListModelVersionsResponse, Failure> {
    let version = s
        .model_history(caller, &m.site, &m.model)?
        .into_iter()
        .map(|v| wire::ModelVersionInfo {
            version: v.version,
            author: v.author,
            reason: v.reason,
            restores: v.restores,
            created_at: iso8601(v.created_at),
            current: v.current,
        })
        .collect();
    Ok(wire::ListModelVersionsResponse { version })
}

pub fn proposals(
    s: &Services,
    caller: &Caller,
    m: wire::ListProposals,
) -> Result<wire::ListProposalsResponse, Failure> {
    let proposal = s
        .proposals(caller, &m.site, m.model.as_deref())?
        .into_iter()
        .map(|p| wire::ProposalInfo {
            origin: p.origin,
            seq: p.seq,
            model: p.model,
            base_version: p.base_version,
            author: p.author,
            reason: p.reason,
            state: p.state,
            version: p.version,
            decision: p.decision,
        })
        .collect();
    Ok(wire::ListProposalsResponse { proposal })
}

pub fn diff(s: &Services, caller: &Caller, m: wire::DiffModel) -> Result<wire::DiffModelResponse, Failure> {
    let (to, differences) = s.diff_model(caller, &m.site, &m.model, m.from, m.to)?;
    let difference = differences
        .into_iter()
        .map(|d| wire::Difference {
            category: d.category,
            component: d.component,
            kind: d.kind.as_str().to_owned(),
            name: Some(d.name).filter(|n| !n.is_empty()),
            before: d.before,
            after: d.after,
            text_diff: d.text_diff,
        })
        .collect();
    Ok(wire::DiffModelResponse { from: m.from, to, difference })
}

pub fn rollback(s: &Services, caller: &Caller, m: wire::RollbackModel) -> Result<wire::RollbackModelResponse, Failure> {
    let changed = s.rollback_model(caller, &m.site, &m.model, m.version, m.reason.as_deref(), follow(m.rollout))?;
    Ok(wire::RollbackModelResponse {
        model_version: changed.imported.version,
        created: changed.imported.created,
        rollout: changed.rollout.map(|id| id.0),
        proposal: changed.imported.proposed.as_ref().map(ToString::to_string),
    })
}

pub fn categories(
    s: &Services,
    caller: &Caller,
    _: wire::ListCategories,
) -> Result<wire::ListCategoriesResponse, Failure> {
    let category = s
        .categories(caller)?
        .into_iter()
        .map(|c| wire::CategoryInfo { name: c.name, rank: c.rank, description: c.description })
        .collect();
    Ok(wire::ListCategoriesResponse { category })
}

pub fn add_category(s: &Services, caller: &Caller, m: wire::AddCategory) -> Result<wire::AddCategoryResponse, Failure> {
    let category = s.add_category(caller, &m.name, m.after.as_deref(), m.description.as_deref())?;
    Ok(wire::AddCategoryResponse { rank: category.rank })
}
