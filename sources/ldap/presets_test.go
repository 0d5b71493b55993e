package ldap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

// presetConfig is srv.config with the preset's own bases, filters and
// disabled filter.
func presetConfig(srv *slapd, preset, base string) Config {
	c := srv.config("ldaps", base)
	c.Preset, c.BaseDN = preset, base
	c.Users, c.Groups = UserSearch{}, GroupSearch{}
	return c
}

func TestSnapshot_FreeIPAPreset(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, strings.ReplaceAll(`dn: cn=accounts,$OU
objectClass: organizationalRole
cn: accounts

dn: cn=users,cn=accounts,$OU
objectClass: organizationalRole
cn: users

dn: cn=groups,cn=accounts,$OU
objectClass: organizationalRole
cn: groups

dn: uid=alice,cn=users,cn=accounts,$OU
objectClass: inetOrgPerson
objectClass: dirbridgeTestIPAObject
uid: alice
cn: Alice Admin
sn: Admin
displayName: Alice Admin
mail: alice@ipa.example
ipaUniqueID: 5b0e1c52-7d6a-11ee-9c4e-525400a1b2c3

dn: uid=bob,cn=users,cn=accounts,$OU
objectClass: inetOrgPerson
objectClass: dirbridgeTestIPAObject
uid: bob
cn: Bob Locked
sn: Locked
mail: bob@ipa.example
ipaUniqueID: 5b0e1c53-7d6a-11ee-9c4e-525400a1b2c3
nsAccountLock: TRUE

dn: cn=admins,cn=groups,cn=accounts,$OU
objectClass: groupOfNames
objectClass: dirbridgeTestIPAObject
cn: admins
ipaUniqueID: 6c1f2d63-7d6a-11ee-9c4e-525400a1b2c3
member: uid=alice,cn=users,cn=accounts,$OU
member: cn=editors,cn=groups,cn=accounts,$OU

dn: cn=editors,cn=groups,cn=accounts,$OU
objectClass: groupOfNames
objectClass: dirbridgeTestIPAObject
cn: editors
ipaUniqueID: 6c1f2d64-7d6a-11ee-9c4e-525400a1b2c3
member: uid=bob,cn=users,cn=accounts,$OU
`, "$OU", ou))
	got := snapshot(t, newSource(t, presetConfig(srv, PresetFreeIPA, ou)))
	alice, bob := "5b0e1c52-7d6a-11ee-9c4e-525400a1b2c3", "5b0e1c53-7d6a-11ee-9c4e-525400a1b2c3"
	want := sorted(sync.Snapshot{
		Users: []sync.User{
			{ExternalID: alice, Email: "alice@ipa.example", Name: "Alice Admin", Source: "uid=alice,cn=users,cn=accounts," + ou},
			{ExternalID: bob, Email: "bob@ipa.example", Name: "Bob Locked", Disabled: true, Source: "uid=bob,cn=users,cn=accounts," + ou},
		},
		Groups: []sync.Group{
			{ExternalID: "6c1f2d63-7d6a-11ee-9c4e-525400a1b2c3", Name: "admins", Members: []string{alice, bob}, Source: "cn=admins,cn=groups,cn=accounts," + ou},
			{ExternalID: "6c1f2d64-7d6a-11ee-9c4e-525400a1b2c3", Name: "editors", Members: []string{bob}, Source: "cn=editors,cn=groups,cn=accounts," + ou},
		},
	})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}
}

func TestSnapshot_JumpCloudPreset(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	org := "o=5f0c8b2e1a2b3c4d5e6f7a8b," + ou
	srv.add(t, strings.ReplaceAll(`dn: $ORG
objectClass: organization
o: 5f0c8b2e1a2b3c4d5e6f7a8b

dn: ou=Users,$ORG
objectClass: organizationalUnit

dn: uid=jdoe,ou=Users,$ORG
objectClass: inetOrgPerson
uid: jdoe
cn: Jane Doe
sn: Doe
displayName: Jane Doe
mail: jane@jc.example

dn: uid=rroe,ou=Users,$ORG
objectClass: inetOrgPerson
uid: rroe
cn: Richard Roe
sn: Roe
mail: richard@jc.example

dn: cn=Engineering,ou=Users,$ORG
objectClass: groupOfNames
cn: Engineering
member: uid=jdoe,ou=Users,$ORG
member: uid=rroe,ou=Users,$ORG
`, "$ORG", org))
	cfg := presetConfig(srv, PresetJumpCloud, org)
	got := snapshot(t, newSource(t, cfg))
	groupKey, _ := canonicalDN("cn=Engineering,ou=Users," + org)
	want := sorted(sync.Snapshot{
		Users: []sync.User{
			{ExternalID: "jdoe", Email: "jane@jc.example", Name: "Jane Doe", Source: "uid=jdoe,ou=Users," + org},
			{ExternalID: "rroe", Email: "richard@jc.example", Name: "Richard Roe", Source: "uid=rroe,ou=Users," + org},
		},
		Groups: []sync.Group{
			{ExternalID: groupKey, Name: "Engineering", Members: []string{"jdoe", "rroe"}, Source: "cn=Engineering,ou=Users," + org},
		},
	})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("snapshot (-want +got):\n%s", d)
	}
}
