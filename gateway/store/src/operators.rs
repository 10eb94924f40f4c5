//! Personnel in the trust hierarchy: operators, their groups and client
//! certificates, and the rights they hold per site × role category × action
//! (the decision is the domain's: `outfit_domain::rights`).
//!
//! **Invariant:** nothing is allowed without a right row, held by the operator
//! or by a group they belong to; a right with no site covers every site, one
//! with no category every category.

use super::schema::*;
use super::{DbConnection, Result, Session, Storage, StorageError, now_ms, site_id};
use diesel::prelude::*;
use outfit_domain::ids::OperatorId;
use outfit_domain::rights::{Action, Holder, Right, Rights};

/// A right as stored: (operator, group, site, category).
type RightRow = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// An operator as authentication needs it.
#[derive(Debug, Clone)]
pub struct OperatorRow {
    pub id: OperatorId,
    pub name: String,
    pub password_hash: String,
}

impl Storage {
    /// Adds an operator, or replaces the password hash of an existing one.
    /// Returns true when the operator is new.
    pub fn save_operator(&self, name: &str, password_hash: &str) -> Result<bool> {
        self.transaction(|conn| {
            let existing: Option<i64> =
                operators::table.filter(operators::name.eq(name)).select(operators::id).first(conn).optional()?;
            match existing {
                Some(id) => {
                    diesel::update(operators::table.find(id))
                        .set(operators::password_hash.eq(password_hash))
                        .execute(conn)?;
                }
                None => {
                    diesel::insert_into(operators::table)
                        .values((
                            operators::name.eq(name),
                            operators::password_hash.eq(password_hash),
                            operators::created_at.eq(now_ms()),
                        ))
                        .execute(conn)?;
                }
            }
            Ok(existing.is_none())
        })
    }

    pub fn operator(&self, name: &str) -> Result<Option<OperatorRow>> {
        let mut conn = self.conn()?;
        let row: Option<(i64, String, String)> = operators::table
            .filter(operators::name.eq(name))
            .select((operators::id, operators::name, operators::password_hash))
            .first(&mut conn)
            .optional()?;
        Ok(row.map(|(id, name, password_hash)| OperatorRow { id: OperatorId(id), name, password_hash }))
    }

    /// Adds a group of operators; returns false if it exists already.
    pub fn add_group(&self, name: &str) -> Result<bool> {
        self.transaction(|conn| {
            let exists: i64 = operator_groups::table.filter(operator_groups::name.eq(name)).count().get_result(conn)?;
            if exists == 0 {
                diesel::insert_into(operator_groups::table)
                    .values((operator_groups::name.eq(name), operator_groups::created_at.eq(now_ms())))
                    .execute(conn)?;
            }
            Ok(exists == 0)
        })
    }

