package ldap

import (
	"sort"
	"strings"
)

// The presets: each gives working defaults for one directory flavour.
const (
	PresetOpenLDAP        = "openldap"
	PresetActiveDirectory = "active_directory"
	PresetFreeIPA         = "freeipa"
	PresetJumpCloud       = "jumpcloud"
)

// preset holds the defaults of one directory flavour. userPath and groupPath
// are prefixed to Config.BaseDN to make the search bases.
type preset struct {
	url                 string
	userPath, groupPath string
	users               UserSearch
	groups              GroupSearch
	// activeDirectory turns on userAccountControl and explicit ranged
	// retrieval of member values.
	activeDirectory bool
}

var presets = map[string]preset{
	PresetOpenLDAP: {
		users: UserSearch{
			Filter: "(objectClass=inetOrgPerson)", IDAttribute: "entryUUID", EmailAttribute: "mail",
			NameAttribute: "displayName", UIDAttribute: "uid",
		},
		groups: GroupSearch{
			Filter: "(objectClass=groupOfNames)", IDAttribute: "entryUUID", NameAttribute: "cn", MemberAttribute: "member",
		},
	},
	PresetActiveDirectory: {
		users: UserSearch{
			Filter: "(&(objectCategory=person)(objectClass=user))", IDAttribute: "objectGUID", EmailAttribute: "mail",
			NameAttribute: "displayName", UIDAttribute: "sAMAccountName",
		},
		groups: GroupSearch{
			Filter: "(objectClass=group)", IDAttribute: "objectGUID", NameAttribute: "cn", MemberAttribute: "member",
		},
		activeDirectory: true,
	},
	PresetFreeIPA: {
		userPath:  "cn=users,cn=accounts",
		groupPath: "cn=groups,cn=accounts",
		users: UserSearch{
			Filter: "(objectClass=inetOrgPerson)", IDAttribute: "ipaUniqueID", EmailAttribute: "mail",
			NameAttribute: "displayName", UIDAttribute: "uid", DisabledFilter: "(nsAccountLock=TRUE)",
		},
		groups: GroupSearch{
			Filter: "(objectClass=groupOfNames)", IDAttribute: "ipaUniqueID", NameAttribute: "cn", MemberAttribute: "member",
		},
	},
	// JumpCloud's LDAP-as-a-Service keeps users and groups under
	// ou=Users,o=<org id>,dc=jumpcloud,dc=com. Its usernames cannot change
	// while a user is bound to LDAP, so uid is the stable user id; no
	// documented attribute identifies a group across renames, hence dn.
	PresetJumpCloud: {
		url:       "ldaps://ldap.jumpcloud.com:636",
		userPath:  "ou=Users",
		groupPath: "ou=Users",
		users: UserSearch{
			Filter: "(objectClass=inetOrgPerson)", IDAttribute: "uid", EmailAttribute: "mail",
			NameAttribute: "displayName", UIDAttribute: "uid",
		},
		groups: GroupSearch{
			Filter: "(objectClass=groupOfNames)", IDAttribute: "dn", NameAttribute: "cn", MemberAttribute: "member",
		},
	},
}

func presetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// effective returns c with every empty key filled in from its preset. An
// unknown preset leaves c as it is (Validate reports it).
func (c Config) effective() Config {
	p, ok := presets[c.Preset]
	if !ok {
		return c
	}
	c.URL = or(c.URL, p.url)
	u, g := &c.Users, &c.Groups
	u.BaseDN = or(u.BaseDN, join(p.userPath, c.BaseDN))
	u.Scope = or(u.Scope, "sub")
	u.Filter = or(u.Filter, p.users.Filter)
	u.IDAttribute = or(u.IDAttribute, p.users.IDAttribute)
	u.EmailAttribute = or(u.EmailAttribute, p.users.EmailAttribute)
	if p.activeDirectory && u.EmailPrefixAttribute == "" {
		u.EmailPrefixAttribute = "userPrincipalName"
		if u.EmailSuffix != "" {
			u.EmailPrefixAttribute = "sAMAccountName"
		}
	}
	u.NameAttribute = or(u.NameAttribute, p.users.NameAttribute)
	u.UIDAttribute = or(u.UIDAttribute, p.users.UIDAttribute)
	u.DisabledFilter = or(u.DisabledFilter, p.users.DisabledFilter)
	g.BaseDN = or(g.BaseDN, join(p.groupPath, c.BaseDN))
	g.BaseDN = or(g.BaseDN, u.BaseDN)
	g.Scope = or(g.Scope, "sub")
	g.Filter = or(g.Filter, p.groups.Filter)
	g.IDAttribute = or(g.IDAttribute, p.groups.IDAttribute)
	g.NameAttribute = or(g.NameAttribute, p.groups.NameAttribute)
	g.MemberAttribute = or(g.MemberAttribute, p.groups.MemberAttribute)
	return c
}

func or(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// join puts path in front of base; it returns "" when base is empty.
func join(path, base string) string {
	switch {
	case base == "":
		return ""
	case path == "":
		return base
	}
	return path + "," + base
}
