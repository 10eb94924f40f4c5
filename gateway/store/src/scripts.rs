//! Predefined scripts: named command sequences of a site.

use super::schema::*;
use super::{Result, Storage, ensure_site, now_ms};
use diesel::prelude::*;
use outfit_domain::queue::NewCommand;

/// A stored script, as `script list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSummary {
    pub site: String,
    pub name: String,
    pub description: String,
    pub steps: i64,
}

impl Storage {
    /// Saves a script of `site` (created if the site is new); an existing
    /// script of that name gets the new description and steps. Returns true
    /// when the script is new.
    pub fn save_script(&self, site: &str, name: &str, description: &str, steps: &[NewCommand]) -> Result<bool> {
        self.transaction(|conn| {
            let site = ensure_site(conn, site)?;
            let existing: Option<i64> = scripts::table
                .filter(scripts::site_id.eq(site))
                .filter(scripts::name.eq(name))
                .select(scripts::id)
                .first(conn)
                .optional()?;
            let id = match existing {
                Some(id) => {
                    diesel::update(scripts::table.find(id)).set(scripts::description.eq(description)).execute(conn)?;
                    diesel::delete(script_steps::table.filter(script_steps::script_id.eq(id))).execute(conn)?;
                    id
                }
                None => {
                    diesel::insert_into(scripts::table)
                        .values((
                            scripts::site_id.eq(site),
                            scripts::name.eq(name),
                            scripts::description.eq(description),
                            scripts::created_at.eq(now_ms()),
                        ))
                        .execute(conn)?;
                    scripts::table
                        .filter(scripts::site_id.eq(site))
                        .filter(scripts::name.eq(name))
                        .select(scripts::id)
                        .first(conn)?
                }
            };
            for (position, step) in steps.iter().enumerate() {
                diesel::insert_into(script_steps::table)
                    .values((
                        script_steps::script_id.eq(id),
                        script_steps::position.eq(position as i32),
                        script_steps::kind.eq(&step.kind),
                        script_steps::payload.eq(&*step.payload),
                    ))
                    .execute(conn)?;
            }
            Ok(existing.is_none())
        })
    }

    /// The steps of a script in order, as commands to enqueue; None if no such script.
    pub fn script_steps(&self, site: &str, name: &str) -> Result<Option<Vec<NewCommand>>> {
        let mut conn = self.conn()?;
        let id: Option<i64> = scripts::table
            .inner_join(sites::table)
            .filter(sites::name.eq(site))
            .filter(scripts::name.eq(name))
            .select(scripts::id)
            .first(&mut conn)
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        let steps: Vec<(String, String)> = script_steps::table
            .filter(script_steps::script_id.eq(id))
            .order(script_steps::position)
            .select((script_steps::kind, script_steps::payload))
            .load(&mut conn)?;
        Ok(Some(
            steps
                .into_iter()
                .map(|(kind, payload)| NewCommand { kind, payload: payload.into(), expires_at: None })
                .collect(),
        ))
    }

    pub fn scripts(&self) -> Result<Vec<ScriptSummary>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, String, String, i64)> = scripts::table
            .inner_join(sites::table)
            .order((sites::name, scripts::name))
            .select((sites::name, scripts::name, scripts::description, scripts::id))
            .load(&mut conn)?;
        let mut summaries = Vec::with_capacity(rows.len());
        for (site, name, description, id) in rows {
            let steps = script_steps::table.filter(script_steps::script_id.eq(id)).count().get_result(&mut conn)?;
            summaries.push(ScriptSummary { site, name, description, steps });
        }
        Ok(summaries)
    }

    /// Names of the devices of `model` in `site`.
    pub fn devices_of_model(&self, site: &str, model: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        Ok(devices::table
            .inner_join(models::table)
            .inner_join(sites::table)
            .filter(sites::name.eq(site))
            .filter(models::name.eq(model))
            .order(devices::name)
            .select(devices::name)
            .load(&mut conn)?)
    }
}
