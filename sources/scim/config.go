package scim

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync/secret"
)

// Paging modes.
const (
	// PagingIndex pages with startIndex and count (RFC 7644 §3.4.2.4).
	PagingIndex = "index"
	// PagingCursor pages with cursor and nextCursor (AWS IAM Identity Center,
	// draft-ietf-scim-cursor-pagination).
	PagingCursor = "cursor"
)

// ID attributes.
const (
	// IDAttributeID takes the server-assigned "id" as the external id.
	IDAttributeID = "id"
	// IDAttributeExternalID takes "externalId", set by whoever provisioned
	// the server.
	IDAttributeExternalID = "externalId"
)

// Group member modes.
const (
	// MembersAuto uses the members a group list carries, and fetches a group
	// by id when its listing has no members attribute at all.
	MembersAuto = "auto"
	// MembersInline uses only the members the group list carries; a group
	// listed without members is read as empty.
	MembersInline = "inline"
	// MembersPerGroup lists groups with excludedAttributes=members and fetches
	// every group by id for its members.
	MembersPerGroup = "per_group"
)

// Limits of the numeric settings.
const (
	maxPageSize    = 1000
	maxConcurrency = 64
)

// Config is the YAML under source.scim in dirbridge's configuration.
type Config struct {
	// URL is the service provider's SCIM base URL, the one /Users and
	// /Groups hang off, such as https://idp.example.com/scim/v2. Required.
	URL string `yaml:"url"`
	// Token is the bearer token sent as "Authorization: Bearer <token>".
	// Set it or TokenFile (exactly one). No default.
	Token string `yaml:"token"`
	// TokenFile names a file holding the token (for systemd's
	// LoadCredential=). No default.
	TokenFile string `yaml:"token_file"`
	// CAFile names a PEM bundle of CA certificates to trust instead of the
	// system roots, for a server with a private CA. Default "" (system roots).
	CAFile string `yaml:"ca_file"`
	// PageSize is the count asked for on each list page, 1 to 1000. Servers
	// may return fewer. Default 100.
	PageSize int `yaml:"page_size"`
	// Paging is "index" (startIndex and count) or "cursor" (cursor and
	// nextCursor, for AWS IAM Identity Center). Default "index".
	Paging string `yaml:"paging"`
	// IDAttribute is the attribute read as the external id of users and
	// groups: "id" or "externalId". Default "id".
	IDAttribute string `yaml:"id_attribute"`
	// GroupMembers is "auto", "inline" or "per_group". Default "auto".
	GroupMembers string `yaml:"group_members"`
	// Concurrency bounds the group-by-id requests in flight, 1 to 64.
	// Default 4.
	Concurrency int `yaml:"concurrency"`
	// Timeout bounds one HTTP attempt, headers and body. Default 60s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxPages fails a list that takes more pages than this, a guard against
	// a server that never stops paging; it also bounds the nested groups
	// fetched from outside the group list. Default 10000.
	MaxPages int `yaml:"max_pages"`
	// FilterUsers is a SCIM filter passed on the /Users list, such as
	// `active eq true`. Default "" (every user).
	FilterUsers string `yaml:"filter_users"`
	// FilterGroups is a SCIM filter passed on the /Groups list. Default ""
	// (every group).
	FilterGroups string `yaml:"filter_groups"`
}

// DefaultConfig returns the defaults the user's YAML is decoded on top of.
func DefaultConfig() Config {
	return Config{
		PageSize:     100,
		Paging:       PagingIndex,
		IDAttribute:  IDAttributeID,
		GroupMembers: MembersAuto,
		Concurrency:  4,
		Timeout:      60 * time.Second,
		MaxPages:     10000,
	}
}

// Validate returns every problem of the configuration, each as
// "key: message". It does no I/O.
func (c Config) Validate() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if msg := checkURL(c.URL); msg != "" {
		add("url: %s", msg)
	}
	if msg := secret.Check("token", c.Token, c.TokenFile, true); msg != "" {
		problems = append(problems, msg)
	}
	if c.PageSize < 1 || c.PageSize > maxPageSize {
		add("page_size: must be between 1 and %d, got %d", maxPageSize, c.PageSize)
	}
	if c.Paging != PagingIndex && c.Paging != PagingCursor {
		add("paging: must be %q or %q, got %q", PagingIndex, PagingCursor, c.Paging)
	}
	if c.IDAttribute != IDAttributeID && c.IDAttribute != IDAttributeExternalID {
		add("id_attribute: must be %q or %q, got %q", IDAttributeID, IDAttributeExternalID, c.IDAttribute)
	}
	switch c.GroupMembers {
	case MembersAuto, MembersInline, MembersPerGroup:
	default:
		add("group_members: must be %q, %q or %q, got %q", MembersAuto, MembersInline, MembersPerGroup, c.GroupMembers)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		add("concurrency: must be between 1 and %d, got %d", maxConcurrency, c.Concurrency)
	}
	if c.Timeout <= 0 {
		add("timeout: must be positive, got %s", c.Timeout)
	}
	if c.MaxPages < 1 {
		add("max_pages: must be at least 1, got %d", c.MaxPages)
	}
	if strings.ContainsAny(c.FilterUsers, "\r\n") {
		add("filter_users: must be one line")
	}
	if strings.ContainsAny(c.FilterGroups, "\r\n") {
		add("filter_groups: must be one line")
	}
	return problems
}

// Scope returns the canonical text of what the source reads: the URL, the id
// attribute and the filters. It holds no secret.
func (c Config) Scope() string {
	return fmt.Sprintf("scim\nurl=%s\nid_attribute=%s\nfilter_users=%s\nfilter_groups=%s\n",
		strings.TrimRight(strings.TrimSpace(c.URL), "/"), c.IDAttribute,
		strings.TrimSpace(c.FilterUsers), strings.TrimSpace(c.FilterGroups))
}

// checkURL returns what is wrong with a base URL, or "".
func checkURL(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "is required"
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return fmt.Sprintf("cannot parse %q: %v", raw, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("must start with https:// (or http://), got %q", raw)
	case u.Host == "":
		return fmt.Sprintf("has no host: %q", raw)
	case u.User != nil:
		return "must not hold credentials; use token or token_file"
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("must not have a query or fragment: %q", raw)
	}
	return ""
}
