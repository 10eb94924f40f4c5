//! Federation's tables: this data centre's name, its peers and the sites each
//! shares, the replicated log, and proposals with the home's decisions.
//!
//! **Invariant:** an entry of the log is written in the same transaction as
//! what it records (a version, a proposal, a decision), and an entry pulled
//! from a peer is stored in the same transaction as its effect, so the log and
//! the model tables never disagree, and applying an entry twice is a no-op.

use super::models::{Making, ensure_site, import_in, site_id, version_content};
use super::schema::*;
use super::{DbConnection, Result, Storage, StorageError, now_ms};
use diesel::prelude::*;
use outfit_domain::federation::{self as rule, Current, Entry, Outcome, ProposalRef};
use outfit_domain::model::{Authorship, ImportedModel, Model, Role};

pub use outfit_domain::federation::Body;

/// A local edit turned into a proposal to the site's home.
#[derive(Debug)]
pub struct Proposed {
    pub home: String,
    pub site: String,
    pub model: String,
    pub body: Body,
}

/// A peer as this data centre knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub name: String,
    pub url: String,
    pub certificate_sha256: String,
    pub sites: Vec<String>,
}

/// A proposal and, once the home decided, its outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Queryable, Selectable)]
#[diesel(table_name = proposals)]
pub struct ProposalRow {
    pub origin: String,
    pub seq: i64,
    pub site: String,
    pub model: String,
    pub base_version: Option<i32>,
    pub author: String,
    pub reason: Option<String>,
    /// pending | accepted | refused | unchanged.
    pub state: String,
    pub version: Option<i32>,
    pub decision: Option<String>,
}

/// What applying a pulled entry did here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// It was here already.
    Known,
    /// Stored, with its effect (a version, a proposal kept, a decision).
    Stored,
    /// This data centre is the site's home and decided the proposal.
    Decided(Outcome),
    /// Stored but without effect: it contradicts who the site's home is.
    Ignored(String),
}

/// One model of a shared site as every data centre must hold it: what the
/// digest covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplicatedModel {
    pub name: String,
    pub current: Option<i32>,
    /// Oldest first.
    pub versions: Vec<ReplicatedVersion>,
}

/// A model version with its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplicatedVersion {
    pub number: i32,
    pub author: Option<String>,
    pub reason: Option<String>,
    pub restores: Option<i32>,
    pub roles: Vec<Role>,
}

/// A `model_versions` row, as federation reads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = model_versions)]
struct VersionRow {
    id: i64,
    version: i32,
    author: Option<String>,
    reason: Option<String>,
    restores: Option<i32>,
}

impl VersionRow {
    /// The version with its content read.
    fn with_roles(self, conn: &mut DbConnection) -> Result<ReplicatedVersion> {
        let chosen = version_content(conn, self.id)?;
        let roles = roles_of(conn, &chosen)?;
        let (number, author, reason, restores) = (self.version, self.author, self.reason, self.restores);
        Ok(ReplicatedVersion { number, author, reason, restores, roles })
    }
}

/// A shared site's replicated state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplicatedState {
    pub site: String,
    pub home: Option<String>,
    pub models: Vec<ReplicatedModel>,
    pub proposals: Vec<ProposalRow>,
}

/// The site's home when it is another data centre.
pub(crate) fn home_elsewhere(conn: &mut DbConnection, site: i64) -> QueryResult<Option<String>> {
    sites::table.find(site).select(sites::home).first(conn)
}

/// Whether any peer shares the site (its changes then go into the log).
pub(crate) fn shared(conn: &mut DbConnection, site: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(peer_sites::table.filter(peer_sites::site_id.eq(site)))).get_result(conn)
}

fn me(conn: &mut DbConnection) -> Result<String> {
    data_centre::table.find(1).select(data_centre::name).first(conn).optional()?.ok_or_else(|| {
        StorageError::Invalid("this data centre has no name yet; `outfit-gateway peer add` gives it one".into())
    })
}

