//! File servers: package repositories near the devices, each serving the
//! devices of its sites, known here by the fingerprint of the certificate
//! this gateway's CA issued them.

use super::models::ensure_site;
use super::queue::state;
use super::schema::*;
use super::{Result, Storage, StorageError, now_ms};
use diesel::prelude::*;

/// A file server as the gateways know it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileServerRow {
    pub name: String,
    /// Its base URL as devices reach it, e.g. `https://fs1.dc-a.example:8446`.
    pub url: String,
    pub certificate_sha256: String,
    /// The sites whose devices it serves.
    pub sites: Vec<String>,
}

impl Storage {
    /// Records file server `name` at `url`, serving the devices of `sites`
    /// (created when new, so a file server can come before its devices).
    pub fn add_file_server(&self, name: &str, url: &str, certificate_sha256: &str, sites: &[String]) -> Result<()> {
        self.transaction(|conn| {
            if file_servers::table.filter(file_servers::name.eq(name)).count().get_result::<i64>(conn)? > 0 {
                return Err(StorageError::Exists(format!("file server `{name}` exists already")));
            }
            diesel::insert_into(file_servers::table)
                .values((
                    file_servers::name.eq(name),
                    file_servers::url.eq(url),
                    file_servers::certificate_sha256.eq(certificate_sha256),
                    file_servers::created_at.eq(now_ms()),
                ))
                .execute(conn)?;
            let server: i64 =
                file_servers::table.filter(file_servers::name.eq(name)).select(file_servers::id).first(conn)?;
            for site in sites {
                let site = ensure_site(conn, site)?;
                diesel::insert_into(file_server_sites::table)
                    .values((file_server_sites::file_server_id.eq(server), file_server_sites::site_id.eq(site)))
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    /// Forgets file server `name`: its certificate is no longer recognised,
    /// and devices download from the gateways again.
    pub fn remove_file_server(&self, name: &str) -> Result<()> {
        self.transaction(|conn| {
            let server: i64 = file_servers::table
                .filter(file_servers::name.eq(name))
                .select(file_servers::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| StorageError::NotFound { what: "file server", name: name.to_owned() })?;
            diesel::delete(file_server_sites::table.filter(file_server_sites::file_server_id.eq(server)))
                .execute(conn)?;
            diesel::delete(file_servers::table.find(server)).execute(conn)?;
            Ok(())
        })
    }

    /// The file server holding the certificate with this fingerprint, with
    /// its sites: one lookup by the unique index (asked per download check).
    pub fn file_server_by_certificate(&self, certificate_sha256: &str) -> Result<Option<(String, Vec<String>)>> {
        let mut conn = self.conn()?;
        let Some((id, name)) = file_servers::table
            .filter(file_servers::certificate_sha256.eq(certificate_sha256))
            .select((file_servers::id, file_servers::name))
            .first::<(i64, String)>(&mut conn)
            .optional()?
        else {
            return Ok(None);
        };
        let sites = file_server_sites::table
            .inner_join(sites::table)
            .filter(file_server_sites::file_server_id.eq(id))
            .order(sites::name)
            .select(sites::name)
            .load(&mut conn)?;
        Ok(Some((name, sites)))
    }

    /// Every file server with its sites, by name.
    pub fn file_servers(&self) -> Result<Vec<FileServerRow>> {
        let mut conn = self.conn()?;
        let servers: Vec<(i64, String, String, String)> = file_servers::table
            .order(file_servers::name)
            .select((file_servers::id, file_servers::name, file_servers::url, file_servers::certificate_sha256))
            .load(&mut conn)?;
        let sites: Vec<(i64, String)> = file_server_sites::table
            .inner_join(sites::table)
            .order(sites::name)
            .select((file_server_sites::file_server_id, sites::name))
            .load(&mut conn)?;
        Ok(servers
            .into_iter()
            .map(|(id, name, url, certificate_sha256)| FileServerRow {
                name,
                url,
                certificate_sha256,
                sites: sites.iter().filter(|(s, _)| *s == id).map(|(_, site)| site.clone()).collect(),
            })
            .collect())
    }

    /// Whether a command waiting for a device of `sites` installs the
    /// package stored under `key` (a plug-in bundle, a script's package):
    /// what a file server may copy besides the sites' components.
    pub fn queued_for_sites(&self, sites: &[String], key: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let n: i64 = commands::table
            .inner_join(devices::table.inner_join(sites::table))
            .filter(sites::name.eq_any(sites))
            .filter(commands::state.eq_any([state::PENDING, state::SENT]))
            .filter(commands::kind.eq_any(["install", "install-plugin"]))
            .filter(commands::payload.like(super::trust::payload_with(key)))
            .count()
            .get_result(&mut conn)?;
        Ok(n > 0)
    }

    /// For each site some file server serves, its id and the servers' URLs
    /// (ordered by name): what agents are told to download from.
    pub fn file_server_directory(&self) -> Result<Vec<(i64, String)>> {
        let mut conn = self.conn()?;
        Ok(file_server_sites::table
            .inner_join(file_servers::table)
            .order((file_server_sites::site_id, file_servers::name))
            .select((file_server_sites::site_id, file_servers::url))
            .load(&mut conn)?)
    }
}
