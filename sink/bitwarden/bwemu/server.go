package bwemu

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	stdsync "sync"
	"time"
)

// DefaultOrgID is the organization GUID used when Options.OrgID is empty.
const DefaultOrgID = "5f0c2a8e-4b1d-4c3e-9a7f-1e2d3c4b5a69"

// Options configures a Server. The zero value is a cloud organization with
// unlimited seats, groups and directory sync enabled, and no rate limits.
type Options struct {
	// OrgID is the organization GUID. Default DefaultOrgID.
	OrgID string
	// ClientSecret is the organization API key. Default "secret".
	ClientSecret string
	// TokenLifetime is the access tokens' lifetime (expires_in). Default 3600s.
	TokenLifetime time.Duration
	// Seats is the seat count; nil means unlimited.
	Seats *int
	// MaxAutoscaleSeats caps cloud autoscaling; nil means no cap.
	MaxAutoscaleSeats *int
	// SelfHosted makes a self-hosted server: no autoscale ("Cannot autoscale
	// on self-hosted instance."), no import size cap, no subscription
	// endpoint (404) and no rate limits.
	SelfHosted bool
	// UseGroups is the plan's groups feature. Default true.
	UseGroups *bool
	// UseDirectory is the plan's directory-sync feature. Default true.
	UseDirectory *bool
	// Legacy emulates a server before v2026.2.0: revoke and restore answer
	// 404 with an empty body, and lists carry "continuationToken": null.
	Legacy bool
	// RateLimit applies the cloud rate limits of section 5 (ignored when
	// SelfHosted).
	RateLimit bool
	// Vaultwarden emulates Vaultwarden (section 6): the token needs the
	// device fields and scope, errors use Vaultwarden's JSON, and only
	// /api/public/organization/import exists, with the import semantics of
	// section 6.3.
	Vaultwarden bool
	// VaultwardenGroups is Vaultwarden's ORG_GROUPS_ENABLED: without it the
	// import ignores groups.
	VaultwardenGroups bool
	// SCIMEnabled enables the SCIM endpoints, authenticated by SCIMKey.
	SCIMEnabled bool
	// SCIMKey is the SCIM API key. Default "scim-secret".
	SCIMKey string
	// StagedFlag is the server flag pm-34423-staged-status: an import with
	// inviteUsersAfterProvisioning false creates Staged members.
	StagedFlag bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// RequestLogLimit caps the request log; older entries are dropped.
	// Default 100000.
	RequestLogLimit int
}

// Server is an emulated Bitwarden organization. It implements http.Handler
// and is safe for concurrent use.
type Server struct {
	opt   Options
	now   func() time.Time
	api   *http.ServeMux
	admin *http.ServeMux

	mu      stdsync.Mutex
	st      *state
	tokens  map[string]issuedToken
	faults  []*faultEntry
	log     []Request
	stats   Stats
	limiter *rateLimiter
	scimOn  bool
	scimKey string
}

