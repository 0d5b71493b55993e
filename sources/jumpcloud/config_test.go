package jumpcloud

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestConfig_Validate(t *testing.T) {
	valid := DefaultConfig()
	valid.APIKey = "jca_key"
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{name: "Defaults", edit: func(*Config) {}},
		{name: "EU", edit: func(c *Config) { c.Region = "eu" }},
		{name: "URLOverridesRegion", edit: func(c *Config) { c.Region, c.URL = "", "https://jc.example.com/prefix/" }},
		{name: "LoopbackHTTP", edit: func(c *Config) { c.URL = "http://127.0.0.1:8080" }},
		{name: "KeyFile", edit: func(c *Config) { c.APIKey, c.APIKeyFile = "", "/run/credentials/jc" }},
		{name: "OrgID", edit: func(c *Config) { c.OrgID = "5C0000000000000000000abc" }},
		{name: "BadRegion", edit: func(c *Config) { c.Region = "US" }, want: []string{`region: must be us or eu, not "US"`}},
		{name: "RemoteHTTP", edit: func(c *Config) { c.URL = "http://jc.example.com" },
			want: []string{`url: plain http is allowed only on loopback hosts, not "jc.example.com": the API key would travel in clear text`}},
		{name: "URLWithoutScheme", edit: func(c *Config) { c.URL = "console.jumpcloud.com" },
			want: []string{`url: must start with https:// (or http:// on loopback), not "console.jumpcloud.com"`}},
		{name: "URLWithQuery", edit: func(c *Config) { c.URL = "https://jc.example.com/?a=b" },
			want: []string{`url: must not have a query or fragment: "https://jc.example.com/?a=b"`}},
		{name: "URLWithCredentials", edit: func(c *Config) { c.URL = "https://me:pw@jc.example.com" },
			want: []string{`url: must not hold credentials; use api_key`}},
		{name: "NoKey", edit: func(c *Config) { c.APIKey = "" }, want: []string{"api_key (or api_key_file) is required"}},
		{name: "BothKeys", edit: func(c *Config) { c.APIKeyFile = "/k" }, want: []string{"api_key and api_key_file are both set; give only one"}},
		{name: "KeyWithNewline", edit: func(c *Config) { c.APIKey = "jca_key\n" }, want: []string{"api_key: contains white space or control characters"}},
		{name: "ShortOrgID", edit: func(c *Config) { c.OrgID = "5c00" }, want: []string{`org_id: must be 24 hexadecimal digits, not "5c00"`}},
		{name: "BadStaged", edit: func(c *Config) { c.Staged = "invite" }, want: []string{`staged: must be skip, disabled or active, not "invite"`}},
		{name: "ZeroConcurrency", edit: func(c *Config) { c.Concurrency = 0 }, want: []string{"concurrency: must be between 1 and 16, not 0"}},
		{name: "PageSize101", edit: func(c *Config) { c.PageSize = 101 }, want: []string{"page_size: must be between 1 and 100, not 101"}},
		{name: "ZeroTimeout", edit: func(c *Config) { c.Timeout = 0 }, want: []string{"timeout: must be positive, not 0s"}},
		{
			name: "EveryProblemAtOnce",
			edit: func(c *Config) { *c = Config{Region: "ap", Staged: "x", PageSize: 500} },
			want: []string{
				`region: must be us or eu, not "ap"`,
				"api_key (or api_key_file) is required",
				`staged: must be skip, disabled or active, not "x"`,
				"concurrency: must be between 1 and 16, not 0",
				"page_size: must be between 1 and 100, not 500",
				"timeout: must be positive, not 0s",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.edit(&c)
			if d := cmp.Diff(tt.want, c.Validate()); d != "" {
				t.Errorf("Validate (-want +got):\n%s", d)
			}
		})
	}
}

func TestConfig_Scope(t *testing.T) {
	c := DefaultConfig()
	c.APIKey = "jca_secret"
	if got, want := c.Scope(), "jumpcloud url=https://console.jumpcloud.com org_id=- staged=skip locked_disabled=false"; got != want {
		t.Errorf("Scope = %q, want %q", got, want)
	}
	c.Region, c.OrgID, c.Staged, c.LockedDisabled = "eu", "5C0000000000000000000ABC", StagedDisabled, true
	if got, want := c.Scope(), "jumpcloud url=https://console.eu.jumpcloud.com org_id=5c0000000000000000000abc staged=disabled locked_disabled=true"; got != want {
		t.Errorf("Scope = %q, want %q", got, want)
	}
	c.URL = "https://jc.example.com/"
	if got := c.Scope(); !strings.Contains(got, "url=https://jc.example.com ") || strings.Contains(got, "secret") {
		t.Errorf("Scope = %q, want the URL without its slash and no secret", got)
	}
	// Knobs that do not change what is read leave the scope alone.
	d := c
	d.Concurrency, d.PageSize, d.Timeout, d.APIKey = 1, 10, time.Second, "other"
	if c.Scope() != d.Scope() {
		t.Errorf("Scope changed with concurrency, page size, timeout or key: %q, %q", c.Scope(), d.Scope())
	}
}

// TestConfig_DocExample decodes the YAML of the package doc strictly on top
// of DefaultConfig: it must name every key and show every default.
func TestConfig_DocExample(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	for line := range strings.Lines(string(src)) {
		if y, ok := strings.CutPrefix(line, "//\t"); ok {
			doc.WriteString(y)
		}
	}
	var file struct {
		Source struct {
			Type      string    `yaml:"type"`
			JumpCloud yaml.Node `yaml:"jumpcloud"`
		} `yaml:"source"`
	}
	if err := yaml.Unmarshal(doc.Bytes(), &file); err != nil {
		t.Fatalf("doc example: %v\n%s", err, doc.String())
	}
	block, err := yaml.Marshal(&file.Source.JumpCloud)
	if err != nil {
		t.Fatal(err)
	}
	got := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("doc example, strict decode: %v", err)
	}
	want := DefaultConfig()
	want.APIKey = "${JUMPCLOUD_API_KEY}"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("doc example differs from the defaults (-want +got):\n%s", d)
	}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("yaml")
		if !strings.Contains(string(block), key+":") {
			t.Errorf("doc example lacks key %s", key)
		}
	}
	if file.Source.Type != "jumpcloud" {
		t.Errorf("doc example type = %q, want jumpcloud", file.Source.Type)
	}
}
