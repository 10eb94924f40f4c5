#!/usr/bin/env bash
# "This configuration file, on every device": the time from the operator's
# command (`outfit script run` of a one-step script, configure a file from a
# template) to the newest file written, with N real agent processes (each
# its own root directory) on this machine, for 10 devices and for all N,
# alternating:
#   bash benches/fanout.sh [N [RUNS]]            (defaults 50 and 5)
# Then, once, the provisioning of all N bare devices to the demo model (3
# roles, 3 real .deb packages installed with dpkg into each root, 3 files):
# from `outfit provision --site demo --model webserver` to the newest file of
# the last role written.
# Needs `cargo build --release --bins` (or BIN=dir of outfit-gateway, outfit
# and outfit-agent) and dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}; runs=${2:-5}
BIN=${BIN:-$PWD/target/release}
source benches/lib/outfit-fleet.sh
dir=$(mktemp -d)
cleanup() { kill "${OUTFIT_PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
outfit_fleet "$dir" "$n"
echo "$n agents up; gateway RSS $(ps -o rss= -p "${OUTFIT_PIDS[0]}" | awk '{printf "%.1f MB", $1/1024}')"
outfit_fan_out 1 warm-up >/dev/null
ten=(); all=()
for run in $(seq "$runs"); do
    ten+=("$(outfit_fan_out 10 "ten-$run")")
    all+=("$(outfit_fan_out "$n" "all-$run")")
done
summary "a file to 10 devices" "${ten[@]}"
summary "a file to $n devices" "${all[@]}"
# What the machine's cores must do at least: the CPU the gateway and the agents
# spent until the last file was written (not the CLI's), and that over 2 cores.
for c in 10 "$n"; do
    mapfile -t cpu <"$dir/cpu.$c"
    summary "CPU of the gateway and agents, a file to $c devices" "${cpu[@]}"
done
echo "($(nproc) cores: a fan-out cannot take less than its CPU seconds / $(nproc))"

files=()
for d in "${OUTFIT_DEVICES[@]}"; do files+=("$dir/roots/$d/etc/outfit-demo/content.conf"); done
start=$(date +%s.%N)
outfit provision --site demo --model webserver >/dev/null
for _ in $(seq 6000); do
    [ "$(ls "${files[@]}" 2>/dev/null | wc -l)" = "$n" ] && break
    sleep 0.02
done
[ "$(ls "${files[@]}" 2>/dev/null | wc -l)" = "$n" ] || { echo "not every device was provisioned" >&2; exit 1; }
stat -c '%.9Y' "${files[@]}" | sort -n | tail -1 \
    | awk -v s="$start" -v n="$n" '{ printf "provisioning %d bare devices (3 roles, real dpkg): %.3f s\n", n, $1 - s }'