/// The roles `chosen` (category, role version) pairs hold, by category rank.
pub(crate) fn roles_of(conn: &mut DbConnection, chosen: &[(i64, i64)]) -> Result<Vec<Role>> {
    let mut ranked = Vec::with_capacity(chosen.len());
    for &(category, role_version) in chosen {
        let (category, rank): (String, i32) = role_categories::table
            .find(category)
            .select((role_categories::name, role_categories::ordinal))
            .first(conn)?;
        let name: String = role_versions::table
            .inner_join(roles::table)
            .filter(role_versions::id.eq(role_version))
            .select(roles::name)
            .first(conn)?;
        let components = super::models::role_components(conn, role_version)?;
        ranked.push((rank, Role { category, name, components }));
    }
    ranked.sort_by_key(|(rank, _)| *rank);
    Ok(ranked.into_iter().map(|(_, role)| role).collect())
}

/// Appends an entry made here to the log: the next `seq` of this origin, a
/// clock past every stamp made or seen.
pub(crate) fn append(conn: &mut DbConnection, site: &str, model: &str, body: Body) -> Result<Entry> {
    let origin = me(conn)?;
    let last_seq: Option<i64> = federation_log::table
        .filter(federation_log::origin.eq(&origin))
        .select(diesel::dsl::max(federation_log::seq))
        .first(conn)?;
    let last_hlc: Option<i64> = federation_log::table.select(diesel::dsl::max(federation_log::hlc)).first(conn)?;
    let entry = Entry {
        origin,
        seq: last_seq.unwrap_or(0) + 1,
        hlc: rule::next_hlc(now_ms(), last_hlc.unwrap_or(0)),
        site: site.to_owned(),
        model: model.to_owned(),
        body,
    };
    insert(conn, &entry)?;
    Ok(entry)
}

