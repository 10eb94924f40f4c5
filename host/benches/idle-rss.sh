#!/usr/bin/env bash
# Agent idle memory: builds the runtime-only agent as shipped (`--profile
# agent --no-default-features`, static musl), starts a gateway on SQLite, places the Debian and
# RPM plug-ins as signed bundles precompiled for this machine, starts the
# agent, waits for its Hello and a few idle seconds, then prints its RSS (total,
# anonymous, file-backed) and the mappings that hold most of it.
#   bash host/benches/idle-rss.sh [AGENT-BINARY [TARGET]]
# TARGET is the agent's target triple (default: this CPU's Linux musl one).
# With BUILD=default it measures the packaged agent instead (glibc,
# `--profile agent`): the daemon without Cranelift serving its built-in
# plug-ins, which its first start compiles in child processes of
# `outfit-agent-compiler` beside it; it then restarts the agent once and
# measures again (plug-ins from its cache), then once more after a plug-in
# (`files`) is delivered through the queue. An agent binary given with
# BUILD=default (e.g. one built with the default features, Cranelift inside)
# is measured the same way.
# Needs `cargo build --bins` (gateway, outfit-plugin) and the wasm32-wasip2 target.
set -euo pipefail
cd "$(dirname "$0")/../.."
ws=$PWD
bin=$ws/target/debug
agent=${1:-}
target=${2:-$(uname -m)-unknown-linux-musl}
if [ "${BUILD:-}" = default ] && [ -z "$agent" ]; then
    cargo build -q -j2 --profile agent -p outfit-agent --no-default-features --features built-in-plugins --bin outfit-agent
    cargo build -q -j2 --profile agent -p outfit-agent --bin outfit-agent-compiler
    agent=$ws/target/agent/outfit-agent
elif [ -z "$agent" ]; then
    cargo build -q -j2 --profile agent -p outfit-agent --no-default-features --bin outfit-agent --target "$target"
    agent=$ws/target/$target/agent/outfit-agent
fi
dir=$(mktemp -d)
gateway_pid=; agent_pid=
cleanup() { kill $agent_pid $gateway_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

# The demo model's packages (the device needs a model to be registered).
cp -r gateway/demo/. "$dir/model"
mkdir -p "$dir/model/build"
for p in "$dir"/model/packages/*; do
    chmod -R u=rwX,go=rX "$p"
    dpkg-deb --root-owner-group --build "$p" "$dir/model/build" >/dev/null
done
gw() { "$bin/outfit-gateway" "$@" --dir "$dir/gw"; }
gw init --listen 127.0.0.1:0 --operator-listen 127.0.0.1:0 >/dev/null
gw bootstrap admin --out "$dir/admin" >/dev/null
"$bin/outfit-gateway" serve --dir "$dir/gw" 2>"$dir/gateway.log" &
gateway_pid=$!
for _ in $(seq 100); do [ -s "$dir/gw/gateway.url" ] && break; sleep 0.1; done
# Operator actions go through the operator API, as the administrator.
op() {
    "$bin/outfit" --gateway "$(cat "$dir/gw/operator.url")" --ca "$dir/gw/ca.pem" \
        --cert "$dir/admin/admin.pem" --key "$dir/admin/admin.key" "$@"
}
op model import "$dir/model/model.toml" --rollout none >/dev/null
op device add idle-1 --site demo --model webserver >/dev/null
token=$(op device token idle-1 --site demo --address 127.0.0.1)

# Plug-ins as a runtime-only agent takes them: signed, with signed machine code.
mkdir -p "$dir/plugins"
"$bin/outfit-plugin" keygen --key "$dir/vendor.key" >"$dir/trusted-keys"
[ "${BUILD:-}" = default ] || for name in debian rpm; do
    (cd "plugins/$name" && cargo build -q --release --target wasm32-wasip2 --target-dir "$ws/target/wasm")
    mkdir -p "$dir/plugins/$name"
    cp "target/wasm/wasm32-wasip2/release/outfit_plugin_$name.wasm" "$dir/plugins/$name/plugin.wasm"
    cp "plugins/$name/manifest.toml" "$dir/plugins/$name/"
    "$bin/outfit-plugin" sign --key "$dir/vendor.key" "$dir/plugins/$name" >/dev/null
    "$bin/outfit-plugin" precompile --key "$dir/vendor.key" --target "$target" "$dir/plugins/$name" >/dev/null
done

mkdir -p "$dir/root"
start_agent() {
    "$agent" --gateway "$(cat "$dir/gw/gateway.url")" --ca "$dir/gw/ca.pem" --device idle-1 --site demo \
        --enrol-token "$token" --root "$dir/root" --listen 127.0.0.1:0 --plugin-dir "$dir/plugins" \
        --trusted-keys "$dir/trusted-keys" 2>>"$dir/agent.log" &
    agent_pid=$!
    for _ in $(seq 300); do [ "$(grep -c "gateway acknowledged Hello" "$dir/agent.log")" -ge "$1" ] && break; sleep 0.1; done
    [ "$(grep -c "gateway acknowledged Hello" "$dir/agent.log")" -ge "$1" ] || { cat "$dir/agent.log"; exit 1; }
    sleep "${IDLE_SECONDS:-5}"
}
measure() {
    echo "== $1"
    grep -E "^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem)" "/proc/$agent_pid/status"
    grep -E "^Pss:" "/proc/$agent_pid/smaps_rollup"
}
start_agent 1
grep -E "plug-in|plugin" "$dir/agent.log" | tail -4 >&2 || true
if [ -n "${SMAPS:-}" ]; then cp "/proc/$agent_pid/smaps" "$SMAPS"; fi
echo "agent: $agent ($(stat -c %s "$agent") bytes)"
measure "first start"
echo "largest resident mappings (kB, path):"
awk '/^[0-9a-f]+-[0-9a-f]+ / { path = ($6 == "" ? "[anon]" : $6) } /^Rss:/ { rss[path] += $2 }
     END { for (p in rss) if (rss[p] > 0) printf "%8d  %s\n", rss[p], p }' "/proc/$agent_pid/smaps" | sort -rn | head -12
if [ "${BUILD:-}" = default ]; then
    kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
    start_agent 2
    measure "restarted (plug-ins from the cache)"
    # A plug-in delivered through the queue (the signed `files` bundle), which
    # the running agent compiles (in a child) and switches to.
    (cd plugins/files && cargo build -q --release --target wasm32-wasip2 --target-dir "$ws/target/wasm")
    mkdir -p "$dir/deliver/files"
    cp target/wasm/wasm32-wasip2/release/outfit_plugin_files.wasm "$dir/deliver/files/plugin.wasm"
    cp plugins/files/manifest.toml "$dir/deliver/files/"
    "$bin/outfit-plugin" sign --key "$dir/vendor.key" "$dir/deliver/files" >/dev/null
    op plugin install "$dir/deliver/files" --site demo idle-1 >/dev/null
    for _ in $(seq 300); do
        [ "$(grep -c "plug-in compiled in a child process" "$dir/agent.log")" -ge 3 ] && break; sleep 0.1
    done
    sleep "${IDLE_SECONDS:-5}"
    grep -E "install-plugin|plug-in files" "$dir/agent.log" | tail -2 >&2 || true
    echo "plug-ins compiled in children: $(grep -c "plug-in compiled in a child process" "$dir/agent.log")"
    measure "after a plug-in delivery (files, compiled in a child)"
fi
