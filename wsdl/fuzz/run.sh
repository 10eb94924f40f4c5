#!/usr/bin/env bash
# Fuzzes the envelope decoder for SECONDS (default 60) with libFuzzer, starting
# from the golden messages in corpus/ (kept; new interesting inputs are added
# to a scratch copy). Installs nightly and cargo-fuzz if missing.
# Exit status non-zero on any crash; the crashing input is in artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp corpus/* "$work/"
cargo +nightly fuzz run decode "$work" -- -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=512
