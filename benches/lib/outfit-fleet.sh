# A fleet of real Outfit agents on this machine, for the benches that time work
# on it (sourced by benches/fanout.sh and benches/versus-salt.sh):
#   outfit_fleet DIR N        a gateway (SQLite) and N agents, each its own
#                             process and root directory, registered to the
#                             demo model (not provisioned)
#   outfit_fan_out COUNT VALUE
#                             one configuration file holding VALUE on the first
#                             COUNT devices (all N: by model); prints the
#                             seconds from the command to the newest file written,
#                             and appends the CPU seconds the gateway and the
#                             agents spent meanwhile to $OUTFIT_DIR/cpu.COUNT
#   outfit_round_trip VALUE   the same on one device, until the command returns
#                             with its result; prints the seconds
# OUTFIT_PIDS holds the gateway's process id, then the agents'. Needs BIN (the
# release binaries) and dpkg-deb; the caller kills the processes.
OUTFIT_PIDS=()
OUTFIT_DEVICES=()

outfit() {
    "$BIN/outfit" --gateway "$(cat "$OUTFIT_DIR/gw/operator.url")" --ca "$OUTFIT_DIR/gw/ca.pem" \
        --cert "$OUTFIT_DIR/keys/admin.pem" --key "$OUTFIT_DIR/keys/admin.key" "$@"
}

outfit_fleet() {
    OUTFIT_DIR=$1 OUTFIT_N=$2
    local dir=$1 n=$2 url name token hello=0
    "$BIN/outfit-gateway" init --dir "$dir/gw" --listen 127.0.0.1:0 --operator-listen 127.0.0.1:0 >/dev/null
    "$BIN/outfit-gateway" bootstrap admin --dir "$dir/gw" --out "$dir/keys" >/dev/null
    "$BIN/outfit-gateway" serve --dir "$dir/gw" 2>"$dir/gateway.log" &
    OUTFIT_PIDS+=($!)
    for _ in $(seq 100); do [ -s "$dir/gw/gateway.url" ] && break; sleep 0.1; done
    url=$(cat "$dir/gw/gateway.url")
    # The demo model, its packages built with dpkg-deb: the devices are only
    # registered to it, the measured command writes one file.
    cp -r gateway/demo "$dir/model"
    mkdir -p "$dir/model/build"
    for p in "$dir"/model/packages/*; do
        chmod -R u=rwX,go=rX "$p"
        dpkg-deb --root-owner-group --build "$p" "$dir/model/build" >/dev/null
    done
    outfit model import "$dir/model/model.toml" >/dev/null
    printf 'motd = "{{ motd }}"\n' >"$dir/motd.j2"
    for i in $(seq "$n"); do
        name=$(printf 'fan-%03d' "$i")
        OUTFIT_DEVICES+=("$name")
        outfit device add "$name" --site demo --model webserver >/dev/null
        token=$(outfit device token "$name" --site demo --address 127.0.0.1)
        mkdir -p "$dir/roots/$name"
        "$BIN/outfit-agent" --gateway "$url" --ca "$dir/gw/ca.pem" --device "$name" --site demo \
            --enrol-token "$token" --listen 127.0.0.1:0 --root "$dir/roots/$name" --poll-interval 300 \
            2>"$dir/roots/$name.log" &
        OUTFIT_PIDS+=($!)
    done
    for _ in $(seq 600); do
        hello=$( (grep -l "gateway acknowledged Hello" "$dir"/roots/*.log 2>/dev/null || true) | wc -l)
        [ "$hello" = "$n" ] && break
        sleep 0.2
    done
    [ "$hello" = "$n" ] || { echo "only $hello of $n agents said Hello" >&2; return 1; }
}

# Stores the script `motd`: one configuration file holding VALUE.
outfit_script() {
    printf '%s\n' 'site = "demo"' 'name = "motd"' 'description = "one configuration file on every device"' '' \
        '[[steps]]' 'kind = "configure"' 'component = "outfit-demo-os"' 'path = "/etc/outfit-demo/motd.conf"' \
        'template = "motd.j2"' "parameters = { motd = \"$1\" }" >"$OUTFIT_DIR/script.toml"
    outfit script import "$OUTFIT_DIR/script.toml" >/dev/null
}

# Nanoseconds the gateway and every agent have spent on a CPU so far, summed
# over their threads (a thread that ended meanwhile is not counted).
outfit_cpu_ns() {
    local pid
    for pid in "${OUTFIT_PIDS[@]}"; do cat /proc/"$pid"/task/*/schedstat 2>/dev/null; done \
        | awk '{ t += $1 } END { printf "%.0f\n", t }'
}

outfit_fan_out() {
    local count=$1 value=$2 start d cpu
    local targets=("${OUTFIT_DEVICES[@]:0:$count}") files=()
    outfit_script "$value"
    for d in "${targets[@]}"; do files+=("$OUTFIT_DIR/roots/$d/etc/outfit-demo/motd.conf"); done
    cpu=$(outfit_cpu_ns)
    start=$(date +%s.%N)
    if [ "$count" = "$OUTFIT_N" ]; then
        outfit script run motd --site demo --model webserver >/dev/null
    else
        outfit script run motd --site demo "${targets[@]}" >/dev/null
    fi
    for _ in $(seq 1500); do
        [ "$(cat "${files[@]}" 2>/dev/null | grep -c "$value")" = "$count" ] && break
        sleep 0.02
    done
    [ "$(cat "${files[@]}" 2>/dev/null | grep -c "$value")" = "$count" ] \
        || { echo "not every file was written" >&2; return 1; }
    awk -v a="$cpu" -v b="$(outfit_cpu_ns)" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >>"$OUTFIT_DIR/cpu.$count"
    stat -c '%.9Y' "${files[@]}" | sort -n | tail -1 | awk -v s="$start" '{ printf "%.3f\n", $1 - s }'
}

# The same file on the first device, from the command until it returns with
# the device's result (`--wait`); prints the seconds.
outfit_round_trip() {
    local value=$1 start end
    outfit_script "$value"
    start=$(date +%s.%N)
    outfit script run motd --site demo "${OUTFIT_DEVICES[0]}" --wait >/dev/null 2>&1
    end=$(date +%s.%N)
    grep -q "$value" "$OUTFIT_DIR/roots/${OUTFIT_DEVICES[0]}/etc/outfit-demo/motd.conf" \
        || { echo "the round trip wrote nothing" >&2; return 1; }
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# Median and range of the numbers given after the label.
summary() {
    printf '%s\n' "${@:2}" | sort -n | awk -v what="$1" '{ v[NR] = $1 } END {
        printf "%s: median %.3f s (range %.3f-%.3f s, %d runs)\n", what, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}
