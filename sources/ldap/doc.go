// Package ldap is dirbridge's LDAP and Active Directory source
// (source.type: ldap). It reads users and groups from OpenLDAP, Active
// Directory, FreeIPA or JumpCloud's LDAP service with paged searches, and
// returns them as a sync.Snapshot.
//
// A read binds once and runs at most four searches: the disabled users (when
// users.disabled_filter is set; it asks for no attributes, only DNs), the
// users, the groups, and, on Active Directory, the further ranges of the
// member values of groups over 1,500 members. Every search is paged (RFC 2696,
// one request per page) and handled one message at a time, so memory holds
// the snapshot being built and one message, never a whole result. Any failure
// fails the whole read, with no partial snapshot: a result code other than
// success (sizeLimitExceeded, timeLimitExceeded, adminLimitExceeded, ...) as a
// *SearchError naming the search, page and code; a dropped connection; a
// timeout (ErrTimeout); a canceled context (wrapping context.Canceled); or an
// entry without its id attribute (*EntryError wrapping ErrNoID).
//
// Users and groups are identified by a stable attribute (entryUUID,
// objectGUID, ipaUniqueID), so a rename or a move keeps the person. Group
// members are read from the groups (member, uniqueMember or memberUid, never
// memberOf); member DNs are compared in a canonical form (case, spacing and
// escapes do not matter), nested groups are flattened and cycles are harmless,
// and members outside the searches, or deleted Active Directory objects, are
// left out with a debug line.
//
// Configuration, under source.ldap (keys left out take the preset's value):
//
//	url: ldaps://ldap.example.com:636   # ldap:// (optionally with start_tls) or ldaps://
//	start_tls: false
//	ca_file: /etc/dirbridge/ldap-ca.pem # or ca_pem: inline PEM; default: system roots
//	client_cert_file: ""                # with client_key_file, for servers that ask
//	client_key_file: ""
//	insecure_skip_verify: false         # warned about at every run
//	dial_timeout: 10s                   # connect, TLS and bind
//	timeout: 2m                         # each request (page), also the server-side time limit
//	bind_dn: cn=reader,dc=example,dc=com
//	bind_password: ${LDAP_PASSWORD}     # or bind_password_file
//	preset: openldap                    # openldap | active_directory | freeipa | jumpcloud
//	base_dn: dc=example,dc=com          # users.base_dn and groups.base_dn default from it
//	page_size: 500
//	users:
//	  base_dn: ou=people,dc=example,dc=com
//	  scope: sub                        # base | one | sub
//	  filter: (objectClass=inetOrgPerson)
//	  id_attribute: entryUUID           # objectGUID (AD), ipaUniqueID (FreeIPA), uid (JumpCloud), or dn
//	  email_attribute: mail
//	  email_prefix_attribute: ""        # fallback when mail is empty: prefix value + email_suffix
//	  email_suffix: ""
//	  name_attribute: displayName       # fallback cn
//	  uid_attribute: uid                # matched against memberUid; sAMAccountName on AD
//	  disabled_filter: ""               # e.g. (pwdAccountLockedTime=*); FreeIPA (nsAccountLock=TRUE)
//	groups:
//	  base_dn: ou=groups,dc=example,dc=com
//	  scope: sub
//	  filter: (objectClass=groupOfNames)
//	  id_attribute: entryUUID
//	  name_attribute: cn
//	  member_attribute: member          # member | uniqueMember | memberUid
//	compat: ""                          # directory_connector: Bitwarden Directory Connector's ids
//
// The active_directory preset reads (&(objectCategory=person)(objectClass=user))
// users with objectGUID ids, mail falling back to userPrincipalName, and
// userAccountControl bit 2 as disabled; groups (objectClass=group) with
// member values fetched in explicit ranges. compat: directory_connector uses
// the ids Bitwarden Directory Connector sent (objectGUID as a lower-case GUID
// where present, else the DN as the server returns it), so an organization it
// provisioned is adopted without re-invitations.
package ldap
