//! A MariaDB Galera cluster of the test's own: N `mariadbd` nodes on loopback,
//! each with its data directory and its SQL, group-communication, IST and SST
//! ports, synchronously replicating through Debian's `galera-4` provider.
//! Nodes can be killed (-9) and restarted; a restarted node rejoins by state
//! transfer (IST, or a full rsync SST after a crash) before it answers again.
//!
//! The nodes run as the `mysql` user: the rsync SST's receiving daemon,
//! started as root, would drop to `nobody` and not be allowed to write the
//! joiner's data directory.

use crate::{Process, mariadb_cli, run, wait_for};
use anyhow::{Context, Result, ensure};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// The ports one node listens on.
#[derive(Debug, Clone, Copy)]
struct Ports {
    sql: u16,
    group: u16,
    ist: u16,
    sst: u16,
}

#[derive(Debug)]
struct Node {
    dir: PathBuf,
    ports: Ports,
    process: Option<Process>,
}

#[derive(Debug)]
pub struct GaleraCluster {
    dir: PathBuf,
    nodes: Vec<Node>,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn sql(port: u16, statement: &str) -> Result<String> {
    run(mariadb_cli("127.0.0.1", port).arg("-e").arg(statement))
}

impl GaleraCluster {
    /// Starts `size` nodes: the first bootstraps the cluster, the others join
    /// it; returns once every node is synced and sees all of them.
    pub fn start(dir: &Path, size: usize) -> Result<Self> {
        ensure!(Path::new(PROVIDER).exists(), "no Galera provider at {PROVIDER} (`bash .ci/setup` installs galera-4)");
        std::fs::create_dir_all(dir)?;
        run(Command::new("chown").arg("mysql:mysql").arg(dir))?;
        let mut nodes = Vec::new();
        for i in 0..size {
            let node_dir = dir.join(format!("node{i}"));
            std::fs::create_dir_all(&node_dir)?;
            run(Command::new("chown").arg("mysql:mysql").arg(&node_dir))?;
            run(Command::new("mariadb-install-db")
                .args(["--no-defaults", "--user=mysql", "--auth-root-authentication-method=normal"])
                .args(["--skip-test-db", "--skip-name-resolve"])
                .arg(format!("--datadir={}", node_dir.join("data").display())))?;
            let ports = Ports { sql: free_port()?, group: free_port()?, ist: free_port()?, sst: free_port()? };
            nodes.push(Node { dir: node_dir, ports, process: None });
        }
        let mut cluster = Self { dir: dir.to_owned(), nodes };
        cluster.spawn(0, true)?;
        cluster.wait_synced(0)?;
        for i in 1..size {
            cluster.spawn(i, false)?;
        }
        for i in 1..size {
            cluster.wait_synced(i)?;
        }
        Ok(cluster)
    }

    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// The SQL port of node `i`.
    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].ports.sql
    }

    /// kill -9 node `i`.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].process = None;
    }

    /// Starts node `i` again and waits until it has caught up with the others.
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.spawn(i, false)?;
        self.wait_synced(i)
    }

    /// Runs a statement on node `i` through the command-line client.
    pub fn query(&self, i: usize, statement: &str) -> Result<String> {
        sql(self.port(i), statement)
    }

    fn spawn(&mut self, i: usize, bootstrap: bool) -> Result<()> {
        self.nodes[i].process = None;
        let members: Vec<String> = self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.ports.group)).collect();
        let node = &self.nodes[i];
        let Ports { sql, group, ist, sst } = node.ports;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(node.dir.join("mariadbd.log"))?;
        let mut command = Command::new("mariadbd");
        command
            .args(["--no-defaults", "--user=mysql", "--bind-address=127.0.0.1", "--skip-name-resolve"])
            .args(["--innodb-buffer-pool-size=32M", "--max-connections=300"])
            // What Galera requires: row-based replication events, InnoDB, and
            // interleaved auto-increment locks (no table lock across nodes).
            .args(["--binlog-format=ROW", "--innodb-autoinc-lock-mode=2", "--default-storage-engine=InnoDB"])
            .arg(format!("--datadir={}", node.dir.join("data").display()))
            .arg(format!("--socket={}", node.dir.join("mysql.sock").display()))
            .arg(format!("--port={sql}"))
            .args(["--wsrep-on=ON", &format!("--wsrep-provider={PROVIDER}"), "--wsrep-cluster-name=outfit-test"])
            .arg(format!("--wsrep-cluster-address=gcomm://{}", members.join(",")))
            .arg(format!("--wsrep-node-address=127.0.0.1:{group}"))
            .arg(format!("--wsrep-node-name=node{i}"))
            .args(["--wsrep-sst-method=rsync", &format!("--wsrep-sst-receive-address=127.0.0.1:{sst}")])
            .arg(format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{group};ist.recv_addr=127.0.0.1:{ist}"
            ));
        if bootstrap {
            command.arg("--wsrep-new-cluster");
        }
        let child = command.stdout(Stdio::null()).stderr(log).spawn().context("start mariadbd")?;
        self.nodes[i].process = Some(Process { child, name: format!("galera node{i}") });
        Ok(())
    }

    fn wait_synced(&self, i: usize) -> Result<()> {
        let port = self.port(i);
        let size = self.live();
        wait_for(Duration::from_secs(120), &format!("Galera node{i} to be synced"), || {
            let Ok(status) =
                sql(port, "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_size')")
            else {
                return Ok(None);
            };
            let synced = status.contains("Synced") && status.contains(&format!("wsrep_cluster_size\t{size}"));
            Ok(synced.then_some(()))
        })
        .with_context(|| format!("see {}", self.dir.join(format!("node{i}/mariadbd.log")).display()))
    }

    fn live(&self) -> usize {
        self.nodes.iter().filter(|n| n.process.is_some()).count()
    }
}
