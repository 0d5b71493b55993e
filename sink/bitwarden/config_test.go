package bitwarden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

const testOrg = "5f0c2a8e-4b1d-4c3e-9a7f-1e2d3c4b5a69"

func validConfig() Config {
	c := DefaultConfig()
	c.Server = "https://vault.example.com"
	c.OrganizationID = testOrg
	c.ClientID = "organization." + testOrg
	c.ClientSecret = "s3cret"
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string
	}{
		{"Valid", func(c *Config) {}, nil},
		{"CloudUS", func(c *Config) { c.Server, c.Cloud = "", "us" }, nil},
		{"CloudEU", func(c *Config) { c.Server, c.Cloud = "", "eu" }, nil},
		{"ExplicitURLs", func(c *Config) {
			c.Server, c.APIURL, c.IdentityURL = "", "https://x.example/api", "https://x.example/identity"
		}, nil},
		{"ClientIDCaseInsensitive", func(c *Config) { c.ClientID = "organization." + strings.ToUpper(testOrg) }, nil},
		{"SecretFile", func(c *Config) { c.ClientSecret, c.ClientSecretFile = "", "/run/credentials/bw" }, nil},
		{"LegacyRemove", func(c *Config) { c.LegacyRevoke = "remove" }, nil},
		{"SCIMWithKey", func(c *Config) {
			c.SCIM = SCIMConfig{URL: "https://scim.bitwarden.com/v2/" + testOrg, APIKey: "k"}
		}, nil},
		{"SCIMEnabledOnly", func(c *Config) { c.SCIM.Enabled = true }, nil},
		{"NoLocation", func(c *Config) { c.Server = "" },
			[]string{"server: one of server, cloud, or api_url with identity_url is required"}},
		{"TwoLocations", func(c *Config) { c.Cloud = "us" },
			[]string{"server: give only one of server, cloud, or api_url with identity_url"}},
		{"ServerAndURLs", func(c *Config) { c.APIURL, c.IdentityURL = "https://a.example", "https://i.example" },
			[]string{"server: give only one of server, cloud, or api_url with identity_url"}},
		{"APIURLAlone", func(c *Config) { c.Server, c.APIURL = "", "https://a.example" },
			[]string{"identity_url: is required with api_url"}},
		{"IdentityURLAlone", func(c *Config) { c.Server, c.IdentityURL = "", "https://i.example" },
			[]string{"api_url: is required with identity_url"}},
		{"BadCloud", func(c *Config) { c.Server, c.Cloud = "", "de" },
			[]string{`cloud: must be "us" or "eu", got "de"`}},
		{"RelativeServer", func(c *Config) { c.Server = "vault.example.com" },
			[]string{`server: must be an http or https URL, got "vault.example.com"`}},
		{"FTPServer", func(c *Config) { c.Server = "ftp://vault.example.com" },
			[]string{`server: must be an http or https URL, got "ftp://vault.example.com"`}},
		{"BadAPIURL", func(c *Config) { c.Server, c.APIURL, c.IdentityURL = "", "https:///api", "https://i.example" },
			[]string{`api_url: must be an absolute URL with a host, got "https:///api"`}},
		{"NoOrganization", func(c *Config) { c.OrganizationID = "" },
			[]string{"organization_id: is required"}},
		{"BadOrganization", func(c *Config) { c.OrganizationID = "acme"; c.ClientID = "organization.acme" },
			[]string{`organization_id: must be a GUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6, got "acme"`}},
		{"NoClientID", func(c *Config) { c.ClientID = "" },
			[]string{"client_id: is required (organization.<organization_id>)"}},
		{"UserClientID", func(c *Config) { c.ClientID = "user.1234" },
			[]string{"client_id: must be organization.<organization_id>"}},
		{"OtherOrgClientID", func(c *Config) { c.ClientID = "organization.11111111-2222-3333-4444-555555555555" },
			[]string{"client_id: must be organization.<organization_id>"}},
		{"NoSecret", func(c *Config) { c.ClientSecret = "" },
			[]string{"client_secret (or client_secret_file) is required"}},
		{"BothSecrets", func(c *Config) { c.ClientSecretFile = "/x" },
			[]string{"client_secret and client_secret_file are both set; give only one"}},
		{"BadLegacyRevoke", func(c *Config) { c.LegacyRevoke = "delete" },
			[]string{`legacy_revoke: must be "fail" or "remove", got "delete"`}},
		{"NegativeRates", func(c *Config) { c.RateLimit = RateLimit{PerSecond: -1, PerMinute: -2} },
			[]string{"rate_limit.per_second: must not be negative", "rate_limit.per_minute: must not be negative"}},
		{"BulkAlways", func(c *Config) { c.Bulk = "always" }, nil},
		{"BulkNever", func(c *Config) { c.Bulk, c.BulkThreshold = "never", 0 },
			[]string{"bulk_threshold: must be at least 1"}},
		{"BadBulk", func(c *Config) { c.Bulk = "yes" },
			[]string{`bulk: must be "auto", "always" or "never", got "yes"`}},
		{"ZeroTimeoutAndConcurrency", func(c *Config) { c.Timeout, c.Concurrency = 0, 0 },
			[]string{"timeout: must be positive", "concurrency: must be at least 1"}},
		{"SCIMURLWithoutKey", func(c *Config) { c.SCIM.URL = "https://scim.bitwarden.com/v2/" + testOrg },
			[]string{"scim.api_key (or scim.api_key_file) is required"}},
		{"SCIMKeyWithoutURL", func(c *Config) { c.SCIM.APIKeyFile = "/k" },
			[]string{"scim.url: is required with scim.api_key"}},
		{"SCIMBadURL", func(c *Config) { c.SCIM = SCIMConfig{URL: "scim.example", APIKey: "k"} },
			[]string{`scim.url: must be an http or https URL, got "scim.example"`}},
		{"Everything", func(c *Config) { *c = Config{} }, []string{
			"server: one of server, cloud, or api_url with identity_url is required",
			"organization_id: is required",
			"client_id: is required (organization.<organization_id>)",
			"client_secret (or client_secret_file) is required",
			"timeout: must be positive",
			"concurrency: must be at least 1",
			`legacy_revoke: must be "fail" or "remove", got ""`,
			`bulk: must be "auto", "always" or "never", got ""`,
			"bulk_threshold: must be at least 1",
			`mode: must be "api" or "import", got ""`,
		}},
		{"ImportMode", func(c *Config) { c.Mode = ModeImport }, nil},
		{"ImportModeWithGroups", func(c *Config) { c.Mode, c.VaultwardenGroups = ModeImport, true }, nil},
		{"ImportModeSCIMAsserted", func(c *Config) { c.Mode, c.SCIM.Enabled = ModeImport, true }, nil},
		{"BadMode", func(c *Config) { c.Mode = "vaultwarden" },
			[]string{`mode: must be "api" or "import", got "vaultwarden"`}},
		{"VaultwardenGroupsInAPIMode", func(c *Config) { c.VaultwardenGroups = true },
			[]string{"vaultwarden_groups: applies only with mode: import (Vaultwarden)"}},
		{"ImportModeOnTheCloud", func(c *Config) { c.Mode, c.Server, c.Cloud = ModeImport, "", "eu" },
			[]string{"mode: import is for Vaultwarden; Bitwarden's cloud has the full Public API (use mode: api)"}},
		{"ImportModeAsksSCIM", func(c *Config) {
			c.Mode, c.SCIM = ModeImport, SCIMConfig{URL: "https://vault.example.com/scim/v2/" + testOrg, APIKey: "k"}
		}, []string{"scim.url: Vaultwarden has no SCIM to ask; leave scim.url and scim.api_key unset with mode: import"}},
		{"ImportModeBulkNever", func(c *Config) { c.Mode, c.Bulk = ModeImport, "never" },
			[]string{"bulk: must not be never with mode: import, which sends every change through the import endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.modify(&c)
			got := c.Validate()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBulkOptions(t *testing.T) {
	got := DefaultConfig().BulkOptions()
	want := sync.BulkOptions{Mode: sync.BulkAuto, Threshold: 100}
	if got != want {
		t.Errorf("DefaultConfig().BulkOptions() = %+v, want %+v", got, want)
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name               string
		modify             func(c *Config)
		wantAPI, wantIdent string
		wantCloud          bool
	}{
		{"Server", func(c *Config) { c.Server = "https://vault.example.com/" },
			"https://vault.example.com/api", "https://vault.example.com/identity", false},
		{"ServerSubpath", func(c *Config) { c.Server = "https://example.com/bw" },
			"https://example.com/bw/api", "https://example.com/bw/identity", false},
		{"CloudUS", func(c *Config) { c.Server, c.Cloud = "", "us" },
			"https://api.bitwarden.com", "https://identity.bitwarden.com", true},
		{"CloudEU", func(c *Config) { c.Server, c.Cloud = "", "eu" },
			"https://api.bitwarden.eu", "https://identity.bitwarden.eu", true},
		{"URLs", func(c *Config) { c.Server, c.APIURL, c.IdentityURL = "", "https://a.example/", "https://i.example" },
			"https://a.example", "https://i.example", false},
		{"CloudByURL", func(c *Config) {
			c.Server, c.APIURL, c.IdentityURL = "", "https://api.bitwarden.com", "https://identity.bitwarden.com"
		}, "https://api.bitwarden.com", "https://identity.bitwarden.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.modify(&c)
			api, ident, cloud := c.endpoints()
			if api != tt.wantAPI || ident != tt.wantIdent || cloud != tt.wantCloud {
				t.Errorf("endpoints() = %q, %q, %v; want %q, %q, %v", api, ident, cloud, tt.wantAPI, tt.wantIdent, tt.wantCloud)
			}
		})
	}
}

func TestNew_RejectsInvalidConfig(t *testing.T) {
	c := validConfig()
	c.ClientID = "organization.x"
	_, err := New(c, nil)
	if err == nil || !strings.Contains(err.Error(), "client_id: must be organization.<organization_id>") {
		t.Fatalf("New() error = %v, want the client_id problem", err)
	}
}

func TestNew_ReadsSecretFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := validConfig()
	c.ClientSecret, c.ClientSecretFile = "", file
	s, err := New(c, nil)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if got, want := s.secret, "from-file"; got != want {
		t.Errorf("secret = %q, want %q", got, want)
	}
	c.ClientSecretFile = filepath.Join(t.TempDir(), "missing")
	if _, err := New(c, nil); err == nil {
		t.Error("New() with a missing secret file: no error")
	}
}

func TestNewPacer(t *testing.T) {
	if p := newPacer(RateLimit{}, false); p != nil {
		t.Errorf("self-hosted without limits: pacer %+v, want none", p)
	}
	p := newPacer(RateLimit{}, true)
	if p == nil || len(p.write) != 2 || len(p.read) != 1 {
		t.Fatalf("cloud defaults: pacer %+v, want 5/s, 60/min and GET 200/min", p)
	}
	if got, want := p.write[0], (limit{5, 1e9}); got != want {
		t.Errorf("per second = %+v, want %+v", got, want)
	}
	p = newPacer(RateLimit{PerMinute: 30}, false)
	if p == nil || len(p.write) != 1 || len(p.read) != 0 {
		t.Fatalf("self-hosted 30/min: pacer %+v", p)
	}
}

func TestAPIError_Error(t *testing.T) {
	e := &APIError{Method: "POST", Path: "/public/members", Status: 400,
		Message: "The request's model state is invalid.",
		Errors:  map[string][]string{"Type": {"The field Type is invalid."}, "Email": {"The Email field is required."}}}
	got := e.Error()
	want := "bitwarden: POST /public/members: 400 The request's model state is invalid.; " +
		"Email: The Email field is required.; Type: The field Type is invalid."
	if got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
