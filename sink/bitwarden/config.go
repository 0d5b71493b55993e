package bitwarden

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/secret"
)

// Config is the YAML under bitwarden: in dirbridge's configuration. Exactly
// one of Server, Cloud, or APIURL with IdentityURL says where the
// organization lives.
type Config struct {
	// Server is the base URL of a self-hosted server; the API is
	// {server}/api and the identity service {server}/identity. Default "".
	Server string `yaml:"server"`
	// Cloud selects Bitwarden's cloud: "us" (api.bitwarden.com) or "eu"
	// (api.bitwarden.eu). Default "".
	Cloud string `yaml:"cloud"`
	// APIURL and IdentityURL give the two services' URLs directly, for
	// unusual layouts; both or neither. They replace server and cloud.
	// Default "".
	APIURL string `yaml:"api_url"`
	// IdentityURL: see APIURL. Default "".
	IdentityURL string `yaml:"identity_url"`
	// OrganizationID is the organization's GUID. Required.
	OrganizationID string `yaml:"organization_id"`
	// ClientID is the organization API key's client id,
	// "organization.<organization_id>". Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the organization API key's secret, usually
	// ${BW_CLIENT_SECRET}. This or ClientSecretFile is required.
	ClientSecret string `yaml:"client_secret"`
	// ClientSecretFile is a file holding the secret instead. Default "".
	ClientSecretFile string `yaml:"client_secret_file"`
	// Timeout bounds each request attempt. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many group member lists are read at once.
	// Default 8.
	Concurrency int `yaml:"concurrency"`
	// RateLimit paces writes on the client side. Default: 5 per second and
	// 60 per minute on Bitwarden's cloud, off on a self-hosted server.
	RateLimit RateLimit `yaml:"rate_limit"`
	// LegacyRevoke says what to do on a server without revoke and restore
	// (before v2026.2.0): "fail" stops with an error, "remove" removes
	// members instead of revoking them. Default "fail".
	LegacyRevoke string `yaml:"legacy_revoke"`
	// SCIM configures the guard that refuses to sync an organization that
	// SCIM provisions.
	SCIM SCIMConfig `yaml:"scim"`
	// Bulk says when invites, new groups and group memberships go through
	// the organization import endpoint, up to 2,000 members a request,
	// instead of one request each: "auto" when a plan invites at least
	// BulkThreshold members, "always", or "never". Default "auto".
	Bulk string `yaml:"bulk"`
	// BulkThreshold is the number of invites from which bulk: auto uses the
	// import endpoint. Default 100.
	BulkThreshold int `yaml:"bulk_threshold"`
	// Mode is how dirbridge reaches the organization: "api" reads and
	// changes it through the Public API; "import" is for Vaultwarden, which
	// offers only the import endpoint: the organization cannot be read, so
	// dirbridge plans from its ledger and sends every change through
	// POST /public/organization/import. Default "api".
	Mode string `yaml:"mode"`
	// VaultwardenGroups says, in import mode, that the Vaultwarden server
	// runs with ORG_GROUPS_ENABLED=true. Vaultwarden ignores the groups of
	// an import without it, so dirbridge then sends none. Default false.
	VaultwardenGroups bool `yaml:"vaultwarden_groups"`
}

// RateLimit paces POST, PUT and DELETE requests per verb and concrete path,
// as Bitwarden's cloud counts them, so that a large plan runs at the
// server's limit instead of into a storm of 429 answers. When both are 0,
// the cloud's own limits (5 per second, 60 per minute; GETs 200 per minute)
// apply on the cloud, and nothing on a self-hosted server.
type RateLimit struct {
	// PerSecond is the most requests per second on one path. Default 0.
	PerSecond int `yaml:"per_second"`
	// PerMinute is the most requests per minute on one path. Default 0.
	PerMinute int `yaml:"per_minute"`
}

