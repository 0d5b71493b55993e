#!/usr/bin/env bash
# run.sh is `make bench`: it builds dirbridge, bwemu, the LDAP benchmark and
# the benchmark driver (main.go), then runs the driver from the repository's
# root: planning at a million users (BenchmarkPlan in ./sync) and the
# end-to-end scenarios against the built binaries. Flags go to the driver:
#   cmd/dirbridge/bench/run.sh -only first-sync,noop
# It needs Go; the LDAP scenarios need slapd and ldap-utils (skipped without).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/dirbridge" ./cmd/dirbridge
go build -o "$bin/bwemu" ./cmd/bwemu
go build -o "$bin/ldapbench" ./sources/ldap/bench
go build -o "$bin/bench" ./cmd/dirbridge/bench

exec "$bin/bench" -dirbridge "$bin/dirbridge" -bwemu "$bin/bwemu" -ldapbench "$bin/ldapbench" "$@"
