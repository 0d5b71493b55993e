// Package jumpcloud reads users and user groups from JumpCloud's REST API
// (source.type: jumpcloud).
//
// Users come from GET /api/systemusers (v1, offset paging sorted by _id,
// only the fields the mapping needs), groups from GET /api/v2/usergroups and
// each group's direct members from GET /api/v2/usergroups/{id}/members, a
// few groups at a time. Requests carry x-api-key, and x-org-id when org_id is
// set. Every request goes through the shared retry policy of sync/httpclient
// (429 and 503 honour Retry-After; other 5xx and connection errors back off);
// a page that still fails fails the whole read, so a Snapshot is complete or
// an error.
//
// Paging survives a directory that changes during the read. Records already
// seen are dropped. The v1 list stops when skip reaches the latest totalCount
// (an empty page short of it is an error); the v2 lists, which have no count
// and may serve short pages before their end, stop only on an empty page. A
// list is trusted when one read shows it did not change (a single page, or an
// unchanged totalCount, and no duplicate) or when two reads agree; else it is
// read again, up to three times, and every record seen is used.
//
// Users are mapped as JumpCloud's own Bitwarden integration maps them: a user
// is active unless suspended (or in state SUSPENDED) or password-expired; the
// email is "email"; the name is "displayname", else "firstname lastname",
// else "username"; the external id is "_id". Staged users are left out by
// default, and so are group members that are not users of the snapshot.
//
// Configuration, under source.jumpcloud (defaults shown):
//
//	source:
//	  type: jumpcloud
//	  jumpcloud:
//	    region: us                 # us (console.jumpcloud.com) or eu (console.eu.jumpcloud.com)
//	    url: ""                    # any base URL instead of region, e.g. https://jc-proxy.corp.example
//	    api_key: ${JUMPCLOUD_API_KEY}
//	    api_key_file: ""           # or read the key from this file (not both)
//	    org_id: ""                 # 24 hex digits; required for multi-tenant administrators
//	    staged: skip               # staged users: skip, disabled or active
//	    locked_disabled: false     # true: a locked account counts as disabled
//	    concurrency: 4             # requests in flight at once (1-16)
//	    page_size: 100             # limit of each list request (1-100)
//	    timeout: 60s               # one HTTP attempt; failed attempts are retried
package jumpcloud
