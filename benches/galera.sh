#!/usr/bin/env bash
# Commands/s of 3 gateways on a 3-node MariaDB Galera cluster against 1 gateway
# on the plain MariaDB server (127.0.0.1:3306), alternating, on this machine:
#   bash benches/galera.sh [AGENTS [COMMANDS [RUNS]]]
# Starts the cluster itself (galera-4, rsync; each node on loopback with its
# own data directory, as tests/src/galera.rs does) and removes it afterwards.
# Needs `cargo build --release --bin outfit-gateway` (or GATEWAY=path/to/outfit-gateway) and root (the nodes run as
# the mysql user, which an rsync state transfer needs).
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-1000}; commands=${2:-10}; runs=${3:-3}
gateway=${GATEWAY:-$PWD/target/release/outfit-gateway}
dir=$(mktemp -d); chown mysql "$dir"
pids=()
cleanup() { kill -9 "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

sql() { mariadb --protocol=TCP -h127.0.0.1 -P"$1" -uroot -N -e "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -a sqlp group ist sst
for i in 0 1 2; do sqlp[i]=$(free_port); group[i]=$(free_port); ist[i]=$(free_port); sst[i]=$(free_port); done
members="127.0.0.1:${group[0]},127.0.0.1:${group[1]},127.0.0.1:${group[2]}"
start_node() {
    local i=$1; shift
    mariadbd --no-defaults --user=mysql --datadir="$dir/n$i" --socket="$dir/n$i.sock" --port="${sqlp[i]}" \
        --bind-address=127.0.0.1 --skip-name-resolve --innodb-buffer-pool-size=256M --max-connections=500 \
        --binlog-format=ROW --innodb-autoinc-lock-mode=2 --wsrep-on=ON \
        --wsrep-provider=/usr/lib/galera/libgalera_smm.so --wsrep-cluster-name=outfit-bench \
        --wsrep-cluster-address="gcomm://$members" --wsrep-node-address="127.0.0.1:${group[i]}" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:${sst[i]}" \
        --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${group[i]};ist.recv_addr=127.0.0.1:${ist[i]}" \
        "$@" >"$dir/n$i.log" 2>&1 &
    pids+=($!)
}
synced() { [ "$(sql "${sqlp[$1]}" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)" = Synced ]; }
for i in 0 1 2; do
    mariadb-install-db --no-defaults --user=mysql --datadir="$dir/n$i" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve >/dev/null
done
start_node 0 --wsrep-new-cluster
for _ in $(seq 300); do synced 0 && break; sleep 0.2; done
start_node 1; start_node 2
for i in 1 2; do for _ in $(seq 600); do synced "$i" && break; sleep 0.2; done; synced "$i"; done
echo "Galera cluster of $(sql "${sqlp[0]}" "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2) nodes on ports ${sqlp[*]}"

bench() {
    "$gateway" bench --dir "$dir/bench-$1" --agents "$agents" --commands "$commands" --operator-calls 0 "${@:2}" \
        | grep -E "^(wall|gateway CPU|exchange latency|[0-9]+ gateways)"
}
for run in $(seq "$runs"); do
    db=outfit_bench_$run
    sql 3306 "CREATE DATABASE $db"
    echo "== run $run: 1 gateway, plain MariaDB (127.0.0.1:3306)"
    bench "plain-$run" --database "mysql://root@127.0.0.1:3306/$db"
    sql 3306 "DROP DATABASE $db"
    sql "${sqlp[0]}" "CREATE DATABASE $db"
    echo "== run $run: 3 gateways, Galera (one node each)"
    bench "galera-$run" --database "mysql://root@127.0.0.1:${sqlp[0]}/$db" \
        --peer-database "mysql://root@127.0.0.1:${sqlp[1]}/$db" --peer-database "mysql://root@127.0.0.1:${sqlp[2]}/$db"
    sql "${sqlp[0]}" "DROP DATABASE $db"
done
