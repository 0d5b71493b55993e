// Package jctest is a JumpCloud API server for tests. Over real HTTP it
// serves GET /api/systemusers (v1: {"totalCount","results"}, limit, skip,
// sort, fields), GET /api/v2/usergroups (a bare array) and GET
// /api/v2/usergroups/{id}/members ([{"to":{"id","type":"user"}}]), with
// JumpCloud's error bodies: 401 for a missing or wrong x-api-key, 400 for a
// malformed x-org-id or a limit above 100, 404 for an unknown route or group.
// It records every request and injects faults (see Fault): error statuses
// with or without Retry-After, short and oversized pages, raw bodies,
// a server that ignores skip, hang-ups, stalls, and changes to the data
// between two requests.
package jctest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/dirbridge/dirbridge/sources/sourcetest"
)

// DefaultAPIKey is the key the server accepts when Options.APIKey is empty.
const DefaultAPIKey = "jca_testkey0123456789abcdefghijklmnopqrstu"

// User is one JumpCloud system user.
type User struct {
	// ID is the user's _id; an empty ID is served without _id.
	ID          string
	Email       string
	Username    string
	DisplayName string
	FirstName   string
	LastName    string
	// State is STAGED, ACTIVATED or SUSPENDED; empty omits the field, as
	// JumpCloud's older API did.
	State           string
	Suspended       bool
	Activated       bool
	PasswordExpired bool
	AccountLocked   bool
}

// Group is one JumpCloud user group with its direct members (user ids).
type Group struct {
	ID      string
	Name    string
	Members []string
}

// Options sets up a Server.
type Options struct {
	// APIKey is the only x-api-key accepted. Default DefaultAPIKey.
	APIKey string
	// OrgID, when set, makes the key a multi-tenant administrator's: every
	// request must carry x-org-id equal to it.
	OrgID  string
	Users  []User
	Groups []Group
	// Faults are injected from the first request on; see also Inject.
	Faults []Fault
}

// Request is one request the server received.
type Request struct {
	Method string
	// Path is the URL path; Route and Group say what it named.
	Path   string
	Route  Route
	Group  string
	Query  url.Values
	Header http.Header
	// Status is the status answered, 0 for a stall or hang-up.
	Status int
	Time   time.Time
}

// Server is a running test server. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give the source (no /api suffix).
	URL string

	srv       *httptest.Server
	apiKey    string
	orgID     string
	stalled   chan struct{}
	stallOnce sync.Once
	closing   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	users       []User
	groups      []Group
	faults      []*faultState
	requests    []Request
	inflight    map[Route]int
	maxInflight map[Route]int
}

// New starts a server holding opt's data. Close it when done.
func New(opt Options) *Server {
	s := &Server{
		apiKey:      opt.APIKey,
		orgID:       opt.OrgID,
		stalled:     make(chan struct{}),
		closing:     make(chan struct{}),
		users:       slices.Clone(opt.Users),
		inflight:    make(map[Route]int),
		maxInflight: make(map[Route]int),
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	for _, g := range opt.Groups {
		g.Members = slices.Clone(g.Members)
		s.groups = append(s.groups, g)
	}
	for _, f := range opt.Faults {
		s.faults = append(s.faults, &faultState{Fault: f})
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server, releasing stalled requests first.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// Inject adds a fault. Its After and Times count requests from now on.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f})
}

// Stalled returns a channel closed when the first request hit a Stall fault.
func (s *Server) Stalled() <-chan struct{} { return s.stalled }

// Requests returns the requests received so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests were made to route.
func (s *Server) Count(route Route) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Route == route {
			n++
		}
	}
	return n
}

// MaxInFlight returns the most requests to route that were in flight at
// once, or to every route when route is "".
func (s *Server) MaxInFlight(route Route) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInflight[route]
}

// AddUser appends a user to the directory.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// DeleteUser removes a user and its group memberships, and reports whether
// it existed.
func (s *Server) DeleteUser(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.users, func(u User) bool { return u.ID == id })
	if i < 0 {
		return false
	}
	s.users = slices.Delete(s.users, i, i+1)
	for gi := range s.groups {
		s.groups[gi].Members = slices.DeleteFunc(s.groups[gi].Members, func(m string) bool { return m == id })
	}
	return true
}

// UpdateUser replaces the user with u.ID and reports whether it existed.
func (s *Server) UpdateUser(u User) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.users, func(x User) bool { return x.ID == u.ID })
	if i >= 0 {
		s.users[i] = u
	}
	return i >= 0
}

// AddGroup appends a group.
func (s *Server) AddGroup(g Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.Members = slices.Clone(g.Members)
	s.groups = append(s.groups, g)
}

// DeleteGroup removes a group and reports whether it existed.
func (s *Server) DeleteGroup(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.groups)
	s.groups = slices.DeleteFunc(s.groups, func(g Group) bool { return g.ID == id })
	return len(s.groups) < n
}

// SetMembers replaces a group's members and reports whether it existed.
func (s *Server) SetMembers(groupID string, members []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.groups, func(g Group) bool { return g.ID == groupID })
	if i >= 0 {
		s.groups[i].Members = slices.Clone(members)
	}
	return i >= 0
}

// Users returns the directory's users, in natural order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// Groups returns the directory's groups, in natural order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.groups))
	for _, g := range s.groups {
		g.Members = slices.Clone(g.Members)
		out = append(out, g)
	}
	return out
}

// UserID returns the n-th made-up user id: 24 hexadecimal digits, ordered
// like n.
func UserID(n int) string { return fmt.Sprintf("5a%022x", n) }

// GroupID returns the n-th made-up group id.
func GroupID(n int) string { return fmt.Sprintf("5b%022x", n) }

// FromFixture turns a conformance fixture into JumpCloud users and groups.
// Users get UserID(i+1) in fixture order; disabled people are suspended and
// password-expired in turn, so both paths are read.
func FromFixture(f sourcetest.Fixture) ([]User, []Group) {
	ids := make(map[string]string, len(f.People))
	users := make([]User, 0, len(f.People))
	disabled := 0
	for i, p := range f.People {
		u := User{
			ID:          UserID(i + 1),
			Email:       p.Email,
			Username:    p.Key,
			DisplayName: p.Name,
			State:       "ACTIVATED",
			Activated:   true,
		}
		if p.Disabled {
			if disabled%2 == 0 {
				u.Suspended, u.State = true, "SUSPENDED"
			} else {
				u.PasswordExpired = true
			}
			disabled++
		}
		ids[p.Key] = u.ID
		users = append(users, u)
	}
	groups := make([]Group, 0, len(f.Teams))
	for i, t := range f.Teams {
		g := Group{ID: GroupID(i + 1), Name: t.Name}
		for _, k := range t.Members {
			g.Members = append(g.Members, ids[k])
		}
		groups = append(groups, g)
	}
	return users, groups
}
