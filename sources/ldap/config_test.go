package ldap

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// valid returns a minimal valid configuration.
func valid() Config {
	c := DefaultConfig()
	c.URL = "ldaps://ldap.example.com"
	c.BindDN, c.BindPassword = "cn=reader,dc=example,dc=com", "pw"
	c.BaseDN = "dc=example,dc=com"
	return c
}

func TestValidate_AcceptsEveryPreset(t *testing.T) {
	for _, p := range presetNames() {
		c := valid()
		c.Preset = p
		if problems := c.Validate(); len(problems) > 0 {
			t.Errorf("preset %s: %v", p, problems)
		}
	}
}

func TestValidate_NamesEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // key prefixes of the problems
	}{
		{"NoURL", func(c *Config) { c.URL = "" }, []string{"url: is required"}},
		{"BadScheme", func(c *Config) { c.URL = "http://x" }, []string{"url: scheme must be ldap or ldaps"}},
		{"URLWithDN", func(c *Config) { c.URL = "ldap://x/dc=example" }, []string{"url: must be scheme://host[:port] only"}},
		{"StartTLSWithLDAPS", func(c *Config) { c.StartTLS = true }, []string{"start_tls: cannot be used with an ldaps:// url"}},
		{"TwoCAs", func(c *Config) { c.CAFile, c.CAPEM = "/ca.pem", "x" }, []string{"ca_file: ca_file and ca_pem are both set", "ca_pem: holds no PEM certificate"}},
		{"TLSSettingsOnPlainLDAP", func(c *Config) { c.URL, c.CAFile = "ldap://x", "/ca.pem" }, []string{"url: is ldap:// without start_tls"}},
		{"SuffixWithoutPrefix", func(c *Config) { c.Users.EmailSuffix = "@x" }, []string{"users.email_suffix: needs users.email_prefix_attribute"}},
		{"HalfClientCert", func(c *Config) { c.ClientCertFile = "/c.pem" }, []string{"client_cert_file: client_cert_file and client_key_file go together"}},
		{"NoPassword", func(c *Config) { c.BindPassword = "" }, []string{"bind_password (or bind_password_file) is required"}},
		{"TwoPasswords", func(c *Config) { c.BindPasswordFile = "/pw" }, []string{"bind_password and bind_password_file are both set"}},
		{"PasswordWithoutDN", func(c *Config) { c.BindDN = "" }, []string{"bind_dn: is required with bind_password"}},
		{"Timeouts", func(c *Config) { c.Timeout, c.DialTimeout = 0, -time.Second }, []string{"dial_timeout: must be positive", "timeout: must be positive"}},
		{"PageSize", func(c *Config) { c.PageSize = 0 }, []string{"page_size: must be between 1 and 100000"}},
		{"NoBase", func(c *Config) { c.BaseDN = "" }, []string{"users.base_dn: is required", "groups.base_dn: is required"}},
		{"BadBase", func(c *Config) { c.Users.BaseDN = "not a dn" }, []string{"users.base_dn: \"not a dn\" is not a DN"}},
		{"BadScope", func(c *Config) { c.Groups.Scope = "subtree" }, []string{"groups.scope: must be base, one or sub"}},
		{"BadFilters", func(c *Config) { c.Users.Filter, c.Users.DisabledFilter = "objectClass=x", "(a=b" },
			[]string{"users.filter: \"objectClass=x\" is not an LDAP filter", "users.disabled_filter: \"(a=b\" is not an LDAP filter"}},
		{"BadMember", func(c *Config) { c.Groups.MemberAttribute = "memberOf" }, []string{"groups.member_attribute: unknown attribute \"memberOf\""}},
		{"BadAttribute", func(c *Config) { c.Users.EmailAttribute = "mail address" }, []string{"users.email_attribute: \"mail address\" is not an attribute name"}},
		{"BadPreset", func(c *Config) { c.Preset = "novell" }, []string{"preset: unknown preset \"novell\""}},
		{"BadCompat", func(c *Config) { c.Compat = "bwdc" }, []string{"compat: unknown value \"bwdc\""}},
		{"CompatWithID", func(c *Config) { c.Compat, c.Users.IDAttribute = CompatDirectoryConnector, "uid" },
			[]string{"users.id_attribute: cannot be set with compat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			got := c.Validate()
			if len(got) != len(tc.want) {
				t.Fatalf("Validate() = %q; want %d problems %q", got, len(tc.want), tc.want)
			}
			for _, want := range tc.want {
				found := false
				for _, p := range got {
					found = found || strings.HasPrefix(p, want)
				}
				if !found {
					t.Errorf("Validate() = %q; want one starting %q", got, want)
				}
			}
		})
	}
}

