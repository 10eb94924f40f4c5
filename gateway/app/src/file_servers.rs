//! File servers: package repositories run apart from the gateway, near the
//! devices. A file server is a principal of the trust hierarchy (a
//! certificate of this CA with the `outfit-file-server` role), serves the
//! devices of its sites, asks a gateway per download whether the device is
//! entitled, and fetches each package it lacks from a gateway once. Devices
//! are told which file server to download from in every command that
//! carries a package. Gateways stay the only database clients.

use crate::agent::{Connection, Release};
use crate::audit::Act;
use crate::{Failure, Refusal, RefusalKind, Services};
use outfit_domain::federation::check_data_centre_name;
use outfit_domain::ids::SiteId;
use outfit_domain::rights::{Caller, Principal};
pub use outfit_store::FileServerRow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Days a file server's certificate is valid.
pub const FILE_SERVER_CERT_DAYS: u64 = 365;

/// How long a file server may reuse an answer that allowed a download: a
/// revoked certificate or a changed model takes effect within it.
pub const RELEASE_CACHE: Duration = Duration::from_secs(10);

/// How long a gateway reuses what it read of which file servers serve
/// which sites: a file server added on another gateway of the cluster is
/// told to agents within it.
const DIRECTORY_AGE: Duration = Duration::from_secs(5);

/// What `add_file_server` hands the file server's administrator.
#[derive(Debug, Clone)]
pub struct FileServerCredentials {
    /// Its certificate (server and client) and key.
    pub issued: crate::pki::Issued,
    pub fingerprint: String,
}

/// The base URLs of the file servers serving each site, by name.
type BySite = HashMap<SiteId, Vec<String>>;

/// Which file servers serve which sites, as last read, and when.
#[derive(Debug, Default)]
pub struct Directory {
    read: Mutex<Option<(Instant, BySite)>>,
}

