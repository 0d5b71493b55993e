package jumpcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sources/jumpcloud/jctest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/httpclient"
)

// fastRetry keeps backoff without Retry-After to a few milliseconds.
var fastRetry = httpclient.Options{WaitMin: time.Millisecond, WaitMax: 4 * time.Millisecond}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestSource returns a source over srv with fast retries; edit changes
// the config first.
func newTestSource(t *testing.T, srv *jctest.Server, edit ...func(*Config)) *Source {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = srv.URL
	cfg.APIKey = jctest.DefaultAPIKey
	for _, e := range edit {
		e(&cfg)
	}
	src, err := newSource(cfg, testLogger(t), fastRetry)
	if err != nil {
		t.Fatalf("newSource: %v", err)
	}
	return src
}

func startServer(t *testing.T, opt jctest.Options) *jctest.Server {
	t.Helper()
	srv := jctest.New(opt)
	t.Cleanup(srv.Close)
	return srv
}

func fixtureServer(t *testing.T, f sourcetest.Fixture, faults ...jctest.Fault) *jctest.Server {
	t.Helper()
	users, groups := jctest.FromFixture(f)
	return startServer(t, jctest.Options{Users: users, Groups: groups, Faults: faults})
}

// directory returns n activated users and g groups; group i holds every user
// whose number is a multiple of i+1.
func directory(n, g int) ([]jctest.User, []jctest.Group) {
	users := make([]jctest.User, 0, n)
	for i := 1; i <= n; i++ {
		users = append(users, jctest.User{
			ID: jctest.UserID(i), Email: fmt.Sprintf("user%d@example.com", i), Username: fmt.Sprintf("user%d", i),
			DisplayName: fmt.Sprintf("User %d", i), State: "ACTIVATED", Activated: true,
		})
	}
	groups := make([]jctest.Group, 0, g)
	for i := range g {
		grp := jctest.Group{ID: jctest.GroupID(i + 1), Name: fmt.Sprintf("Group %d", i+1)}
		for u := i + 1; u <= n; u += i + 1 {
			grp.Members = append(grp.Members, jctest.UserID(u))
		}
		groups = append(groups, grp)
	}
	return users, groups
}

// wantSnapshot is what the source should read from srv as it is now, given
// that all its users are activated.
func wantSnapshot(srv *jctest.Server) sync.Snapshot {
	var snap sync.Snapshot
	for _, u := range srv.Users() {
		snap.Users = append(snap.Users, sync.User{ExternalID: u.ID, Email: u.Email, Name: u.DisplayName, Disabled: u.Suspended})
	}
	for _, g := range srv.Groups() {
		snap.Groups = append(snap.Groups, sync.Group{ExternalID: g.ID, Name: g.Name, Members: g.Members})
	}
	return snap
}

// diffSnapshots compares snapshots ignoring order and Source.
func diffSnapshots(want, got sync.Snapshot) string {
	norm := func(s sync.Snapshot) sync.Snapshot {
		var out sync.Snapshot
		for _, u := range s.Users {
			u.Source = ""
			out.Users = append(out.Users, u)
		}
		for _, g := range s.Groups {
			g.Source = ""
			g.Members = slices.Sorted(slices.Values(g.Members))
			if len(g.Members) == 0 {
				g.Members = nil
			}
			out.Groups = append(out.Groups, g)
		}
		slices.SortFunc(out.Users, func(a, b sync.User) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		slices.SortFunc(out.Groups, func(a, b sync.Group) int { return strings.Compare(a.ExternalID, b.ExternalID) })
		return out
	}
	return cmp.Diff(norm(want), norm(got))
}

func TestConformance(t *testing.T) {
	harness := func(edit ...func(*Config)) sourcetest.Harness {
		return sourcetest.Harness{
			New: func(t *testing.T, f sourcetest.Fixture) sync.Source {
				return newTestSource(t, fixtureServer(t, f), edit...)
			},
			Broken: func(t *testing.T, f sourcetest.Fixture) sync.Source {
				srv := fixtureServer(t, f, jctest.Fault{Route: jctest.RouteUsers, After: 1, Status: http.StatusBadGateway})
				return newTestSource(t, srv, edit...)
			},
			Stalled: func(t *testing.T, f sourcetest.Fixture) (sync.Source, <-chan struct{}) {
				srv := fixtureServer(t, f, jctest.Fault{Stall: true})
				return newTestSource(t, srv, edit...), srv.Stalled()
			},
		}
	}
	t.Run("Defaults", func(t *testing.T) { sourcetest.Run(t, harness()) })
	t.Run("SmallPagesOneAtATime", func(t *testing.T) {
		sourcetest.Run(t, harness(func(c *Config) { c.PageSize, c.Concurrency = 7, 1 }))
	})
}

func TestSnapshot_SendsHeadersAndPagingParams(t *testing.T) {
	org := "5c00000000000000000000aa"
	users, groups := directory(250, 3)
	srv := startServer(t, jctest.Options{OrgID: org, Users: users, Groups: groups})
	src := newTestSource(t, srv, func(c *Config) { c.OrgID = org })
	if _, err := src.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	var userSkips, groupSkips []string
	members := 0
	for _, r := range srv.Requests() {
		if r.Header.Get("x-api-key") != jctest.DefaultAPIKey || r.Header.Get("x-org-id") != org || r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s: headers %v, want x-api-key, x-org-id and Accept: application/json", r.Path, r.Header)
		}
		if r.Query.Get("limit") != "100" {
			t.Errorf("%s: limit %q, want 100", r.Path, r.Query.Get("limit"))
		}
		switch r.Route {
		case jctest.RouteUsers:
			userSkips = append(userSkips, r.Query.Get("skip"))
			if r.Query.Get("sort") != "_id" || r.Query.Get("fields") != strings.Join(userFields, " ") {
				t.Errorf("users query %v, want sort=_id and fields %v", r.Query, userFields)
			}
		case jctest.RouteGroups:
			groupSkips = append(groupSkips, r.Query.Get("skip"))
		case jctest.RouteMembers:
			members++
		}
	}
	if got, want := strings.Join(userSkips, ","), "0,100,200"; got != want {
		t.Errorf("user skips = %s, want %s", got, want)
	}
	// The v2 list has no count: a short first page is followed by an
	// empty one.
	if got, want := strings.Join(groupSkips, ","), "0,3"; got != want {
		t.Errorf("group skips = %s, want %s", got, want)
	}
	// Groups 1, 2 and 3 have 250, 125 and 83 members: 3, 2 and 1 pages and
	// an empty one each, and lists of several pages are read twice.
	if members != 16 {
		t.Errorf("%d member requests, want 16", members)
	}
}

