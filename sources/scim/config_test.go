package scim

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func validConfig() Config {
	c := DefaultConfig()
	c.URL = "https://idp.example.com/scim/v2"
	c.Token = "t"
	return c
}

func TestConfig_Validate(t *testing.T) {
	if got := validConfig().Validate(); len(got) != 0 {
		t.Errorf("valid config: problems %v", got)
	}
	bad := Config{
		URL: "ftp://idp.example.com", Token: "t", TokenFile: "/f", PageSize: 0, Paging: "offset",
		IDAttribute: "externalid", GroupMembers: "all", Concurrency: 0, Timeout: -time.Second, MaxPages: 0,
		FilterUsers: "a\nb", FilterGroups: "c\r",
	}
	want := []string{
		`url: must start with https:// (or http://), got "ftp://idp.example.com"`,
		"token and token_file are both set; give only one",
		"page_size: must be between 1 and 1000, got 0",
		`paging: must be "index" or "cursor", got "offset"`,
		`id_attribute: must be "id" or "externalId", got "externalid"`,
		`group_members: must be "auto", "inline" or "per_group", got "all"`,
		"concurrency: must be between 1 and 64, got 0",
		"timeout: must be positive, got -1s",
		"max_pages: must be at least 1, got 0",
		"filter_users: must be one line",
		"filter_groups: must be one line",
	}
	if diff := cmp.Diff(want, bad.Validate()); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
}

func TestConfig_ValidateURL(t *testing.T) {
	cases := map[string]string{
		"https://idp.example.com/scim/v2":    "",
		"https://idp.example.com/scim/v2/":   "",
		"http://127.0.0.1:8080/scim/v2":      "",
		"":                                   "url: is required",
		"idp.example.com/scim/v2":            "url: must start with https://",
		"https:///scim/v2":                   "url: has no host",
		"https://u:p@idp.example.com/scim":   "url: must not hold credentials",
		"https://idp.example.com/scim?x=1":   "url: must not have a query or fragment",
		"https://idp.example.com/scim#frag":  "url: must not have a query or fragment",
		"https://idp.example.com:bad/scim":   "url: cannot parse",
		"  https://idp.example.com/scim/v2 ": "",
	}
	for raw, want := range cases {
		c := validConfig()
		c.URL = raw
		got := strings.Join(c.Validate(), "; ")
		if (want == "") != (got == "") || !strings.HasPrefix(got, want) {
			t.Errorf("url %q: problems %q, want %q", raw, got, want)
		}
	}
	c := validConfig()
	c.Token = ""
	if got := c.Validate(); len(got) != 1 || got[0] != "token (or token_file) is required" {
		t.Errorf("no token: problems %v", got)
	}
}

// TestConfig_DocExample decodes the YAML example of the package doc the way
// the loader does (defaults, then a strict decode) and checks it is valid
// and shows the defaults.
func TestConfig_DocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	inBlock := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\t"):
			if strings.TrimSpace(line) == "//\tsource:" {
				inBlock = true
			}
			if inBlock {
				block = append(block, strings.TrimPrefix(line, "//\t"))
			}
		case inBlock:
			inBlock = false
		}
	}
	if len(block) == 0 {
		t.Fatal("no YAML example in doc.go")
	}
	var doc struct {
		Source struct {
			SCIM yaml.Node `yaml:"scim"`
		} `yaml:"source"`
	}
	if err := yaml.Unmarshal([]byte(strings.Join(block, "\n")), &doc); err != nil {
		t.Fatalf("example is not YAML: %v", err)
	}
	raw, err := yaml.Marshal(&doc.Source.SCIM)
	if err != nil {
		t.Fatal(err)
	}
	got := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("strict decode of the example: %v", err)
	}
	want := DefaultConfig()
	want.URL = "https://idp.example.com/scim/v2"
	want.Token = "${SCIM_TOKEN}"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("example differs from the defaults (-want +got):\n%s", diff)
	}
	if problems := got.Validate(); len(problems) != 0 {
		t.Errorf("example is invalid: %v", problems)
	}
	var unknown Config
	dec = yaml.NewDecoder(strings.NewReader("url: x\npagesize: 5\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&unknown); err == nil {
		t.Error("strict decode accepted an unknown key")
	}
}

func TestConfig_Scope(t *testing.T) {
	a := validConfig()
	a.Token = "secret-token"
	b := validConfig()
	b.URL += "/"
	b.Token, b.TokenFile = "", "/run/other"
	b.PageSize, b.Concurrency, b.GroupMembers = 7, 9, MembersPerGroup
	if a.Scope() != b.Scope() {
		t.Errorf("scope changed with settings that do not change what is read:\n%s\n%s", a.Scope(), b.Scope())
	}
	if strings.Contains(a.Scope(), "secret-token") {
		t.Errorf("scope shows the token: %s", a.Scope())
	}
	for _, edit := range []func(*Config){
		func(c *Config) { c.URL = "https://other.example.com/scim/v2" },
		func(c *Config) { c.IDAttribute = IDAttributeExternalID },
		func(c *Config) { c.FilterUsers = "active eq true" },
		func(c *Config) { c.FilterGroups = `displayName sw "x"` },
	} {
		c := validConfig()
		edit(&c)
		if c.Scope() == a.Scope() {
			t.Errorf("scope did not change: %s", c.Scope())
		}
	}
}
