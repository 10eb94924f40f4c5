#!/usr/bin/env bash
# Outfit side by side with Salt on this machine: N real Outfit agents (each its
# own process and root) against one gateway, and a Salt master with N minions
# on loopback, both running at once, the same work alternating between them:
#   bash benches/versus-salt.sh [N [RUNS]]          (defaults 50 and 5)
# - a trivial file to 10 devices and to all N: from the command to the newest
#   file written (Outfit: `outfit script run` of a one-step configure script;
#   Salt: `salt -L … cmd.run 'echo … > FILE' template=jinja`);
# - a single-device round trip: the same file on one device, the operator's
#   command until it returns with the device's result (`outfit script run …
#   --wait`, which asks every 5 ms at first; `salt ID cmd.run …`);
# - idle memory (PSS) per agent and of the server, and idle CPU, over 30 s.
# Salt comes from PyPI into a virtual environment (SALT_VENV, default
# ~/.cache/outfit-salt-venv; created on the first run). Needs `cargo build
# --release --bins` (or BIN=…), dpkg-deb, python3-venv, root (Salt's default
# user; both run on 127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}; runs=${2:-5}
BIN=${BIN:-$PWD/target/release}
venv=${SALT_VENV:-$HOME/.cache/outfit-salt-venv}
source benches/lib/outfit-fleet.sh
dir=$(mktemp -d)
salt_pids=()
cleanup() {
    kill "${OUTFIT_PIDS[@]}" "${salt_pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

if [ ! -x "$venv/bin/salt-master" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'salt>=3007,<3009'
fi
echo "Salt $("$venv/bin/salt" --version | awk '{print $2}') from PyPI; Outfit $("$BIN/outfit-gateway" --version | awk '{print $2}')"

# Outfit: a gateway and N agents.
outfit_fleet "$dir/outfit" "$n"

# Salt: a master and N minions, each minion with its own root directory.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pub=$(free_port); ret=$(free_port)
s=$dir/salt
mkdir -p "$s/master" "$s/files"
printf '%s\n' "root_dir: $s/master" "interface: 127.0.0.1" "publish_port: $pub" "ret_port: $ret" \
    "auto_accept: True" "user: root" "log_file: $s/master/master.log" "log_level_logfile: warning" >"$s/master/master"
"$venv/bin/salt-master" -c "$s/master" -l warning >"$s/master.out" 2>&1 &
salt_pids+=($!)
minions=()
for i in $(seq "$n"); do
    id=$(printf 'min-%03d' "$i")
    minions+=("$id")
    mkdir -p "$s/$id"
    printf '%s\n' "id: $id" "master: 127.0.0.1" "master_port: $ret" "publish_port: $pub" "root_dir: $s/$id" \
        "user: root" "log_file: $s/$id/minion.log" "log_level_logfile: warning" >"$s/$id/minion"
    "$venv/bin/salt-minion" -c "$s/$id" -l warning >"$s/$id.out" 2>&1 &
    salt_pids+=($!)
done
salt() { "$venv/bin/salt" -c "$s/master" "$@"; }
up=0
for _ in $(seq 120); do
    up=$(salt '*' test.ping --timeout=5 --out=txt 2>/dev/null | grep -c ': True' || true)
    [ "$up" = "$n" ] && break
    sleep 1
done
[ "$up" = "$n" ] || { echo "only $up of $n Salt minions answer" >&2; exit 1; }
echo "$n Outfit agents and $n Salt minions up"

# Salt's trivial file on the first COUNT minions: seconds from the command to
# the newest file written.
salt_fan_out() {
    local count=$1 value=$2 start
    local targets=("${minions[@]:0:$count}") files=()
    for m in "${targets[@]}"; do files+=("$s/files/$m"); done
    start=$(date +%s.%N)
    salt -L "$(IFS=,; echo "${targets[*]}")" cmd.run "echo $value > $s/files/{{ grains.id }}" \
        template=jinja --out=txt >/dev/null 2>&1 || true
    [ "$(cat "${files[@]}" 2>/dev/null | grep -c "$value")" = "$count" ] \
        || { echo "Salt did not write every file" >&2; return 1; }
    stat -c '%.9Y' "${files[@]}" | sort -n | tail -1 | awk -v s="$start" '{ printf "%.3f\n", $1 - s }'
}

# Wall seconds of a command (whose effect the caller checks: Salt's CLI exits
# non-zero at times though every minion did the work).
timed() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

outfit_fan_out 1 warm-up >/dev/null
salt_fan_out 1 warm-up >/dev/null
o10=(); s10=(); oall=(); sall=(); ort=(); srt=()
for run in $(seq "$runs"); do
    o10+=("$(outfit_fan_out 10 "o10-$run")")
    s10+=("$(salt_fan_out 10 "s10-$run")")
    oall+=("$(outfit_fan_out "$n" "oall-$run")")
    sall+=("$(salt_fan_out "$n" "sall-$run")")
    ort+=("$(outfit_round_trip "ort-$run")")
    srt+=("$(timed salt "${minions[0]}" cmd.run "echo rt-$run > $s/files/{{ grains.id }}" template=jinja)")
    grep -q "rt-$run" "$s/files/${minions[0]}" || { echo "Salt's round trip wrote nothing" >&2; exit 1; }
done

# Every process of a tree.
tree() { local p; for p in "$@"; do echo "$p"; tree $(ps -o pid= --ppid "$p" 2>/dev/null); done; }
pss_mb() { for p in "$@"; do awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null; done \
    | awk '{ t += $1 } END { printf "%.1f\n", t / 1024 }'; }
ticks() { for p in "$@"; do sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }'; done \
    | awk '{ t += $1 } END { print t + 0 }'; }
outfit_server=$(tree "${OUTFIT_PIDS[0]}"); outfit_agents=$(tree "${OUTFIT_PIDS[@]:1}")
salt_server=$(tree "${salt_pids[0]}"); salt_agents=$(tree "${salt_pids[@]:1}")
sleep 5
before=($(ticks $outfit_server) $(ticks $outfit_agents) $(ticks $salt_server) $(ticks $salt_agents))
sleep 30
after=($(ticks $outfit_server) $(ticks $outfit_agents) $(ticks $salt_server) $(ticks $salt_agents))
cpu() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b - a) / 100 / 30 * 100 }'; }

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
row() {  # label, Outfit figure, Salt figure, unit
    awk -v l="$1" -v o="$2" -v s="$3" -v u="$4" 'BEGIN {
        r = (o > 0) ? sprintf("%.1f×", s / o) : "-"
        printf "| %-44s | %10s %-3s | %10s %-3s | %8s |\n", l, o, u, s, u, r }'
}
echo
summary "Outfit: a file to 10 devices" "${o10[@]}"; summary "Salt: a file to 10 devices" "${s10[@]}"
summary "Outfit: a file to $n devices" "${oall[@]}"; summary "Salt: a file to $n devices" "${sall[@]}"
summary "Outfit: single-device round trip" "${ort[@]}"; summary "Salt: single-device round trip" "${srt[@]}"
echo
printf '| %-44s | %14s | %14s | %8s |\n' "on this machine ($(nproc) cores), $runs runs, medians" Outfit Salt Salt/Outfit
row "a file to 10 devices" "$(median "${o10[@]}")" "$(median "${s10[@]}")" s
row "a file to $n devices" "$(median "${oall[@]}")" "$(median "${sall[@]}")" s
row "single-device round trip" "$(median "${ort[@]}")" "$(median "${srt[@]}")" s
row "idle memory per agent (PSS)" "$(awk -v t="$(pss_mb $outfit_agents)" -v n="$n" 'BEGIN { printf "%.1f", t / n }')" \
    "$(awk -v t="$(pss_mb $salt_agents)" -v n="$n" 'BEGIN { printf "%.1f", t / n }')" MB
row "idle memory of the server (PSS)" "$(pss_mb $outfit_server)" "$(pss_mb $salt_server)" MB
row "idle CPU of the $n agents, 30 s (% of a core)" "$(cpu "${before[1]}" "${after[1]}")" "$(cpu "${before[3]}" "${after[3]}")" "%"
row "idle CPU of the server, 30 s (% of a core)" "$(cpu "${before[0]}" "${after[0]}")" "$(cpu "${before[2]}" "${after[2]}")" "%"
