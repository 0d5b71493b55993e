// Package bwemu emulates one Bitwarden organization as the Public API, the
// identity token endpoint and the SCIM v2 user and group lists present it,
// following specs/bitwarden-api.md down to status codes, error bodies, enum
// numbers, empty-bodied 404s, PascalCase validation keys and the import
// command's traps. dirbridge's sink tests, end-to-end tests, benchmarks and
// `make demo` all talk to it over real HTTP.
//
// One base URL serves everything, like a self-hosted server:
//
//	POST {base}/identity/connect/token            client-credentials token
//	     {base}/api/public/members...              members, group-ids, revoke/restore/reinvite
//	     {base}/api/public/groups...               groups, member-ids
//	POST {base}/api/public/organization/import    directory import (section 3.3)
//	GET  {base}/api/public/organization/subscription
//	GET  {base}/scim/v2/{orgId}/users|groups      SCIM lists (for a SCIM guard)
//	     {base}/_emu/...                           admin endpoints, no auth
//
// The admin endpoints are GET and POST /_emu/state (dump and seed, JSON in
// the Org format), GET /_emu/faults, POST /_emu/faults (add one Fault),
// DELETE /_emu/faults, GET and DELETE /_emu/requests (the request log),
// POST /_emu/expire-tokens, GET /_emu/stats and POST /_emu/scim
// ({"enabled":true,"key":"..."}).
//
// Options switch the server between cloud and self-hosted behaviour, older
// servers (Legacy: no revoke/restore, continuationToken in lists), Vaultwarden
// (section 6), rate limits (section 5) and the staged-status flag. Faults make
// any route answer an error, wait, or drop the connection. The clock is
// injectable so that token expiry and rate limits can be tested without
// sleeping.
//
// A test starts one with StartTestServer and seeds it:
//
//	emu, base := bwemu.StartTestServer(t, bwemu.Options{SelfHosted: true})
//	err := emu.Seed(bwemu.Org{Members: []bwemu.Member{
//		{Email: "owner@example.com", Type: bwemu.TypeOwner, Status: bwemu.StatusConfirmed},
//	}})
//
// then gets a token with emu.ClientID() and emu.ClientSecret() from
// base+"/identity/connect/token" and calls base+"/api/public/...". The
// cmd/bwemu binary serves the same handler on a port.
package bwemu