// New returns a Server holding an empty organization configured by opt.
func New(opt Options) *Server {
	if opt.OrgID == "" {
		opt.OrgID = DefaultOrgID
	}
	if opt.ClientSecret == "" {
		opt.ClientSecret = "secret"
	}
	if opt.TokenLifetime <= 0 {
		opt.TokenLifetime = 3600 * time.Second
	}
	if opt.SCIMKey == "" {
		opt.SCIMKey = "scim-secret"
	}
	if opt.RequestLogLimit <= 0 {
		opt.RequestLogLimit = 100000
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	id, ok := parseGUID(opt.OrgID)
	if !ok {
		id = opt.OrgID
	}
	s := &Server{
		opt:     opt,
		now:     now,
		tokens:  map[string]issuedToken{},
		limiter: newRateLimiter(),
		scimOn:  opt.SCIMEnabled,
		scimKey: opt.SCIMKey,
		stats:   newStats(),
	}
	s.st = newState(orgSettings{
		id:                id,
		name:              "Emulated Organization",
		seats:             copyInt(opt.Seats),
		maxAutoscaleSeats: copyInt(opt.MaxAutoscaleSeats),
		storage:           1,
		selfHosted:        opt.SelfHosted,
		useGroups:         opt.UseGroups == nil || *opt.UseGroups,
		useDirectory:      opt.UseDirectory == nil || *opt.UseDirectory,
	})
	s.api = s.apiRoutes()
	s.admin = s.adminRoutes()
	return s
}

func (s *Server) apiRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /identity/connect/token", s.handleToken)

	mux.HandleFunc("GET /api/public/members", s.public(s.listMembers))
	mux.HandleFunc("POST /api/public/members", s.public(s.createMember))
	mux.HandleFunc("GET /api/public/members/{id}", s.public(s.getMember))
	mux.HandleFunc("PUT /api/public/members/{id}", s.public(s.updateMember))
	mux.HandleFunc("DELETE /api/public/members/{id}", s.public(s.deleteMember))
	mux.HandleFunc("GET /api/public/members/{id}/group-ids", s.public(s.getMemberGroupIDs))
	mux.HandleFunc("PUT /api/public/members/{id}/group-ids", s.public(s.putMemberGroupIDs))
	mux.HandleFunc("POST /api/public/members/{id}/reinvite", s.public(s.reinviteMember))
	mux.HandleFunc("POST /api/public/members/{id}/revoke", s.public(s.newer(s.revokeMember)))
	mux.HandleFunc("POST /api/public/members/{id}/restore", s.public(s.newer(s.restoreMember)))

	mux.HandleFunc("GET /api/public/groups", s.public(s.listGroups))
	mux.HandleFunc("POST /api/public/groups", s.public(s.createGroup))
	mux.HandleFunc("GET /api/public/groups/{id}", s.public(s.getGroup))
	mux.HandleFunc("PUT /api/public/groups/{id}", s.public(s.updateGroup))
	mux.HandleFunc("DELETE /api/public/groups/{id}", s.public(s.deleteGroup))
	mux.HandleFunc("GET /api/public/groups/{id}/member-ids", s.public(s.getGroupMemberIDs))
	mux.HandleFunc("PUT /api/public/groups/{id}/member-ids", s.public(s.putGroupMemberIDs))

	mux.HandleFunc("POST /api/public/organization/import", s.handleImport)
	mux.HandleFunc("GET /api/public/organization/subscription", s.public(s.getSubscription))

	mux.HandleFunc("GET /scim/v2/{org}/users", s.scim(s.scimListUsers))
	mux.HandleFunc("GET /scim/v2/{org}/users/{id}", s.scim(s.scimGetUser))
	mux.HandleFunc("GET /scim/v2/{org}/groups", s.scim(s.scimListGroups))
	mux.HandleFunc("GET /scim/v2/{org}/groups/{id}", s.scim(s.scimGetGroup))
	return mux
}

// ServeHTTP serves the emulated APIs, and the admin endpoints under /_emu/.
// Every API request is logged and counted; faults and rate limits apply
// before the route's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emu" || strings.HasPrefix(r.URL.Path, "/_emu/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	start := s.now()
	path := r.URL.Path
	r.URL.Path = canonicalPath(path)
	r.URL.RawPath = ""
	body, _ := io.ReadAll(io.LimitReader(r.Body, 256<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	_, pattern := s.api.Handler(r)
	route := routeName(r.Method, pattern)

	rec := &recorder{ResponseWriter: w}
	defer func() { s.record(r, path, route, body, rec.status, start) }()
	if s.injectFault(rec, r) {
		return
	}
	if s.rateLimited(rec, r) {
		return
	}
	if pattern == "" {
		s.noRoute(rec, r)
		return
	}
	s.api.ServeHTTP(rec, r)
}

// noRoute answers a request no route matches as ASP.NET does: 405 with no
// body when the path exists for another method, else 404 with no body.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	if s.opt.Vaultwarden {
		vwNotFound(w)
		return
	}
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := *r
		probe.Method = method
		if _, pattern := s.api.Handler(&probe); pattern != "" && method != r.Method {
			allow = append(allow, method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeEmpty(w, http.StatusMethodNotAllowed)
		return
	}
	writeEmpty(w, http.StatusNotFound)
}

// public wraps a Public API handler: Vaultwarden has no such route, and every
// call needs a valid access token.
func (s *Server) public(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opt.Vaultwarden {
			vwNotFound(w)
			return
		}
		if !s.authorized(w, r) {
			return
		}
		h(w, r)
	}
}

// newer wraps an endpoint added in v2026.2.0: a Legacy server has no route.
func (s *Server) newer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opt.Legacy {
			writeEmpty(w, http.StatusNotFound)
			return
		}
		h(w, r)
	}
}

// OrgID returns the organization's GUID.
func (s *Server) OrgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.org.id
}

// ClientID returns the client_id of the organization API key.
func (s *Server) ClientID() string { return "organization." + s.OrgID() }

// ClientSecret returns the organization API key.
func (s *Server) ClientSecret() string { return s.opt.ClientSecret }

// SetSCIM enables or disables the SCIM endpoints at runtime.
func (s *Server) SetSCIM(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scimOn = enabled
}

// SetSCIMKey changes the SCIM API key.
func (s *Server) SetSCIMKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scimKey = key
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
