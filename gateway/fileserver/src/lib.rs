//! outfit-fileserver: a package repository run apart from the gateways,
//! near the devices. Devices of the sites it serves download their packages
//! here (the gateways tell them so in each command); before each download
//! it asks a gateway whether the device may have the package (`gateway`:
//! the file-server service, answers briefly cached), then streams the bytes
//! from its own store (`store`: filled from a gateway once per package).
//! It never touches the database.
//!
//! Code map: `gateway` (the gateways it asks and copies from, in order),
//! `entitlement` (download checks and their cache), `store` (verified
//! package copies), `serve` (the HTTPS listener devices download from).

pub mod entitlement;
pub mod gateway;
pub mod serve;
pub mod store;

use std::path::{Path, PathBuf};

/// What `outfit-gateway file-server add --out DIR` wrote for this file server.
#[derive(Debug, Clone)]
pub struct Directory {
    pub root: PathBuf,
}

impl Directory {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned() }
    }
    /// Its certificate (it serves devices with it and calls gateways with it).
    pub fn cert(&self) -> PathBuf {
        self.root.join("cert.pem")
    }
    pub fn key(&self) -> PathBuf {
        self.root.join("key.pem")
    }
    /// The gateways' CA: devices' certificates and gateways' are checked against it.
    pub fn ca(&self) -> PathBuf {
        self.root.join("ca.pem")
    }
    /// The gateways' operator listener URLs, one per line.
    pub fn gateway_urls(&self) -> PathBuf {
        self.root.join("gateway.url")
    }
    /// The verified packages, each named by its sha256.
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }
    /// Written once listening: the address bound.
    pub fn listening(&self) -> PathBuf {
        self.root.join("listening.addr")
    }
}