// SCIMConfig tells dirbridge whether the organization is provisioned by
// SCIM, in which case syncing it too would make the two fight.
type SCIMConfig struct {
	// Enabled asserts that SCIM is on, without asking. Default false.
	Enabled bool `yaml:"enabled"`
	// URL is the organization's SCIM base URL, such as
	// https://scim.bitwarden.com/v2/<organization_id> or
	// https://<server>/scim/v2/<organization_id>. With an API key, each run
	// asks it whether SCIM is on. Default "".
	URL string `yaml:"url"`
	// APIKey is the organization's SCIM API key. Default "".
	APIKey string `yaml:"api_key"`
	// APIKeyFile is a file holding the SCIM API key instead. Default "".
	APIKeyFile string `yaml:"api_key_file"`
}

// The values of Mode.
const (
	ModeAPI    = "api"
	ModeImport = "import"
)

// The values of LegacyRevoke.
const (
	LegacyRevokeFail   = "fail"
	LegacyRevokeRemove = "remove"
)

// DefaultConfig returns the configuration the user's YAML is decoded onto.
func DefaultConfig() Config {
	return Config{
		Timeout:       60 * time.Second,
		Concurrency:   8,
		LegacyRevoke:  LegacyRevokeFail,
		Bulk:          string(sync.BulkAuto),
		BulkThreshold: 100,
		Mode:          ModeAPI,
	}
}

// BulkOptions returns the Syncer's bulk settings from bulk and
// bulk_threshold.
func (c Config) BulkOptions() sync.BulkOptions {
	return sync.BulkOptions{Mode: sync.BulkMode(c.Bulk), Threshold: c.BulkThreshold}
}