impl Services {
    /// Records file server `name`, reached by devices at `url`, serving the
    /// devices of `sites`, and issues its certificate. Only the local
    /// administrator adds file servers (it signs with the CA's key).
    pub fn add_file_server(
        &self,
        caller: &Caller,
        name: &str,
        url: &str,
        sites: &[String],
    ) -> Result<FileServerCredentials, Failure> {
        let act = Act { action: "AddFileServer", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            if !matches!(caller.principal, Principal::LocalAdministrator { .. }) {
                return Err(
                    Refusal::new(RefusalKind::Forbidden, "only the local administrator adds file servers").into()
                );
            }
            check_data_centre_name(name).map_err(|_| {
                Refusal::invalid(format!("`{name}` is not a file server name: use letters, digits, `-`, `_`, `.`"))
            })?;
            let host = base_url_host(url).ok_or_else(|| {
                Refusal::invalid(format!("`{url}` is not a base URL like https://fs1.example.net:8446"))
            })?;
            if sites.is_empty() {
                return Err(Refusal::invalid("name at least one site whose devices it serves (`--site SITE`)").into());
            }
            let (issued, signed) = crate::pki::issue_file_server(&self.ca.key_pem, name, &host, FILE_SERVER_CERT_DAYS)
                .map_err(|e| Refusal::invalid(format!("cannot issue a certificate for `{host}`: {e}")))?;
            self.storage.add_file_server(name, url.trim_end_matches('/'), &signed.fingerprint, sites)?;
            let detail = format!("at {url} for {}; certificate {}", sites.join(", "), signed.fingerprint);
            Ok((FileServerCredentials { issued, fingerprint: signed.fingerprint }, detail))
        })
    }

    /// Removes file server `name`: its certificate stops working at once, and
    /// the gateways send its devices elsewhere within [`DIRECTORY_AGE`].
    pub fn remove_file_server(&self, caller: &Caller, name: &str) -> Result<(), Failure> {
        let act = Act { action: "RemoveFileServer", site: None, object: name.to_owned() };
        self.audited(caller, act, || {
            if !matches!(caller.principal, Principal::LocalAdministrator { .. }) {
                return Err(
                    Refusal::new(RefusalKind::Forbidden, "only the local administrator removes file servers").into()
                );
            }
            self.storage.remove_file_server(name)?;
            Ok(((), String::new()))
        })
    }

    /// Every file server and the sites it serves.
    pub fn file_servers(&self) -> Result<Vec<FileServerRow>, Failure> {
        Ok(self.storage.file_servers()?)
    }

    /// The file server a client certificate was issued to.
    pub fn file_server_by_certificate(&self, der: &[u8]) -> Result<Option<Principal>, Failure> {
        let found = self.storage.file_server_by_certificate(&crate::pki::fingerprint(der))?;
        Ok(found.map(|(name, sites)| Principal::FileServer { name, sites }))
    }

    /// Whether file server `caller` may give package `key` to the device
    /// holding `device_certificate` (it connected from `device_from`): the
    /// device's certificate is valid, it is of a site the file server
    /// serves, and a command or its model holds the package. A refusal is
    /// logged as the device's exchange, as at the gateway's own repository.
    pub fn release_via_file_server(
        &self,
        caller: &Caller,
        device_certificate: &[u8],
        device_from: &str,
        key: &str,
    ) -> Result<Release, Failure> {
        let Principal::FileServer { name, sites } = &caller.principal else {
            return Err(Refusal::new(RefusalKind::Forbidden, "only a file server asks about downloads").into());
        };
        let connection = Connection {
            serial: 0,
            peer: format!("{device_from} via file server {name}"),
            certificate: Some(device_certificate.to_vec()),
        };
        self.release(&connection, key, Some(sites))
    }

    /// Whether `caller` — a peer data centre or a file server — may copy
    /// package `sha256` into its own store: a site it shares or serves uses
    /// it. Audited: each server copies a package once.
    pub fn release_copy(&self, caller: &Caller, sha256: &str) -> Result<(), Failure> {
        let no_sites = Vec::new();
        let (action, sites, whom) = match &caller.principal {
            Principal::Peer { sites, .. } => ("ReleasePackageToPeer", sites, "shared with this peer"),
            Principal::FileServer { sites, .. } => ("ReleasePackageToFileServer", sites, "this file server serves"),
            _ => ("ReleasePackageCopy", &no_sites, ""),
        };
        let act = Act { action, site: None, object: sha256.to_owned() };
        self.audited(caller, act, || {
            if whom.is_empty() {
                let refusal = "only a peer data centre or a file server copies packages from here";
                return Err(Refusal::new(RefusalKind::Forbidden, refusal).into());
            }
            let using = self.storage.sites_using_package(sha256)?;
            let queued = || -> Result<bool, Failure> {
                let file_server = matches!(caller.principal, Principal::FileServer { .. });
                Ok(file_server && self.storage.queued_for_sites(sites, sha256)?)
            };
            match using.iter().find(|s| sites.contains(s)) {
                Some(site) => Ok(((), format!("site {site}"))),
                None if queued()? => Ok(((), "a command waiting for a device it serves".to_owned())),
                None => {
                    let used = if using.is_empty() {
                        "no site uses it".to_owned()
                    } else {
                        format!("used by {}", using.join(", "))
                    };
                    let refusal = format!("no site {whom} uses package {sha256} ({used})");
                    Err(Refusal::new(RefusalKind::NotEntitled, refusal).into())
                }
            }
        })
    }

    /// The base URL device `device` of `site` downloads packages from: one
    /// of the file servers serving the site (the same one each time for a
    /// device, spreading the devices over them), or `None`: the gateway.
    pub fn package_source(&self, site: SiteId, device: &str) -> Option<String> {
        let mut read = self.file_server_directory.read.lock().unwrap_or_else(|e| e.into_inner());
        if read.as_ref().is_none_or(|(at, _)| at.elapsed() > DIRECTORY_AGE) {
            match self.storage.file_server_directory() {
                Ok(rows) => {
                    let mut by_site = BySite::new();
                    for (site, url) in rows {
                        by_site.entry(SiteId(site)).or_default().push(url);
                    }
                    *read = Some((Instant::now(), by_site));
                }
                // Downloads then go to the gateway, which always has the packages.
                Err(e) => tracing::warn!(error = %e, "could not read which file servers serve which sites"),
            }
        }
        let servers = read.as_ref()?.1.get(&site)?;
        let spread = crate::pki::fingerprint(device.as_bytes());
        let index = u64::from_str_radix(&spread[..8], 16).unwrap_or(0) as usize % servers.len();
        Some(servers[index].clone())
    }
}

/// The host of an `https://host[:port]` base URL (no path beyond `/`).
fn base_url_host(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let base = uri.scheme_str() == Some("https") && matches!(uri.path(), "" | "/") && uri.query().is_none();
    let host = uri.host().filter(|h| base && !h.is_empty())?;
    Some(host.trim_start_matches('[').trim_end_matches(']').to_owned())
}

#[cfg(test)]
mod tests {
    use super::base_url_host;

    #[test]
    fn a_file_server_url_is_an_https_base_url() {
        assert_eq!(base_url_host("https://fs1.example.net:8446").as_deref(), Some("fs1.example.net"));
        assert_eq!(base_url_host("https://10.0.0.5:8446/").as_deref(), Some("10.0.0.5"));
        assert_eq!(base_url_host("https://[::1]:8446").as_deref(), Some("::1"));
        for bad in ["http://fs1:80", "https://fs1:8446/repository", "fs1:8446", ""] {
            assert_eq!(base_url_host(bad), None, "{bad}");
        }
    }
}