func TestSnapshot_BoundsConcurrency(t *testing.T) {
	users, groups := directory(300, 40)
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			srv := startServer(t, jctest.Options{Users: users, Groups: groups})
			src := newTestSource(t, srv, func(c *Config) { c.Concurrency = n })
			snap, err := src.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if d := diffSnapshots(wantSnapshot(srv), snap); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
			if got := srv.MaxInFlight(""); got > n {
				t.Errorf("%d requests in flight at once, want at most %d", got, n)
			}
		})
	}
}

func TestSnapshot_FillsSource(t *testing.T) {
	users, groups := directory(1, 1)
	srv := startServer(t, jctest.Options{Users: users, Groups: groups})
	snap, err := newTestSource(t, srv).Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if got, want := snap.Users[0].Source, "systemusers/"+jctest.UserID(1)+" (user1)"; got != want {
		t.Errorf("user Source = %q, want %q", got, want)
	}
	if got, want := snap.Groups[0].Source, "usergroups/"+jctest.GroupID(1); got != want {
		t.Errorf("group Source = %q, want %q", got, want)
	}
}

func TestSnapshot_ReportsJumpCloudErrors(t *testing.T) {
	users, groups := directory(150, 2)
	tests := []struct {
		name   string
		opt    jctest.Options
		edit   func(*Config)
		after  func(*Source)
		status int
		want   string
	}{
		{
			name:   "WrongKey",
			edit:   func(c *Config) { c.APIKey = "jca_wrong" },
			status: 401,
			// Users and groups are read at once: either may fail first.
			want: "?limit=100&skip=0: 401 Unauthorized: Unauthorized",
		},
		{
			name:   "MultiTenantWithoutOrgID",
			opt:    jctest.Options{OrgID: "5c00000000000000000000bb"},
			status: 401,
			want:   "x-org-id header is required for multi-tenant admins",
		},
		{
			name:   "LimitAbove100",
			after:  func(s *Source) { s.cfg.PageSize = 101 },
			status: 400,
			want:   `400 Bad Request: Bad Request: request parameter "limit" exceeds maximum value of 100`,
		},
		{
			name:   "V2Message",
			opt:    jctest.Options{Faults: []jctest.Fault{{Route: jctest.RouteMembers, Group: jctest.GroupID(1), Status: 403, Body: `{"code":403,"message":"Forbidden: insufficient role","status":"PERMISSION_DENIED"}`}}},
			status: 403,
			want:   "read members of group " + jctest.GroupID(1) + " (Group 1): GET /api/v2/usergroups/" + jctest.GroupID(1) + "/members?limit=100&skip=0: 403 Forbidden: Forbidden: insufficient role",
		},
		{
			name:   "Persistent502",
			opt:    jctest.Options{Faults: []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Status: 502}}},
			status: 502,
			want:   "read users: GET /api/systemusers?limit=100&skip=100: 502 Bad Gateway",
		},
		{
			name:   "Persistent429",
			opt:    jctest.Options{Faults: []jctest.Fault{{Route: jctest.RouteGroups, Status: 429}}},
			status: 429,
			want:   "read groups: GET /api/v2/usergroups?limit=100&skip=0: 429 Too Many Requests: Too Many Requests",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.Users, opt.Groups = users, groups
			srv := startServer(t, opt)
			var edits []func(*Config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			src := newTestSource(t, srv, edits...)
			if tt.after != nil {
				tt.after(src)
			}
			snap, err := src.Snapshot(context.Background())
			if err == nil {
				t.Fatalf("Snapshot succeeded with %d users; want an error", len(snap.Users))
			}
			if len(snap.Users) != 0 || len(snap.Groups) != 0 {
				t.Errorf("Snapshot returned %d users and %d groups with its error", len(snap.Users), len(snap.Groups))
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status {
				t.Errorf("error %v is not an APIError with status %d", err, tt.status)
			}
			if !strings.HasPrefix(err.Error(), "jumpcloud: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), jctest.DefaultAPIKey) {
				t.Errorf("error %q holds the API key", err)
			}
		})
	}
}