// cloudHosts maps Cloud to the API and identity URLs.
var cloudHosts = map[string][2]string{
	"us": {"https://api.bitwarden.com", "https://identity.bitwarden.com"},
	"eu": {"https://api.bitwarden.eu", "https://identity.bitwarden.eu"},
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate returns every problem with the configuration, each as
// "key: message" with the key relative to the bitwarden block. It does no
// I/O.
func (c Config) Validate() []string {
	var errs []string
	add := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	errs = append(errs, c.validateLocation()...)
	switch {
	case c.OrganizationID == "":
		add("organization_id", "is required")
	case !guidRE.MatchString(c.OrganizationID):
		add("organization_id", "must be a GUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6, got %q", c.OrganizationID)
	}
	switch {
	case c.ClientID == "":
		add("client_id", "is required (organization.<organization_id>)")
	case c.OrganizationID != "" && !strings.EqualFold(c.ClientID, "organization."+c.OrganizationID):
		add("client_id", "must be organization.<organization_id>")
	}
	if msg := secret.Check("client_secret", c.ClientSecret, c.ClientSecretFile, true); msg != "" {
		errs = append(errs, msg)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive")
	}
	if c.Concurrency < 1 {
		add("concurrency", "must be at least 1")
	}
	if c.RateLimit.PerSecond < 0 {
		add("rate_limit.per_second", "must not be negative")
	}
	if c.RateLimit.PerMinute < 0 {
		add("rate_limit.per_minute", "must not be negative")
	}
	if c.LegacyRevoke != LegacyRevokeFail && c.LegacyRevoke != LegacyRevokeRemove {
		add("legacy_revoke", "must be %q or %q, got %q", LegacyRevokeFail, LegacyRevokeRemove, c.LegacyRevoke)
	}
	switch sync.BulkMode(c.Bulk) {
	case sync.BulkAuto, sync.BulkAlways, sync.BulkNever:
	default:
		add("bulk", "must be %q, %q or %q, got %q", sync.BulkAuto, sync.BulkAlways, sync.BulkNever, c.Bulk)
	}
	if c.BulkThreshold < 1 {
		add("bulk_threshold", "must be at least 1")
	}
	errs = append(errs, c.validateMode()...)
	return append(errs, c.SCIM.validate()...)
}

// validateMode checks mode and the keys that depend on it.
func (c Config) validateMode() []string {
	switch c.Mode {
	case ModeAPI:
		if c.VaultwardenGroups {
			return []string{"vaultwarden_groups: applies only with mode: import (Vaultwarden)"}
		}
		return nil
	case ModeImport:
	default:
		return []string{fmt.Sprintf("mode: must be %q or %q, got %q", ModeAPI, ModeImport, c.Mode)}
	}
	var errs []string
	if c.Cloud != "" {
		errs = append(errs, "mode: import is for Vaultwarden; Bitwarden's cloud has the full Public API (use mode: api)")
	}
	if c.SCIM.URL != "" || c.SCIM.APIKey != "" || c.SCIM.APIKeyFile != "" {
		errs = append(errs, "scim.url: Vaultwarden has no SCIM to ask; leave scim.url and scim.api_key unset with mode: import")
	}
	if c.Bulk == string(sync.BulkNever) {
		errs = append(errs, "bulk: must not be never with mode: import, which sends every change through the import endpoint")
	}
	return errs
}

// importMode reports whether the organization is reached only through the
// import endpoint (Vaultwarden).
func (c Config) importMode() bool { return c.Mode == ModeImport }

// SyncsGroups reports whether the organization's groups are synced: always
// in api mode; in import mode only with vaultwarden_groups, since
// Vaultwarden otherwise ignores them.
func (c Config) SyncsGroups() bool { return !c.importMode() || c.VaultwardenGroups }

// validateLocation checks that exactly one of server, cloud and
// api_url+identity_url is given, and well formed.
func (c Config) validateLocation() []string {
	var errs []string
	given := 0
	if c.Server != "" {
		given++
		if msg := checkURL(c.Server); msg != "" {
			errs = append(errs, "server: "+msg)
		}
	}
	if c.Cloud != "" {
		given++
		if _, ok := cloudHosts[c.Cloud]; !ok {
			errs = append(errs, fmt.Sprintf("cloud: must be \"us\" or \"eu\", got %q", c.Cloud))
		}
	}
	if c.APIURL != "" || c.IdentityURL != "" {
		given++
		for _, u := range []struct{ key, val, other string }{
			{"api_url", c.APIURL, "identity_url"},
			{"identity_url", c.IdentityURL, "api_url"},
		} {
			switch {
			case u.val == "":
				errs = append(errs, fmt.Sprintf("%s: is required with %s", u.key, u.other))
			case checkURL(u.val) != "":
				errs = append(errs, u.key+": "+checkURL(u.val))
			}
		}
	}
	switch {
	case given == 0:
		errs = append(errs, "server: one of server, cloud, or api_url with identity_url is required")
	case given > 1:
		errs = append(errs, "server: give only one of server, cloud, or api_url with identity_url")
	}
	return errs
}

func (s SCIMConfig) validate() []string {
	var errs []string
	if s.URL != "" {
		if msg := checkURL(s.URL); msg != "" {
			errs = append(errs, "scim.url: "+msg)
		}
	}
	keyGiven := s.APIKey != "" || s.APIKeyFile != ""
	if msg := secret.Check("scim.api_key", s.APIKey, s.APIKeyFile, s.URL != ""); msg != "" {
		errs = append(errs, msg)
	}
	if keyGiven && s.URL == "" {
		errs = append(errs, "scim.url: is required with scim.api_key")
	}
	return errs
}

// checkURL returns what is wrong with an absolute http(s) URL, or "".
func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("must be an http or https URL, got %q", s)
	case u.Host == "":
		return fmt.Sprintf("must be an absolute URL with a host, got %q", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("must not have a query or fragment, got %q", s)
	}
	return ""
}

// endpoints returns the API and identity base URLs, without a trailing
// slash, and whether they are Bitwarden's cloud.
func (c Config) endpoints() (api, identity string, cloud bool) {
	switch {
	case c.APIURL != "":
		api, identity = c.APIURL, c.IdentityURL
	case c.Cloud != "":
		h := cloudHosts[c.Cloud]
		api, identity = h[0], h[1]
	default:
		base := strings.TrimRight(c.Server, "/")
		api, identity = base+"/api", base+"/identity"
	}
	api, identity = strings.TrimRight(api, "/"), strings.TrimRight(identity, "/")
	if u, err := url.Parse(api); err == nil {
		switch strings.ToLower(u.Hostname()) {
		case "api.bitwarden.com", "api.bitwarden.eu":
			cloud = true
		}
	}
	return api, identity, cloud
}
