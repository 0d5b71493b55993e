package ldap

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sync/secret"
)

// CompatDirectoryConnector is the compat value that makes the source use the
// external ids Bitwarden Directory Connector sends: objectGUID as a lower-case
// GUID string where the entry has one, else the entry's DN exactly as the
// server returns it.
const CompatDirectoryConnector = "directory_connector"

// Config is the YAML under source.ldap. Keys left empty take their value from
// the preset; explicit keys override it.
type Config struct {
	// URL is the server, ldap://host[:389] or ldaps://host[:636]. Required,
	// except with the jumpcloud preset (ldaps://ldap.jumpcloud.com:636).
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection with StartTLS before binding.
	// Default false.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM file of the CAs that sign the server's certificate.
	// Default "": the system roots.
	CAFile string `yaml:"ca_file"`
	// CAPEM is the same as CAFile, inline. Default "".
	CAPEM string `yaml:"ca_pem"`
	// ClientCertFile and ClientKeyFile are a PEM client certificate and its
	// key, for servers that ask for one. Default "" (none).
	ClientCertFile string `yaml:"client_cert_file"`
	ClientKeyFile  string `yaml:"client_key_file"`
	// InsecureSkipVerify accepts any server certificate. Default false; every
	// run logs a warning while it is on.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// DialTimeout bounds connecting, TLS and binding. Default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Timeout bounds each request (one page of a search); it is also sent as
	// the server-side time limit. Default 2m.
	Timeout time.Duration `yaml:"timeout"`
	// BindDN is the account the source binds as: a DN, or on Active
	// Directory also user@domain or DOMAIN\user. Default "": an anonymous
	// read, without a bind.
	BindDN string `yaml:"bind_dn"`
	// BindPassword is BindDN's password; BindPasswordFile reads it from a
	// file instead. One of them is required with BindDN.
	BindPassword     string `yaml:"bind_password"`
	BindPasswordFile string `yaml:"bind_password_file"`
	// Preset is the directory flavour that supplies the defaults of every key
	// below: openldap, active_directory, freeipa or jumpcloud. Default openldap.
	Preset string `yaml:"preset"`
	// BaseDN is the directory's suffix, such as dc=example,dc=com. The users'
	// and groups' base DNs default from it (FreeIPA: cn=users,cn=accounts and
	// cn=groups,cn=accounts below it; JumpCloud: ou=Users below it). Default "".
	BaseDN string `yaml:"base_dn"`
	// PageSize is the number of entries per page of every search. Default 500.
	PageSize int `yaml:"page_size"`
	// Users says where the users are and how their attributes map.
	Users UserSearch `yaml:"users"`
	// Groups says where the groups are and how their attributes map.
	Groups GroupSearch `yaml:"groups"`
	// Compat set to directory_connector makes the external ids those of
	// Bitwarden Directory Connector, so that an organization it provisioned
	// is adopted without re-invitations. Default "": stable ids (id_attribute).
	Compat string `yaml:"compat"`
}

// UserSearch is the users part of Config.
type UserSearch struct {
	// BaseDN is where users are searched. Default: base_dn (the preset may
	// prefix it); required when base_dn is empty.
	BaseDN string `yaml:"base_dn"`
	// Scope is base, one or sub. Default sub.
	Scope string `yaml:"scope"`
	// Filter selects the users. Default by preset: (objectClass=inetOrgPerson);
	// active_directory (&(objectCategory=person)(objectClass=user)).
	Filter string `yaml:"filter"`
	// IDAttribute holds the stable external id: entryUUID (openldap),
	// objectGUID (active_directory), ipaUniqueID (freeipa), uid (jumpcloud),
	// or dn for the normalized DN.
	IDAttribute string `yaml:"id_attribute"`
	// EmailAttribute holds the email. Default mail.
	EmailAttribute string `yaml:"email_attribute"`
	// EmailPrefixAttribute and EmailSuffix make the email when EmailAttribute
	// is empty: the prefix attribute's value followed by the suffix. Default
	// "" (no fallback); active_directory: userPrincipalName, or sAMAccountName
	// when email_suffix is set.
	EmailPrefixAttribute string `yaml:"email_prefix_attribute"`
	EmailSuffix          string `yaml:"email_suffix"`
	// NameAttribute holds the display name, with cn as the fallback. Default
	// displayName.
	NameAttribute string `yaml:"name_attribute"`
	// UIDAttribute is matched (case-insensitively) against the groups'
	// memberUid values. Default uid; active_directory sAMAccountName.
	UIDAttribute string `yaml:"uid_attribute"`
	// DisabledFilter selects the disabled users among those of Filter, such
	// as (pwdAccountLockedTime=*). Default "" (none); freeipa
	// (nsAccountLock=TRUE). Active Directory also uses userAccountControl
	// bit 2 (ACCOUNTDISABLE) without it.
	DisabledFilter string `yaml:"disabled_filter"`
}