func TestSnapshot_DoesNotFollowRedirects(t *testing.T) {
	keys := make(chan string, 10)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("x-api-key")
		http.NotFound(w, r)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()
	cfg := DefaultConfig()
	cfg.URL, cfg.APIKey = redirector.URL, "jca_secret"
	src, err := newSource(cfg, testLogger(t), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "302 Found: redirect to "+other.URL) {
		t.Errorf("error = %v, want a 302 whose redirect was not followed", err)
	}
	select {
	case k := <-keys:
		t.Errorf("the redirect target received a request with x-api-key %q", k)
	default:
	}
}

func TestSnapshot_TimeoutFailsTheRead(t *testing.T) {
	users, groups := directory(3, 1)
	srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: []jctest.Fault{{Route: jctest.RouteGroups, Stall: true}}})
	src := newTestSource(t, srv, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	_, err := src.Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("Snapshot error = %v, want a timeout", err)
	}
}

func TestNew_ReadsAPIKeyFile(t *testing.T) {
	users, groups := directory(2, 1)
	srv := startServer(t, jctest.Options{Users: users, Groups: groups})
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte(jctest.DefaultAPIKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := newTestSource(t, srv, func(c *Config) { c.APIKey, c.APIKeyFile = "", good })
	if _, err := src.Snapshot(context.Background()); err != nil {
		t.Errorf("Snapshot with api_key_file: %v", err)
	}

	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("two words\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.APIKeyFile = bad
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "api_key_file") {
		t.Errorf("New with a key holding a space: error %v, want one naming api_key_file", err)
	}
	cfg.APIKeyFile = filepath.Join(dir, "missing")
	if _, err := New(cfg, nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing key file: error %v, want os.ErrNotExist", err)
	}
	cfg.APIKeyFile, cfg.Region = "", "ap"
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "region") || !strings.Contains(err.Error(), "api_key") {
		t.Errorf("New with a bad config: error %v, want every problem", err)
	}
}

func TestCheck(t *testing.T) {
	users, groups := directory(42, 3)
	srv := startServer(t, jctest.Options{Users: users, Groups: groups})
	got, err := newTestSource(t, srv).Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := "api key accepted by " + srv.URL + "; users: ok, totalCount 42; groups: ok, 1 on the first page"
	if got != want {
		t.Errorf("Check = %q, want %q", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Query.Get("limit") != "1" || reqs[0].Query.Get("fields") != "_id" || reqs[1].Query.Get("limit") != "1" {
		t.Errorf("Check sent %+v, want users?limit=1&fields=_id and usergroups?limit=1", reqs)
	}

	_, err = newTestSource(t, srv, func(c *Config) { c.APIKey = "jca_wrong" }).Check(context.Background())
	if want := "jumpcloud: check users: GET /api/systemusers?limit=1: 401 Unauthorized: Unauthorized"; err == nil || err.Error() != want {
		t.Errorf("Check with a wrong key: error %v, want %q", err, want)
	}
	srv.Inject(jctest.Fault{Route: jctest.RouteGroups, Status: 403, Body: `{"code":403,"message":"Forbidden","status":"PERMISSION_DENIED"}`})
	_, err = newTestSource(t, srv).Check(context.Background())
	if want := "jumpcloud: check groups: GET /api/v2/usergroups?limit=1: 403 Forbidden: Forbidden"; err == nil || err.Error() != want {
		t.Errorf("Check with groups forbidden: error %v, want %q", err, want)
	}
}
