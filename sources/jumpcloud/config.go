package jumpcloud

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync/secret"
)

// The base URLs of JumpCloud's data centres.
const (
	URLUS = "https://console.jumpcloud.com"
	URLEU = "https://console.eu.jumpcloud.com"
)

// MaxPageSize is the largest page JumpCloud serves: a larger limit is
// answered with 400 Bad Request.
const MaxPageSize = 100

// MaxConcurrency caps Config.Concurrency, to stay a polite API client.
const MaxConcurrency = 16

// What Config.Staged accepts.
const (
	StagedSkip     = "skip"
	StagedDisabled = "disabled"
	StagedActive   = "active"
)

// Config is the YAML under source.jumpcloud in dirbridge's config.
type Config struct {
	// Region picks JumpCloud's data centre: "us" (console.jumpcloud.com) or
	// "eu" (console.eu.jumpcloud.com). Default "us".
	Region string `yaml:"region"`
	// URL, when set, replaces Region with any base URL (scheme and host,
	// optionally a path prefix; /api/... is appended). Plain http is
	// accepted for loopback hosts only, since the API key travels in a
	// header. Default "".
	URL string `yaml:"url"`
	// APIKey is the JumpCloud administrator's API key, sent as x-api-key.
	// Required unless APIKeyFile is set. Default "".
	APIKey string `yaml:"api_key"`
	// APIKeyFile names a file holding the API key (systemd LoadCredential=,
	// a mounted secret). Default "".
	APIKeyFile string `yaml:"api_key_file"`
	// OrgID is the organization id (24 hexadecimal digits) sent as
	// x-org-id; multi-tenant administrators must set it. Default "" (not
	// sent).
	OrgID string `yaml:"org_id"`
	// Staged says what becomes of users in state STAGED: "skip" (not
	// provisioned and left out of every group), "disabled" (provisioned as
	// disabled) or "active" (treated like an activated user). Default
	// "skip".
	Staged string `yaml:"staged"`
	// LockedDisabled, when true, counts a locked account (account_locked)
	// as disabled. JumpCloud's own Bitwarden integration ignores locks.
	// Default false.
	LockedDisabled bool `yaml:"locked_disabled"`
	// Concurrency bounds how many requests are in flight at once: the user
	// list is read alongside the groups' member lists. Default 4, at most
	// 16.
	Concurrency int `yaml:"concurrency"`
	// PageSize is the limit asked of every list request. Default 100, the
	// most JumpCloud allows.
	PageSize int `yaml:"page_size"`
	// Timeout bounds one HTTP attempt, headers and body. Failed attempts
	// (429, 5xx, connection errors) are retried with backoff. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig returns the configuration that unset keys take.
func DefaultConfig() Config {
	return Config{
		Region:      "us",
		Staged:      StagedSkip,
		Concurrency: 4,
		PageSize:    MaxPageSize,
		Timeout:     60 * time.Second,
	}
}

// Validate returns every problem with c, each prefixed with its key. It does
// no I/O: the API key file is read by New.
func (c Config) Validate() []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if c.URL == "" {
		if _, ok := regionURL(c.Region); !ok {
			add("region: must be us or eu, not %q", c.Region)
		}
	} else if msg := checkURL(c.URL); msg != "" {
		add("url: %s", msg)
	}
	if msg := secret.Check("api_key", c.APIKey, c.APIKeyFile, true); msg != "" {
		probs = append(probs, msg)
	}
	if c.APIKey != "" && !validKey(c.APIKey) {
		add("api_key: contains white space or control characters")
	}
	if c.OrgID != "" && !isObjectID(c.OrgID) {
		add("org_id: must be 24 hexadecimal digits, not %q", c.OrgID)
	}
	switch c.Staged {
	case StagedSkip, StagedDisabled, StagedActive:
	default:
		add("staged: must be skip, disabled or active, not %q", c.Staged)
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		add("concurrency: must be between 1 and %d, not %d", MaxConcurrency, c.Concurrency)
	}
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		add("page_size: must be between 1 and %d, not %d", MaxPageSize, c.PageSize)
	}
	if c.Timeout <= 0 {
		add("timeout: must be positive, not %s", c.Timeout)
	}
	return probs
}

// Scope returns the canonical text of what the source reads: the API's base
// URL, the organization and the mapping of user states. It holds no secret.
func (c Config) Scope() string {
	org := c.OrgID
	if org == "" {
		org = "-"
	}
	return fmt.Sprintf("jumpcloud url=%s org_id=%s staged=%s locked_disabled=%t",
		c.baseURL(), strings.ToLower(org), c.Staged, c.LockedDisabled)
}

// baseURL returns the API's base URL without a trailing slash.
func (c Config) baseURL() string {
	if c.URL != "" {
		return strings.TrimRight(c.URL, "/")
	}
	u, _ := regionURL(c.Region)
	return u
}

func regionURL(region string) (string, bool) {
	switch region {
	case "us":
		return URLUS, true
	case "eu":
		return URLEU, true
	}
	return "", false
}

// checkURL returns what is wrong with a base URL, or "".
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("cannot parse %q", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("must start with https:// (or http:// on loopback), not %q", raw)
	case u.Host == "":
		return fmt.Sprintf("has no host: %q", raw)
	case u.User != nil:
		return "must not hold credentials; use api_key"
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("must not have a query or fragment: %q", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Sprintf("plain http is allowed only on loopback hosts, not %q: the API key would travel in clear text", u.Hostname())
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validKey reports whether an API key can travel in an HTTP header as it is.
func validKey(key string) bool {
	for _, r := range key {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// isObjectID reports whether s looks like a MongoDB ObjectId, as JumpCloud's
// organization ids do.
func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