func TestEffective_Presets(t *testing.T) {
	c := valid()
	c.Preset = PresetActiveDirectory
	got := c.effective()
	want := UserSearch{
		BaseDN: "dc=example,dc=com", Scope: "sub", Filter: "(&(objectCategory=person)(objectClass=user))",
		IDAttribute: "objectGUID", EmailAttribute: "mail", EmailPrefixAttribute: "userPrincipalName",
		NameAttribute: "displayName", UIDAttribute: "sAMAccountName",
	}
	if d := cmp.Diff(want, got.Users); d != "" {
		t.Errorf("active_directory users (-want +got):\n%s", d)
	}
	c.Users.EmailSuffix = "@corp.example"
	if got := c.effective().Users.EmailPrefixAttribute; got != "sAMAccountName" {
		t.Errorf("active_directory with email_suffix: prefix = %q, want sAMAccountName", got)
	}

	c = valid()
	c.Preset = PresetFreeIPA
	got = c.effective()
	if got.Users.BaseDN != "cn=users,cn=accounts,dc=example,dc=com" || got.Groups.BaseDN != "cn=groups,cn=accounts,dc=example,dc=com" ||
		got.Users.IDAttribute != "ipaUniqueID" || got.Users.DisabledFilter != "(nsAccountLock=TRUE)" {
		t.Errorf("freeipa = %+v", got)
	}

	c = valid()
	c.URL, c.Preset, c.BaseDN = "", PresetJumpCloud, "o=5f0c8b2e1a2b3c4d5e6f7a8b,dc=jumpcloud,dc=com"
	got = c.effective()
	if got.URL != "ldaps://ldap.jumpcloud.com:636" || got.Users.BaseDN != "ou=Users,"+c.BaseDN || got.Groups.BaseDN != "ou=Users,"+c.BaseDN {
		t.Errorf("jumpcloud = %+v", got)
	}

	c = valid()
	c.BaseDN, c.Users.BaseDN = "", "ou=people,dc=x"
	c.Groups.Filter, c.Users.NameAttribute = "(objectClass=posixGroup)", "cn"
	got = c.effective()
	if got.Groups.BaseDN != "ou=people,dc=x" || got.Groups.Filter != "(objectClass=posixGroup)" || got.Users.NameAttribute != "cn" {
		t.Errorf("explicit keys: %+v", got)
	}
}

func TestScope_ChangesWithWhatIsReadOnly(t *testing.T) {
	base := valid().Scope()
	if strings.Contains(base, "pw") {
		t.Errorf("Scope leaks the password:\n%s", base)
	}
	same := valid()
	same.BindPassword, same.PageSize, same.Timeout = "other", 50, time.Hour
	same.Users.BaseDN = "DC=Example, DC=Com" // the same DN, written otherwise
	if got := same.Scope(); got != base {
		t.Errorf("Scope changed with secrets or tuning:\n%s\nwant\n%s", got, base)
	}
	for name, edit := range map[string]func(*Config){
		"filter": func(c *Config) { c.Users.Filter = "(objectClass=person)" },
		"preset": func(c *Config) { c.Preset = PresetFreeIPA },
		"compat": func(c *Config) { c.Compat = CompatDirectoryConnector },
		"member": func(c *Config) { c.Groups.MemberAttribute = "uniqueMember" },
	} {
		c := valid()
		edit(&c)
		if c.Scope() == base {
			t.Errorf("Scope did not change with %s", name)
		}
	}
}

// TestConfig_ExampleDecodesStrictly decodes testdata/example.yaml (the block
// for config.example.yaml) the way dirbridge's loader does: onto
// DefaultConfig, rejecting unknown keys.
func TestConfig_ExampleDecodesStrictly(t *testing.T) {
	b, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if problems := c.Validate(); len(problems) > 0 {
		t.Errorf("Validate: %q", problems)
	}
	want := DefaultConfig()
	want.URL, want.BindDN, want.BindPassword, want.BaseDN = "ldaps://ldap.example.com:636", "cn=reader,dc=example,dc=com", "${LDAP_PASSWORD}", "dc=example,dc=com"
	want.Users.Scope, want.Groups.Scope = "sub", "sub"
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("example (-defaults +decoded):\n%s", d)
	}
}
