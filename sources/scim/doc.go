// Package scim reads a directory from a SCIM 2.0 service provider
// (RFC 7643, RFC 7644): Keycloak, authentik, AWS IAM Identity Center,
// another Bitwarden organization, or anything else that serves /Users and
// /Groups.
//
// Configuration, under source.scim (defaults shown):
//
//	source:
//	  scim:
//	    url: https://idp.example.com/scim/v2   # required: the base that /Users and /Groups hang off
//	    token: ${SCIM_TOKEN}                    # bearer token; or token_file
//	    # token_file: /run/credentials/dirbridge.service/scim_token
//	    # ca_file: /etc/dirbridge/idp-ca.pem    # PEM bundle for a private CA; default: system roots
//	    page_size: 100                          # count asked per page; servers may return fewer
//	    paging: index                           # index (startIndex/count) or cursor (AWS IAM Identity Center)
//	    id_attribute: id                        # id or externalId, for users and groups
//	    group_members: auto                     # auto, inline or per_group
//	    concurrency: 4                          # group-by-id requests in flight
//	    timeout: 60s                            # one HTTP attempt
//	    max_pages: 10000                        # a list needing more pages fails
//	    filter_users: ""                        # SCIM filter passed on /Users, e.g. 'active eq true'
//	    filter_groups: ""                       # SCIM filter passed on /Groups
//
// # Paging
//
// Lists are read with startIndex and count, advancing by the number of
// resources each page actually returned (servers cap count, and itemsPerPage
// often echoes the request). A list stops once totalResults resources are
// read, never asking past the end (SCIMMY returns the first page again
// there), or, without totalResults, on the first empty page. A missing or
// null Resources is an empty page, and Bitwarden's lower-case "resources" is
// read too. A page that returns a resource already read fails the read with
// ErrRepeatedResource: the server ignores or misreads startIndex (authentik,
// AWS), or the directory changed under the read, and going on would loop or
// duplicate. So a read can never take more pages than totalResults, and
// max_pages bounds the reads without one. With paging: cursor the first
// request sends an empty cursor and the read follows nextCursor until a page
// has none.
//
// # Mapping
//
// A user's email is its primary email, else the first of type work, else the
// first, else userName when that looks like an address. Its name is
// displayName, else name.formatted, else "givenName familyName", else
// userName. It is disabled when active is false (also "False" as a string);
// a missing active means active. Its external id is id, or externalId with
// id_attribute: externalId, and a user without it fails the read with an
// error naming the user. Groups take displayName as their name and the same
// id attribute.
//
// # Group members
//
// With group_members: auto, groups are listed with their members, and a
// group listed without a members attribute at all (AWS, Bitwarden; an empty
// list counts as members) is fetched with GET /Groups/{id}. per_group lists
// with excludedAttributes=members and fetches every group by id; inline never
// fetches and reads a group without members as empty. At most concurrency
// groups are fetched at once. A group still without members when read by id
// fails the read (ErrNoMembers): its membership cannot be known. Nested
// groups (a member of type Group, or one whose value is a group's id) are
// flattened, cycles included, and nested groups outside filter_groups are
// fetched by id (at most max_pages of them).
//
// # Errors
//
// Any failed request, page or record fails the whole Snapshot. A non-success
// answer is a *ResponseError with the method, URL, status and the SCIM
// error's detail and scimType; a record that cannot be read is a
// *RecordError naming its page, index and id. 429 and 503 honour
// Retry-After, and other 5xx answers are retried with backoff (package
// sync/httpclient).
package scim
