#!/usr/bin/env bash
# make demo: start the Bitwarden emulator with a seeded organization, show
# the plan for the sample directory, apply it, and show that a second run
# finds nothing to do.
set -euo pipefail
bin=${1:-bin}
cd "$(git rev-parse --show-toplevel 2>/dev/null || dirname "$0")"
dir=$(mktemp -d)
trap 'kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$bin/bwemu" -seed cmd/bwemu/demo-org.json -client-secret demo-secret -self-hosted \
	>"$dir/emu.out" 2>"$dir/emu.err" &
emu=$!
for _ in $(seq 100); do
	url=$(sed -n 's/^bwemu listening on //p' "$dir/emu.out")
	[ -n "$url" ] && break
	sleep 0.05
done
[ -n "$url" ] || { echo "the emulator did not start:"; cat "$dir/emu.err"; exit 1; }
export DEMO_BW_SERVER=$url DEMO_BW_SECRET=demo-secret

# The organization as dirbridge has been keeping it: its ledger says which
# members and groups it manages (u1-u4, u99 and Engineering).
mkdir -p "$dir/state" && cp cmd/dirbridge/demo/ledger.json "$dir/state/"

run() {
	echo
	echo "\$ dirbridge $*"
	"$bin/dirbridge" "$@" --config cmd/dirbridge/demo/config.yaml --state-dir "$dir/state" --log-level warn
}
echo "Bitwarden emulator with a seeded organization at $url"
run sync --dry-run
run sync
run sync --dry-run
