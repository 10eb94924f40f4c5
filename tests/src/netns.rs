//! Real network links for tests: each agent in its own network namespace,
//! joined to the gateway's side by a veth pair on a bridge. Cutting an agent's
//! link (`ip link set … down`) drops its packets in the kernel, mid-exchange or
//! not, the way a failing switch port would.
//!
//! Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking),
//! one /24 per bridge (numbered by process and bridge), so they collide
//! neither with real networks nor with another test's bridge. Needs root and iproute2 (installed by `.ci/setup`).

use anyhow::{Context, Result, ensure};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Bridges (and probes) made by this process so far: tests running at once
/// each get names and a subnet of their own.
static MADE: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip").args(args).output().context("run `ip` (package iproute2)")?;
    ensure!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    Ok(())
}

/// Whether this machine lets the test create network namespaces (root, iproute2).
pub fn available() -> bool {
    let probe = format!("outfit-probe-{}-{}", std::process::id(), MADE.fetch_add(1, Ordering::SeqCst));
    ip(&["netns", "add", &probe]).and_then(|()| ip(&["netns", "del", &probe])).is_ok()
}

/// The gateway's side: a bridge with the gateway's address. Dropping it
/// removes the bridge and every agent namespace made from it.
#[derive(Debug)]
pub struct Bridge {
    name: String,
    /// Names this bridge's namespaces and veth ends apart from other bridges'.
    tag: String,
    subnet: u32,
    /// The address the gateway listens on, reachable from every namespace.
    pub gateway_ip: String,
    links: Vec<String>,
}

impl Bridge {
    pub fn create() -> Result<Self> {
        let (pid, n) = (std::process::id(), MADE.fetch_add(1, Ordering::SeqCst));
        let subnet = (pid + 97 * n) % 250;
        // Interface names have at most 15 bytes: "ofh" + tag + "x" + agent.
        let tag = format!("{}{}", pid % 100_000, n % 10);
        let name = format!("ofbr{tag}");
        let gateway_ip = format!("198.18.{subnet}.254");
        ip(&["link", "add", &name, "type", "bridge"])?;
        let bridge = Self { name, tag, subnet, gateway_ip, links: Vec::new() };
        ip(&["addr", "add", &format!("{}/24", bridge.gateway_ip), "dev", &bridge.name])?;
        ip(&["link", "set", &bridge.name, "up"])?;
        Ok(bridge)
    }

    /// A namespace for agent number `i` (0..250) with address 198.18.S.(i+1),
    /// linked to the bridge.
    pub fn add(&mut self, i: usize) -> Result<Link> {
        ensure!(i < 250, "at most 250 namespaces per bridge");
        let tag = &self.tag;
        let netns = format!("outfit-{tag}-{i}");
        let host = format!("ofh{tag}x{i}");
        let peer = format!("ofp{tag}x{i}");
        let address = format!("198.18.{}.{}", self.subnet, i + 1);
        ip(&["netns", "add", &netns])?;
        self.links.push(netns.clone());
        ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer])?;
        ip(&["link", "set", &peer, "netns", &netns])?;
        ip(&["link", "set", &host, "master", &self.name])?;
        ip(&["link", "set", &host, "up"])?;
        ip(&["-n", &netns, "addr", "add", &format!("{address}/24"), "dev", &peer])?;
        ip(&["-n", &netns, "link", "set", &peer, "up"])?;
        ip(&["-n", &netns, "link", "set", "lo", "up"])?;
        Ok(Link { netns, host, address })
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with it the host end.
        for netns in &self.links {
            let _ = ip(&["netns", "del", netns]);
        }
        let _ = ip(&["link", "del", &self.name]);
    }
}

/// One agent's network: its namespace and the host end of its cable.
#[derive(Debug, Clone)]
pub struct Link {
    pub netns: String,
    host: String,
    /// The agent's address inside its namespace.
    pub address: String,
}

impl Link {
    /// Unplugs the cable: packets in either direction are dropped.
    pub fn cut(&self) -> Result<()> {
        ip(&["link", "set", &self.host, "down"])
    }

    pub fn restore(&self) -> Result<()> {
        ip(&["link", "set", &self.host, "up"])
    }
}
