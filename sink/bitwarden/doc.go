// Package bitwarden is dirbridge's sink: it reads and changes one Bitwarden
// organization through the Public API, with the organization's API key, and
// implements sync.Sink.
//
// Each plan action is one Public API call, so a dry run reads as what will
// happen:
//
//	invite             POST   /public/members
//	link               PUT    /public/members/{id}       (read first: the PUT replaces the record)
//	revoke             POST   /public/members/{id}/revoke (server 2026.2.0 or later)
//	restore            POST   /public/members/{id}/restore
//	remove             DELETE /public/members/{id}
//	create_group       POST   /public/groups
//	update_group       PUT    /public/groups/{id}
//	set_group_members  PUT    /public/groups/{id}/member-ids
//	delete_group       DELETE /public/groups/{id}
//
// On a large plan, invites, group creations and group memberships can go
// through POST /public/organization/import instead (bulk: auto, from
// bulk_threshold invites, or always): the sink implements sync.BulkSink,
// sends members in requests of at most 2,000 and then groups in requests of
// at most 2,000 groups and a few megabytes, never with overwriteExisting,
// and reads the organization back to check every operation, since the
// import skips some members without an error. On Bitwarden's cloud, where
// each path allows 60 writes a minute, 10,000 invites take 5 requests
// instead of nearly three hours.
//
// Every action is safe to retry, whether the retry is the HTTP client's or
// the next run's after a crash: an invite that meets "This user has already
// been invited." adopts the member when its external id matches, "Already
// revoked." and "Already active." count as done, deleting what is gone
// counts as done, and a group create that failed is looked for before it is
// sent again.
//
// Vaultwarden offers only the import endpoint, so with mode: import the
// sink implements sync.StatelessSink: State cannot read the organization,
// the Syncer plans against the members and groups its ledger remembers, and
// ApplyBulk sends every operation through the import, in one request (split
// from 500 members or 2,000 groups): invites and restorations as members with
// deleted: false, revocations with deleted: true (Vaultwarden matches by
// email and revokes), and, with vaultwarden_groups (the server's
// ORG_GROUPS_ENABLED), groups with their whole membership. Vaultwarden
// neither removes members nor deletes or renames groups through the
// import, and answers nothing to read back: a 200 means the request's
// operations took effect.
//
// All requests go through sync/httpclient's retry policy. Writes are paced
// on the client side per verb and path, as the cloud counts them, so that a
// large plan runs at the server's limit without a storm of 429 answers. The
// access token is renewed five minutes before it expires and once after a
// 401; a second 401 is ErrUnauthorized.
//
// The configuration, under bitwarden: in dirbridge's YAML (defaults shown):
//
//	bitwarden:
//	  # Where the organization lives: exactly one of server, cloud, or
//	  # api_url with identity_url.
//	  server: ""                  # self-hosted base URL: {server}/api and {server}/identity
//	  cloud: ""                   # "us" or "eu"
//	  api_url: ""                 # both or neither; they replace server and cloud
//	  identity_url: ""
//	  organization_id: ""         # GUID, required
//	  client_id: ""               # organization.<organization_id>, required
//	  client_secret: ${BW_CLIENT_SECRET} # or client_secret_file
//	  client_secret_file: ""
//	  timeout: 60s                # per request attempt
//	  concurrency: 8              # group member lists read at once
//	  rate_limit:                 # writes per verb and path; 0 and 0: 5/s and 60/min
//	    per_second: 0             # on the cloud, off on a self-hosted server
//	    per_minute: 0
//	  legacy_revoke: fail         # on servers before 2026.2.0: fail | remove
//	  bulk: auto                  # invites, new groups, memberships through the import: auto | always | never
//	  bulk_threshold: 100         # invites from which bulk: auto uses the import
//	  mode: api                   # api | import (Vaultwarden: import endpoint only; plans from the ledger)
//	  vaultwarden_groups: false   # import mode: the server has ORG_GROUPS_ENABLED=true (else groups are not sent)
//	  scim:                       # refuse to sync an organization SCIM provisions
//	    enabled: false            # true: SCIM is on, do not sync
//	    url: ""                   # e.g. https://scim.bitwarden.com/v2/<organization_id>
//	    api_key: ""               # or api_key_file; with url, ask SCIM each run
//	    api_key_file: ""
package bitwarden
