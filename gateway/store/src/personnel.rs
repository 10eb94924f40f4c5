//! The trust hierarchy's personnel as one listing: every operator and group,
//! who belongs to which, the rights each holds directly, and how many valid
//! certificates each operator has.

use super::schema::*;
use super::{Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::rights::{Action, Right};
use std::collections::BTreeMap;

/// A right row: (operator, group, action, site, category).
type HeldRight = (Option<i64>, Option<i64>, String, Option<String>, Option<String>);

/// An operator or a group, as the listing shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderListing {
    pub name: String,
    pub group: bool,
    /// A group's members, or the groups an operator belongs to.
    pub members: Vec<String>,
    /// Rights held directly (an operator also holds their groups').
    pub rights: Vec<Right>,
    /// An operator's certificates not revoked and not expired.
    pub certificates: i64,
}

impl Storage {
    /// Every operator, then every group, by name.
    pub fn personnel(&self) -> Result<Vec<HolderListing>> {
        let mut conn = self.conn()?;
        let operators: Vec<(i64, String)> =
            operators::table.select((operators::id, operators::name)).order(operators::name).load(&mut *conn)?;
        let groups: Vec<(i64, String)> = operator_groups::table
            .select((operator_groups::id, operator_groups::name))
            .order(operator_groups::name)
            .load(&mut *conn)?;
        let memberships: Vec<(i64, i64)> =
            group_members::table.select((group_members::group_id, group_members::operator_id)).load(&mut *conn)?;
        let rows: Vec<HeldRight> = operator_rights::table
            .left_join(sites::table.on(operator_rights::site_id.eq(sites::id.nullable())))
            .left_join(role_categories::table.on(operator_rights::category_id.eq(role_categories::id.nullable())))
            .select((
                operator_rights::operator_id,
                operator_rights::group_id,
                operator_rights::action,
                sites::name.nullable(),
                role_categories::name.nullable(),
            ))
            .order(operator_rights::id)
            .load(&mut *conn)?;
        let valid: Vec<i64> = operator_certificates::table
            .filter(operator_certificates::revoked_at.is_null())
            .filter(operator_certificates::not_after.gt(now_ms()))
            .select(operator_certificates::operator_id)
            .load(&mut *conn)?;
        let operator_names: BTreeMap<i64, &str> = operators.iter().map(|(id, n)| (*id, n.as_str())).collect();
        let group_names: BTreeMap<i64, &str> = groups.iter().map(|(id, n)| (*id, n.as_str())).collect();
        let mut listing: BTreeMap<(bool, i64), HolderListing> = BTreeMap::new();
        for (id, name) in &operators {
            let certificates = valid.iter().filter(|o| *o == id).count() as i64;
            let entry = HolderListing { name: name.clone(), certificates, ..HolderListing::default() };
            listing.insert((false, *id), entry);
        }
        for (id, name) in &groups {
            listing.insert((true, *id), HolderListing { name: name.clone(), group: true, ..HolderListing::default() });
        }
        for (group, operator) in memberships {
            if let (Some(g), Some(o)) = (group_names.get(&group), operator_names.get(&operator)) {
                listing.entry((true, group)).or_default().members.push((*o).to_owned());
                listing.entry((false, operator)).or_default().members.push((*g).to_owned());
            }
        }
        for (operator, group, action, site, category) in rows {
            let action = Action::parse(&action)
                .ok_or_else(|| StorageError::Invalid(format!("operator_rights.action `{action}` is no action")))?;
            let key = match (operator, group) {
                (Some(o), _) => (false, o),
                (None, Some(g)) => (true, g),
                (None, None) => continue,
            };
            if let Some(holder) = listing.get_mut(&key) {
                holder.rights.push(Right { action, site, category });
            }
        }
        let mut all: Vec<HolderListing> = listing.into_values().collect();
        all.sort_by(|a, b| (a.group, &a.name).cmp(&(b.group, &b.name)));
        for holder in &mut all {
            holder.members.sort();
        }
        Ok(all)
    }
}