// GroupSearch is the groups part of Config.
type GroupSearch struct {
	// BaseDN is where groups are searched. Default: base_dn (the preset may
	// prefix it), else users.base_dn.
	BaseDN string `yaml:"base_dn"`
	// Scope is base, one or sub. Default sub.
	Scope string `yaml:"scope"`
	// Filter selects the groups. Default (objectClass=groupOfNames);
	// active_directory (objectClass=group).
	Filter string `yaml:"filter"`
	// IDAttribute holds the group's stable external id, as for users.
	// Default entryUUID; active_directory objectGUID; freeipa ipaUniqueID;
	// jumpcloud dn.
	IDAttribute string `yaml:"id_attribute"`
	// NameAttribute holds the group's name, with cn as the fallback. Default cn.
	NameAttribute string `yaml:"name_attribute"`
	// MemberAttribute lists the members: member or uniqueMember (DNs, of
	// users or of nested groups) or memberUid (user names). Default member.
	MemberAttribute string `yaml:"member_attribute"`
}

// DefaultConfig returns the configuration that the user's YAML is decoded
// onto. Keys the presets decide are left empty here.
func DefaultConfig() Config {
	return Config{
		Preset:      PresetOpenLDAP,
		DialTimeout: 10 * time.Second,
		Timeout:     2 * time.Minute,
		PageSize:    500,
	}
}

// Validate returns every problem of the configuration, each as
// "key.path: message". It does no I/O.
func (c Config) Validate() []string {
	var problems []string
	add := func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	}
	if _, ok := presets[c.Preset]; !ok {
		add("preset", "unknown preset %q; want one of %s", c.Preset, strings.Join(presetNames(), ", "))
		return problems
	}
	e := c.effective()
	validateConnection(e, add)
	if p := secret.Check("bind_password", c.BindPassword, c.BindPasswordFile, c.BindDN != ""); p != "" {
		problems = append(problems, p)
	}
	if c.BindDN == "" && (c.BindPassword != "" || c.BindPasswordFile != "") {
		add("bind_dn", "is required with bind_password")
	}
	validateDN(add, "base_dn", c.BaseDN)
	if c.PageSize < 1 || c.PageSize > 100000 {
		add("page_size", "must be between 1 and 100000, got %d", c.PageSize)
	}
	validateSearch(add, "users", e.Users.BaseDN, e.Users.Scope, e.Users.Filter)
	validateFilter(add, "users.disabled_filter", e.Users.DisabledFilter, false)
	validateSearch(add, "groups", e.Groups.BaseDN, e.Groups.Scope, e.Groups.Filter)
	if e.Users.EmailSuffix != "" && e.Users.EmailPrefixAttribute == "" {
		add("users.email_suffix", "needs users.email_prefix_attribute")
	}
	if kindOf(e.Groups.MemberAttribute) == memberUnknown {
		add("groups.member_attribute", "unknown attribute %q; want member, uniqueMember or memberUid", e.Groups.MemberAttribute)
	}
	for _, a := range [][2]string{
		{"users.id_attribute", e.Users.IDAttribute}, {"users.email_attribute", e.Users.EmailAttribute},
		{"users.email_prefix_attribute", e.Users.EmailPrefixAttribute}, {"users.name_attribute", e.Users.NameAttribute},
		{"users.uid_attribute", e.Users.UIDAttribute}, {"groups.id_attribute", e.Groups.IDAttribute},
		{"groups.name_attribute", e.Groups.NameAttribute},
	} {
		if a[1] != "" && !validAttributeName(a[1]) {
			add(a[0], "%q is not an attribute name", a[1])
		}
	}
	switch c.Compat {
	case "":
	case CompatDirectoryConnector:
		if c.Users.IDAttribute != "" {
			add("users.id_attribute", "cannot be set with compat: %s, which uses objectGUID or the DN", c.Compat)
		}
		if c.Groups.IDAttribute != "" {
			add("groups.id_attribute", "cannot be set with compat: %s, which uses objectGUID or the DN", c.Compat)
		}
	default:
		add("compat", "unknown value %q; want \"\" or %q", c.Compat, CompatDirectoryConnector)
	}
	return problems
}