    /// Makes `operator` a member of `group` (once).
    pub fn join_group(&self, group: &str, operator: &str) -> Result<()> {
        self.transaction(|conn| {
            let (group, operator) = (group_id(conn, group)?, operator_id(conn, operator)?);
            let member = group_members::table.filter(group_members::group_id.eq(group));
            let already: i64 = member.filter(group_members::operator_id.eq(operator)).count().get_result(conn)?;
            if already == 0 {
                diesel::insert_into(group_members::table)
                    .values((group_members::group_id.eq(group), group_members::operator_id.eq(operator)))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Grants `holder` `action` on `site` (None: every site) for `category`
    /// (None: every category). Granting a right already held changes nothing.
    pub fn grant(&self, holder: Holder, site: Option<&str>, category: Option<&str>, action: Action) -> Result<()> {
        self.transaction(|conn| {
            let (operator, group) = match holder {
                Holder::Operator(name) => (Some(operator_id(conn, name)?), None),
                Holder::Group(name) => (None, Some(group_id(conn, name)?)),
            };
            let site = site.map(|s| site_id(conn, s)).transpose()?;
            let category = category.map(|c| category_id(conn, c)).transpose()?;
            let held: Vec<RightRow> = operator_rights::table
                .filter(operator_rights::action.eq(action.as_str()))
                .select((
                    operator_rights::operator_id,
                    operator_rights::group_id,
                    operator_rights::site_id,
                    operator_rights::category_id,
                ))
                .load(conn)?;
            if !held.contains(&(operator, group, site, category)) {
                diesel::insert_into(operator_rights::table)
                    .values((
                        operator_rights::operator_id.eq(operator),
                        operator_rights::group_id.eq(group),
                        operator_rights::site_id.eq(site),
                        operator_rights::category_id.eq(category),
                        operator_rights::action.eq(action.as_str()),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Every right `operator` holds, directly or through a group.
    pub fn rights_of(&self, operator: OperatorId) -> Result<Rights> {
        rights_of(&mut *self.conn()?, operator)
    }

    /// Records a client certificate the CA signed for operator `name`.
    pub fn record_operator_certificate(&self, name: &str, fingerprint: &str, not_after_ms: i64) -> Result<()> {
        self.transaction(|conn| {
            let operator = operator_id(conn, name)?;
            diesel::insert_into(operator_certificates::table)
                .values((
                    operator_certificates::operator_id.eq(operator),
                    operator_certificates::sha256.eq(fingerprint),
                    operator_certificates::not_after.eq(not_after_ms),
                    operator_certificates::issued_at.eq(now_ms()),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Revokes every certificate of operator `name`; returns how many were valid.
    pub fn revoke_operator_certificates(&self, name: &str) -> Result<usize> {
        self.transaction(|conn| {
            let operator = operator_id(conn, name)?;
            Ok(diesel::update(
                operator_certificates::table
                    .filter(operator_certificates::operator_id.eq(operator))
                    .filter(operator_certificates::revoked_at.is_null()),
            )
            .set(operator_certificates::revoked_at.eq(now_ms()))
            .execute(conn)?)
        })
    }

    /// The operator a client certificate authenticates (unexpired, not revoked).
    pub fn operator_by_certificate(&self, fingerprint: &str) -> Result<Option<OperatorRow>> {
        operator_by_certificate(&mut *self.conn()?, fingerprint)
    }
}

impl Session<'_> {
    /// (component, configuration path) of every configured component of
    /// `category` in the current version of `device`'s model.
    pub fn configured_paths(
        &mut self,
        device: &outfit_domain::device::Device,
        category: &str,
    ) -> Result<Vec<(String, String)>> {
        let Some(version) = models::table.find(device.model.0).select(models::current_version_id).first(self.conn)?
        else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, Option<String>)> = model_version_roles::table
            .inner_join(role_categories::table)
            .inner_join(role_versions::table.inner_join(role_version_components::table.inner_join(components::table)))
            .filter(model_version_roles::model_version_id.eq::<i64>(version))
            .filter(role_categories::name.eq(category))
            .select((components::name, components::config_path))
            .load(self.conn)?;
        Ok(rows.into_iter().filter_map(|(name, path)| path.map(|p| (name, p))).collect())
    }

    pub fn site_name(&mut self, site: outfit_domain::ids::SiteId) -> Result<String> {
        Ok(sites::table.find(site.0).select(sites::name).first(self.conn)?)
    }

    /// [`Storage::operator_by_certificate`] in the exchange's transaction.
    pub fn operator_by_certificate(&mut self, fingerprint: &str) -> Result<Option<OperatorRow>> {
        operator_by_certificate(self.conn, fingerprint)
    }

    /// [`Storage::rights_of`] in the exchange's transaction.
    pub fn rights_of(&mut self, operator: OperatorId) -> Result<Rights> {
        rights_of(self.conn, operator)
    }
}

fn operator_id(conn: &mut DbConnection, name: &str) -> Result<i64> {
    operators::table
        .filter(operators::name.eq(name))
        .select(operators::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "operator", name: name.to_owned() })
}

fn group_id(conn: &mut DbConnection, name: &str) -> Result<i64> {
    operator_groups::table
        .filter(operator_groups::name.eq(name))
        .select(operator_groups::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "group", name: name.to_owned() })
}

fn operator_by_certificate(conn: &mut DbConnection, fingerprint: &str) -> Result<Option<OperatorRow>> {
    let row: Option<(i64, String, String)> = operator_certificates::table
        .inner_join(operators::table)
        .filter(operator_certificates::sha256.eq(fingerprint))
        .filter(operator_certificates::revoked_at.is_null())
        .filter(operator_certificates::not_after.gt(now_ms()))
        .select((operators::id, operators::name, operators::password_hash))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, name, password_hash)| OperatorRow { id: OperatorId(id), name, password_hash }))
}

fn rights_of(conn: &mut DbConnection, operator: OperatorId) -> Result<Rights> {
    let groups = group_members::table
        .filter(group_members::operator_id.eq(operator.0))
        .select(group_members::group_id.nullable());
    let rows: Vec<(String, Option<String>, Option<String>)> = operator_rights::table
        .left_join(sites::table.on(operator_rights::site_id.eq(sites::id.nullable())))
        .left_join(role_categories::table.on(operator_rights::category_id.eq(role_categories::id.nullable())))
        .filter(operator_rights::operator_id.eq(operator.0).or(operator_rights::group_id.eq_any(groups)))
        .select((operator_rights::action, sites::name.nullable(), role_categories::name.nullable()))
        .load(conn)?;
    let mut rights = Vec::with_capacity(rows.len());
    for (action, site, category) in rows {
        let action = Action::parse(&action)
            .ok_or_else(|| StorageError::Invalid(format!("operator_rights.action `{action}` is no action")))?;
        rights.push(Right { action, site, category });
    }
    Ok(Rights(rights))
}

fn category_id(conn: &mut DbConnection, name: &str) -> Result<i64> {
    role_categories::table
        .filter(role_categories::name.eq(name))
        .select(role_categories::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "role category", name: name.to_owned() })
}
