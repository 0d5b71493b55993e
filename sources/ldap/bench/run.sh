#!/usr/bin/env bash
# run.sh measures the LDAP source against ldapsearch on 100,000 users and
# 2,000 groups (300,000 memberships) in a private slapd; see main.go.
# Needs slapd and ldap-utils. Extra flags go to the benchmark, e.g.
#   sources/ldap/bench/run.sh -runs 5 -page-size 500
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ldapbench" ./sources/ldap/bench
"$bin/ldapbench" "$@"