func validateConnection(e Config, add func(key, format string, args ...any)) {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		add("url", "is required")
	case err != nil:
		add("url", "%v", err)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		add("url", "scheme must be ldap or ldaps, got %q", u.Scheme)
	case u.Hostname() == "":
		add("url", "has no host")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "":
		add("url", "must be scheme://host[:port] only, without a DN or query")
	case e.StartTLS && u.Scheme == "ldaps":
		add("start_tls", "cannot be used with an ldaps:// url, which is TLS already")
	}
	if e.CAFile != "" && e.CAPEM != "" {
		add("ca_file", "ca_file and ca_pem are both set; give only one")
	}
	if err == nil && u.Scheme == "ldap" && !e.StartTLS && (e.CAFile != "" || e.CAPEM != "" || e.ClientCertFile != "" || e.InsecureSkipVerify) {
		add("url", "is ldap:// without start_tls, so the TLS settings would be ignored: use ldaps:// or set start_tls")
	}
	if e.CAPEM != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(e.CAPEM)) {
		add("ca_pem", "holds no PEM certificate")
	}
	if (e.ClientCertFile == "") != (e.ClientKeyFile == "") {
		add("client_cert_file", "client_cert_file and client_key_file go together")
	}
	if e.DialTimeout <= 0 {
		add("dial_timeout", "must be positive, got %s", e.DialTimeout)
	}
	if e.Timeout <= 0 {
		add("timeout", "must be positive, got %s", e.Timeout)
	}
}

func validateSearch(add func(key, format string, args ...any), key, base, scope, filter string) {
	if base == "" {
		add(key+".base_dn", "is required (or set base_dn)")
	}
	validateDN(add, key+".base_dn", base)
	if _, ok := scopes[scope]; !ok {
		add(key+".scope", "must be base, one or sub, got %q", scope)
	}
	validateFilter(add, key+".filter", filter, true)
}

func validateDN(add func(key, format string, args ...any), key, dn string) {
	if dn == "" {
		return
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		add(key, "%q is not a DN: %v", dn, err)
	}
}

func validateFilter(add func(key, format string, args ...any), key, filter string, required bool) {
	if filter == "" {
		if required {
			add(key, "is required")
		}
		return
	}
	if _, err := ldap.CompileFilter(filter); err != nil {
		add(key, "%q is not an LDAP filter: %v", filter, err)
	}
}

// validAttributeName reports whether s is an attribute description: a name
// (letters, digits, hyphens, starting with a letter) or an OID, or "dn".
func validAttributeName(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case (r >= '0' && r <= '9' || r == '-' || r == '.') && i > 0:
		case r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return s != ""
}

var scopes = map[string]int{"base": ldap.ScopeBaseObject, "one": ldap.ScopeSingleLevel, "sub": ldap.ScopeWholeSubtree}

// Scope returns the canonical text of what the source reads: server, bind
// account, searches and attribute mapping, without secrets or tuning.
func (c Config) Scope() string {
	e := c.effective()
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	line("url", strings.ToLower(strings.TrimSuffix(e.URL, "/")))
	line("preset", e.Preset)
	line("bind_dn", e.BindDN)
	line("compat", e.Compat)
	for _, s := range []struct {
		prefix                     string
		base, scope, filter, id, n string
	}{
		{"users", e.Users.BaseDN, e.Users.Scope, e.Users.Filter, e.Users.IDAttribute, e.Users.NameAttribute},
		{"groups", e.Groups.BaseDN, e.Groups.Scope, e.Groups.Filter, e.Groups.IDAttribute, e.Groups.NameAttribute},
	} {
		base := s.base
		if key, err := canonicalDN(base); err == nil {
			base = key
		}
		line(s.prefix+".base_dn", base)
		line(s.prefix+".scope", s.scope)
		line(s.prefix+".filter", s.filter)
		line(s.prefix+".id_attribute", s.id)
		line(s.prefix+".name_attribute", s.n)
	}
	line("users.email_attribute", e.Users.EmailAttribute)
	line("users.email_prefix_attribute", e.Users.EmailPrefixAttribute)
	line("users.email_suffix", e.Users.EmailSuffix)
	line("users.uid_attribute", e.Users.UIDAttribute)
	line("users.disabled_filter", e.Users.DisabledFilter)
	line("groups.member_attribute", e.Groups.MemberAttribute)
	return b.String()
}