fn insert(conn: &mut DbConnection, entry: &Entry) -> Result<()> {
    let body = serde_json::to_string(&entry.body).map_err(|e| StorageError::Invalid(e.to_string()))?;
    diesel::insert_into(federation_log::table)
        .values((
            federation_log::origin.eq(&entry.origin),
            federation_log::seq.eq(entry.seq),
            federation_log::hlc.eq(entry.hlc),
            federation_log::site.eq(&entry.site),
            federation_log::model.eq(&entry.model),
            federation_log::kind.eq(entry.body.kind()),
            federation_log::body.eq(body),
            federation_log::received_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

fn record_proposal(conn: &mut DbConnection, entry: &Entry) -> Result<()> {
    let Body::Proposal { base, author, reason, .. } = &entry.body else { return Ok(()) };
    diesel::insert_into(proposals::table)
        .values((
            proposals::origin.eq(&entry.origin),
            proposals::seq.eq(entry.seq),
            proposals::site.eq(&entry.site),
            proposals::model.eq(&entry.model),
            proposals::base_version.eq(base),
            proposals::author.eq(author),
            proposals::reason.eq(reason),
            proposals::state.eq("pending"),
            proposals::created_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(())
}

fn record_decision(conn: &mut DbConnection, proposal: &ProposalRef, outcome: &Outcome) -> Result<()> {
    let (version, decision) = match outcome {
        Outcome::Accepted { version } | Outcome::Unchanged { version } => (Some(*version), None),
        Outcome::Refused { reason } => (None, Some(reason.clone())),
    };
    diesel::update(proposals::table.find((&proposal.origin, proposal.seq)))
        .set((proposals::state.eq(outcome.state()), proposals::version.eq(version), proposals::decision.eq(decision)))
        .execute(conn)?;
    Ok(())
}

/// The home's current version of a model, with its content.
fn current(conn: &mut DbConnection, site: i64, model: &str) -> Result<Option<ReplicatedVersion>> {
    let row: Option<VersionRow> = models::table
        .inner_join(model_versions::table.on(models::current_version_id.eq(model_versions::id.nullable())))
        .filter(models::site_id.eq(site))
        .filter(models::name.eq(model))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| row.with_roles(conn)).transpose()
}

impl Storage {
    /// Runs a model edit; at a site homed elsewhere the edit is rolled back
    /// and recorded as a proposal to the home instead.
    pub(crate) fn proposing(
        &self,
        mut edit: impl FnMut(&mut DbConnection) -> Result<ImportedModel>,
    ) -> Result<ImportedModel> {
        match self.transaction(&mut edit) {
            Err(StorageError::Propose(proposed)) => {
                let proposed = *proposed;
                self.transaction(|conn| {
                    let entry = append(conn, &proposed.site, &proposed.model, proposed.body.clone())?;
                    record_proposal(conn, &entry)?;
                    let site = site_id(conn, &proposed.site)?;
                    let now: Option<(i64, i32)> = models::table
                        .inner_join(
                            model_versions::table.on(models::current_version_id.eq(model_versions::id.nullable())),
                        )
                        .filter(models::site_id.eq(site))
                        .filter(models::name.eq(&proposed.model))
                        .select((model_versions::id, model_versions::version))
                        .first(conn)
                        .optional()?;
                    let (id, version) = now.unwrap_or((0, 0));
                    Ok(ImportedModel {
                        model_version_id: outfit_domain::ids::ModelVersionId(id),
                        version,
                        created: false,
                        proposed: Some(ProposalRef { origin: entry.origin, seq: entry.seq }),
                    })
                })
            }
            other => other,
        }
    }

    /// This data centre's name, if it has one.
    pub fn data_centre(&self) -> Result<Option<String>> {
        let mut conn = self.conn()?;
        Ok(data_centre::table.find(1).select(data_centre::name).first(&mut conn).optional()?)
    }

    /// Adds peer `name` (reached at `url`, authenticated by the certificate
    /// `certificate_sha256` this data centre issued it) sharing `sites`, and
    /// names this data centre `me` if it has no name yet. A shared site this
    /// data centre does not hold is created as homed at the peer; one homed
    /// here has its history written into the log when first shared.
    pub fn add_peer(
        &self,
        me_name: &str,
        name: &str,
        url: &str,
        certificate_sha256: &str,
        sites: &[String],
    ) -> Result<()> {
        self.transaction(|conn| {
            match data_centre::table.find(1).select(data_centre::name).first::<String>(conn).optional()? {
                Some(known) if known != me_name => {
                    return Err(StorageError::Invalid(format!("this data centre is named `{known}`, not `{me_name}`")));
                }
                Some(_) => {}
                None => {
                    diesel::insert_into(data_centre::table)
                        .values((data_centre::id.eq(1), data_centre::name.eq(me_name)))
                        .execute(conn)?;
                }
            }
            if name == me_name {
                return Err(StorageError::Invalid(format!("a peer cannot have this data centre's name `{name}`")));
            }
            if peers::table.filter(peers::name.eq(name)).count().get_result::<i64>(conn)? > 0 {
                return Err(StorageError::Exists(format!("peer `{name}` exists already")));
            }
            diesel::insert_into(peers::table)
                .values((
                    peers::name.eq(name),
                    peers::url.eq(url),
                    peers::certificate_sha256.eq(certificate_sha256),
                    peers::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            let peer: i64 = peers::table.filter(peers::name.eq(name)).select(peers::id).first(conn)?;
            for site in sites {
                let known: Option<(i64, Option<String>)> = sites::table
                    .filter(sites::name.eq(site))
                    .select((sites::id, sites::home))
                    .first(conn)
                    .optional()?;
                let (id, home) = match known {
                    Some(known) => known,
                    None => {
                        let id = ensure_site(conn, site)?;
                        diesel::update(sites::table.find(id)).set(sites::home.eq(name)).execute(conn)?;
                        (id, Some(name.to_owned()))
                    }
                };
                let first_share = !shared(conn, id)?;
                diesel::insert_into(peer_sites::table)
                    .values((peer_sites::peer_id.eq(peer), peer_sites::site_id.eq(id)))
                    .execute(conn)?;
                if home.is_none() && first_share {
                    log_history(conn, id, site)?;
                }
            }
            Ok(())
        })
    }

    /// Every peer, with the sites it shares.
    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        let mut conn = self.conn()?;
        let rows: Vec<(i64, String, String, String)> = peers::table
            .order(peers::name)
            .select((peers::id, peers::name, peers::url, peers::certificate_sha256))
            .load(&mut conn)?;
        let mut peers = Vec::with_capacity(rows.len());
        for (id, name, url, certificate_sha256) in rows {
            let sites = peer_sites::table
                .inner_join(sites::table)
                .filter(peer_sites::peer_id.eq(id))
                .order(sites::name)
                .select(sites::name)
                .load(&mut conn)?;
            peers.push(PeerRow { name, url, certificate_sha256, sites });
        }
        Ok(peers)
    }

    /// For each origin, the last `seq` of it held here: what a pull sends.
    pub fn known_entries(&self) -> Result<Vec<(String, i64)>> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, Option<i64>)> = federation_log::table
            .group_by(federation_log::origin)
            .select((federation_log::origin, diesel::dsl::max(federation_log::seq)))
            .order(federation_log::origin)
            .load(&mut conn)?;
        Ok(rows.into_iter().map(|(origin, seq)| (origin, seq.unwrap_or(0))).collect())
    }

    /// The entries this data centre made of `sites` after `after` (the last
    /// of its entries the peer holds), in order, at most `limit`. Only its
    /// own: each data centre pulls every other directly, so an entry is only
    /// ever taken from the one that made it.
    pub fn entries_after(&self, sites: &[String], after: i64, limit: i64) -> Result<Vec<Entry>> {
        let mut conn = self.conn()?;
        let origin = me(&mut conn)?;
        let rows: Vec<(i64, i64, String, String, String)> = federation_log::table
            .filter(federation_log::origin.eq(&origin))
            .filter(federation_log::seq.gt(after))
            .filter(federation_log::site.eq_any(sites))
            .order(federation_log::seq)
            .limit(limit)
            .select((
                federation_log::seq,
                federation_log::hlc,
                federation_log::site,
                federation_log::model,
                federation_log::body,
            ))
            .load(&mut conn)?;
        rows.into_iter()
            .map(|(seq, hlc, site, model, body)| {
                let body = serde_json::from_str(&body)
                    .map_err(|e| StorageError::Invalid(format!("log entry {origin}#{seq}: {e}")))?;
                Ok(Entry { origin: origin.clone(), seq, hlc, site, model, body })
            })
            .collect()
    }

    /// Applies an entry pulled from a peer, with its effect, in one
    /// transaction: a version of the site's home, a proposal (decided here
    /// when this is the home), or the home's decision.
    pub fn apply_entry(&self, entry: &Entry) -> Result<Applied> {
        self.transaction(|conn| {
            let known = federation_log::table.find((&entry.origin, entry.seq)).count().get_result::<i64>(conn)?;
            if known > 0 {
                return Ok(Applied::Known);
            }
            let me = me(conn)?;
            if entry.origin == me {
                return Ok(Applied::Ignored("an entry of this data centre's own".into()));
            }
            insert(conn, entry)?;
            let site: Option<(i64, Option<String>)> = sites::table
                .filter(sites::name.eq(&entry.site))
                .select((sites::id, sites::home))
                .first(conn)
                .optional()?;
            let Some((site, home)) = site else {
                return Ok(Applied::Ignored(format!("site `{}` is not shared here", entry.site)));
            };
            let home_here = home.is_none();
            match &entry.body {
                Body::Version { version, author, reason, restores, roles, .. } => {
                    if home.as_deref() != Some(&entry.origin) {
                        return Ok(Applied::Ignored(format!(
                            "a version from {}, which is not the home of site `{}`",
                            entry.origin, entry.site
                        )));
                    }
                    let model = Model { site: entry.site.clone(), name: entry.model.clone(), roles: roles.clone() };
                    let by = Authorship { author: author.clone(), reason: reason.clone() };
                    import_in(conn, &model, &by, *restores, &Making::Replica { number: *version })?;
                    Ok(Applied::Stored)
                }
                Body::Proposal { base, author, reason, restores, roles } => {
                    record_proposal(conn, entry)?;
                    if !home_here {
                        return Ok(Applied::Stored);
                    }
                    let now = current(conn, site, &entry.model)?;
                    let now_ref = now.as_ref().map(|v| Current {
                        version: v.number,
                        author: v.author.as_deref(),
                        reason: v.reason.as_deref(),
                        roles: &v.roles,
                    });
                    let outcome = rule::decide(&me, *base, roles, now_ref);
                    let proposal = ProposalRef { origin: entry.origin.clone(), seq: entry.seq };
                    if let Outcome::Accepted { .. } = outcome {
                        let model = Model { site: entry.site.clone(), name: entry.model.clone(), roles: roles.clone() };
                        let by = Authorship {
                            author: format!("{author}@{}", entry.origin),
                            reason: Some(reason.clone().unwrap_or_default() + &format!(" (proposal {proposal})"))
                                .map(|r| r.trim().to_owned()),
                        };
                        import_in(conn, &model, &by, *restores, &Making::Accepting(proposal.clone()))?;
                    }
                    record_decision(conn, &proposal, &outcome)?;
                    let decision = Body::Decision { proposal, outcome: outcome.clone() };
                    append(conn, &entry.site, &entry.model, decision)?;
                    Ok(Applied::Decided(outcome))
                }
                Body::Decision { proposal, outcome } => {
                    if home.as_deref() != Some(&entry.origin) {
                        return Ok(Applied::Ignored(format!("a decision from {}, not the site's home", entry.origin)));
                    }
                    record_decision(conn, proposal, outcome)?;
                    Ok(Applied::Stored)
                }
            }
        })
    }

    /// The sites whose components use package `sha256`.
    pub fn sites_using_package(&self, sha256: &str) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        Ok(components::table
            .inner_join(sites::table)
            .filter(components::sha256.eq(sha256))
            .select(sites::name)
            .distinct()
            .order(sites::name)
            .load(&mut conn)?)
    }

    /// The proposals of `site` (of `model`, when given), newest first.
    pub fn proposals(&self, site: &str, model: Option<&str>) -> Result<Vec<ProposalRow>> {
        let mut conn = self.conn()?;
        proposals_of(&mut conn, site, model)
    }

    /// What of `site` every data centre that shares it must hold alike.
    pub fn replicated_state(&self, site: &str) -> Result<ReplicatedState> {
        let mut conn = self.conn()?;
        let conn = &mut conn;
        let (id, home): (i64, Option<String>) = sites::table
            .filter(sites::name.eq(site))
            .select((sites::id, sites::home))
            .first(conn)
            .optional()?
            .ok_or_else(|| StorageError::NotFound { what: "site", name: site.to_owned() })?;
        let rows: Vec<(i64, String, Option<i64>)> = models::table
            .filter(models::site_id.eq(id))
            .order(models::name)
            .select((models::id, models::name, models::current_version_id))
            .load(conn)?;
        let mut models = Vec::with_capacity(rows.len());
        for (model, name, current_id) in rows {
            let rows: Vec<VersionRow> = model_versions::table
                .filter(model_versions::model_id.eq(model))
                .order(model_versions::version)
                .select(VersionRow::as_select())
                .load(conn)?;
            let current = rows.iter().find(|v| Some(v.id) == current_id).map(|v| v.version);
            let listed = rows.into_iter().map(|row| row.with_roles(conn)).collect::<Result<Vec<_>>>()?;
            models.push(ReplicatedModel { name, current, versions: listed });
        }
        let mut proposals = proposals_of(conn, site, None)?;
        proposals.sort_by(|a, b| (&a.origin, a.seq).cmp(&(&b.origin, b.seq)));
        Ok(ReplicatedState { site: site.to_owned(), home, models, proposals })
    }
}

fn proposals_of(conn: &mut DbConnection, site: &str, model: Option<&str>) -> Result<Vec<ProposalRow>> {
    let mut query = proposals::table.filter(proposals::site.eq(site)).into_boxed();
    if let Some(model) = model {
        query = query.filter(proposals::model.eq(model.to_owned()));
    }
    Ok(query
        .order((proposals::created_at.desc(), proposals::origin, proposals::seq.desc()))
        .select(ProposalRow::as_select())
        .load(conn)?)
}

/// Writes every version of the site's models into the log, oldest first:
/// what a peer that starts sharing the site needs to catch up.
fn log_history(conn: &mut DbConnection, site: i64, site_name: &str) -> Result<()> {
    let rows: Vec<(String, VersionRow)> = model_versions::table
        .inner_join(models::table)
        .filter(models::site_id.eq(site))
        .order(model_versions::id)
        .select((models::name, VersionRow::as_select()))
        .load(conn)?;
    for (model, row) in rows {
        let v = row.with_roles(conn)?;
        let author = v.author.unwrap_or_else(|| "unknown".into());
        let (version, reason, restores, roles) = (v.number, v.reason, v.restores, v.roles);
        append(conn, site_name, &model, Body::Version { version, author, reason, restores, roles, accepts: None })?;
    }
    Ok(())
}
