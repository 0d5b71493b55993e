package scim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sources/scim/scimtest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/httpclient"
)

// fastRetries keeps retry tests quick: tiny backoffs, and a Retry-After
// honoured up to 2s (the tests send 1 at most).
var fastRetries = httpclient.Options{
	RetryMax:      3,
	WaitMin:       time.Millisecond,
	WaitMax:       5 * time.Millisecond,
	MaxRetryAfter: 2 * time.Second,
}

// testLogger logs at Info into the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newTestServer starts a scimtest server and closes it with the test.
func newTestServer(t *testing.T, opt scimtest.Options) *scimtest.Server {
	t.Helper()
	srv := scimtest.New(opt)
	t.Cleanup(srv.Close)
	return srv
}

// newTestSource returns a source over srv with page size 50 and fast
// retries; edit changes the configuration first.
func newTestSource(t *testing.T, srv *scimtest.Server, edit func(*Config)) *Source {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = srv.URL()
	cfg.Token = "test-token"
	cfg.PageSize = 50
	if edit != nil {
		edit(&cfg)
	}
	src, err := newSource(cfg, testLogger(t), fastRetries)
	if err != nil {
		t.Fatalf("newSource: %v", err)
	}
	return src
}

// fixtureServer returns a server over f with the extra options of opt.
func fixtureServer(t *testing.T, f sourcetest.Fixture, opt scimtest.Options) *scimtest.Server {
	t.Helper()
	opt.Users, opt.Groups = scimtest.FromFixture(f)
	return newTestServer(t, opt)
}

// smallFixture is a directory of n people in three teams, one empty.
func smallFixture(n int) sourcetest.Fixture {
	var f sourcetest.Fixture
	for i := range n {
		f.People = append(f.People, sourcetest.Person{
			Key: fmt.Sprintf("p%02d", i), Email: fmt.Sprintf("p%02d@example.com", i),
			Name: fmt.Sprintf("Person %02d", i), Disabled: i%5 == 4,
		})
	}
	odd := sourcetest.Team{Key: "odd", Name: "Odd"}
	even := sourcetest.Team{Key: "even", Name: "Even"}
	for i := range n {
		if i%2 == 1 {
			odd.Members = append(odd.Members, fmt.Sprintf("p%02d", i))
		} else {
			even.Members = append(even.Members, fmt.Sprintf("p%02d", i))
		}
	}
	f.Teams = []sourcetest.Team{odd, even, {Key: "none", Name: "Nobody"}}
	return f
}

func TestSource_Conformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			srv := fixtureServer(t, f, scimtest.Options{ItemsPerPageEchoesCount: true})
			return newTestSource(t, srv, nil)
		},
		Broken: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			srv := fixtureServer(t, f, scimtest.Options{Faults: []scimtest.Fault{{Path: "/Users", StartIndex: 101}}})
			return newTestSource(t, srv, nil)
		},
		Stalled: func(t *testing.T, f sourcetest.Fixture) (sync.Source, <-chan struct{}) {
			srv := fixtureServer(t, f, scimtest.Options{})
			started := srv.Stall()
			return newTestSource(t, srv, nil), started
		},
	})
}

// TestSnapshot_PagingQuirks reads the same directory through every quirk a
// server may have, and must get it whole each time.
func TestSnapshot_PagingQuirks(t *testing.T) {
	f := smallFixture(23)
	cases := []struct {
		name string
		opt  scimtest.Options
		edit func(*Config)
	}{
		{name: "Plain"},
		{name: "ItemsPerPageEchoesCount", opt: scimtest.Options{ItemsPerPageEchoesCount: true}},
		{name: "ResourcesMissingOnEmptyPage", opt: scimtest.Options{EmptyResources: "missing", OmitTotalResults: true}},
		{name: "ResourcesNullOnEmptyPage", opt: scimtest.Options{EmptyResources: "null", OmitTotalResults: true}},
		{name: "LowercaseResources", opt: scimtest.Options{LowercaseResources: true}},
		{name: "ServerCapsCount", opt: scimtest.Options{MaxCount: 7, ItemsPerPageEchoesCount: true}},
		{name: "NoTotalResults", opt: scimtest.Options{OmitTotalResults: true}},
		{name: "FirstPagePastEnd", opt: scimtest.Options{FirstPagePastEnd: true, ItemsPerPageEchoesCount: true}},
		{name: "ActiveAsString", opt: scimtest.Options{ActiveAsString: true}},
		{name: "GroupsListedWithoutMembers", opt: scimtest.Options{GroupsWithoutMembers: true}},
		{name: "PerGroup", edit: func(c *Config) { c.GroupMembers = MembersPerGroup }},
		{name: "PageSizeOne", edit: func(c *Config) { c.PageSize = 1 }},
		{name: "PageSizeExact", edit: func(c *Config) { c.PageSize = 23 }},
		{name: "ApplicationJSON", opt: scimtest.Options{ContentType: "application/json; charset=utf-8"}},
		{name: "Cursor", opt: scimtest.Options{Cursor: true}, edit: func(c *Config) { c.Paging = PagingCursor; c.PageSize = 5 }},
		{name: "CursorCapped", opt: scimtest.Options{Cursor: true, MaxCount: 3}, edit: func(c *Config) { c.Paging = PagingCursor }},
		{name: "Everything", opt: scimtest.Options{
			ItemsPerPageEchoesCount: true, EmptyResources: "null", LowercaseResources: true, MaxCount: 4,
			OmitTotalResults: true, ActiveAsString: true, GroupsWithoutMembers: true,
		}, edit: func(c *Config) { c.PageSize = 10 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fixtureServer(t, f, tc.opt)
			src := newTestSource(t, srv, func(c *Config) {
				c.PageSize = 10
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			snap, err := src.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			sourcetest.Compare(t, f, snap)
			if tc.opt.OmitTotalResults {
				return // only an empty page can end the list
			}
			for _, r := range srv.Requests() {
				if n, _ := strconv.Atoi(r.Query.Get("startIndex")); n > len(f.People) {
					t.Errorf("asked past the end: %s %v", r.Path, r.Query)
				}
			}
		})
	}
}

// TestSnapshot_RequestShape checks what is sent: the token, the Accept
// header, the filters, count, and excludedAttributes only with per_group.
func TestSnapshot_RequestShape(t *testing.T) {
	for _, mode := range []string{MembersAuto, MembersInline, MembersPerGroup} {
		t.Run(mode, func(t *testing.T) {
			srv := fixtureServer(t, smallFixture(5), scimtest.Options{})
			src := newTestSource(t, srv, func(c *Config) {
				c.GroupMembers = mode
				c.FilterUsers = `active eq true`
				c.FilterGroups = `displayName sw "O"`
				c.Token = "Bearer  test-token\n"
			})
			if _, err := src.Snapshot(context.Background()); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			for _, r := range srv.Requests() {
				if r.Authorization != "Bearer test-token" {
					t.Errorf("%s: Authorization = %q", r.Path, r.Authorization)
				}
				if r.Accept != "application/scim+json, application/json" {
					t.Errorf("%s: Accept = %q", r.Path, r.Accept)
				}
				excluded := r.Query.Get("excludedAttributes")
				switch r.Path {
				case "/Users":
					if got := r.Query.Get("filter"); got != "active eq true" {
						t.Errorf("/Users filter = %q", got)
					}
					if r.Query.Get("count") != "50" || r.Query.Get("startIndex") != "1" {
						t.Errorf("/Users query = %v", r.Query)
					}
				case "/Groups":
					if got := r.Query.Get("filter"); got != `displayName sw "O"` {
						t.Errorf("/Groups filter = %q", got)
					}
					if want := map[bool]string{true: "members"}[mode == MembersPerGroup]; excluded != want {
						t.Errorf("/Groups excludedAttributes = %q, want %q", excluded, want)
					}
				}
			}
		})
	}
}

func TestSnapshot_PerGroupFetchesEachGroupOnce(t *testing.T) {
	f := sourcetest.DefaultFixture()
	srv := fixtureServer(t, f, scimtest.Options{GroupsWithoutMembers: true})
	src := newTestSource(t, srv, func(c *Config) { c.Concurrency = 2 })
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sourcetest.Compare(t, f, snap)
	var got []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/Groups/") {
			got = append(got, r.Path)
		}
	}
	slices.Sort(got)
	want := []string{"/Groups/g-g-empty", "/Groups/g-g0", "/Groups/g-g1", "/Groups/g-g2", "/Groups/g-g3"}
	if !slices.Equal(got, want) {
		t.Errorf("group fetches = %v, want %v", got, want)
	}
}

func TestSnapshot_BoundsGroupConcurrency(t *testing.T) {
	var f sourcetest.Fixture
	f.People = []sourcetest.Person{{Key: "a", Email: "a@example.com", Name: "A"}}
	for i := range 40 {
		f.Teams = append(f.Teams, sourcetest.Team{Key: fmt.Sprint(i), Name: fmt.Sprint("Team ", i), Members: []string{"a"}})
	}
	srv := fixtureServer(t, f, scimtest.Options{})
	src := newTestSource(t, srv, func(c *Config) { c.GroupMembers = MembersPerGroup; c.Concurrency = 3 })
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sourcetest.Compare(t, f, snap)
	if got := srv.MaxInFlight(); got > 3 {
		t.Errorf("max requests in flight = %d, want at most 3", got)
	}
}

// TestSnapshot_NoMembersByID: a server that never shows members (Bitwarden,
// AWS) fails the read in auto and per_group modes, and gives empty groups
// with inline.
func TestSnapshot_NoMembersByID(t *testing.T) {
	f := smallFixture(4)
	opt := scimtest.Options{GroupsWithoutMembers: true, NoMembersByID: true}
	for _, mode := range []string{MembersAuto, MembersPerGroup} {
		t.Run(mode, func(t *testing.T) {
			src := newTestSource(t, fixtureServer(t, f, opt), func(c *Config) { c.GroupMembers = mode })
			_, err := src.Snapshot(context.Background())
			if !errors.Is(err, ErrNoMembers) {
				t.Fatalf("Snapshot error = %v, want ErrNoMembers", err)
			}
			var rec *RecordError
			if !errors.As(err, &rec) || rec.Kind != "group" || rec.ID == "" {
				t.Errorf("error %v does not name the group", err)
			}
		})
	}
	t.Run(MembersInline, func(t *testing.T) {
		srv := fixtureServer(t, f, opt)
		src := newTestSource(t, srv, func(c *Config) { c.GroupMembers = MembersInline })
		snap, err := src.Snapshot(context.Background())
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		for _, g := range snap.Groups {
			if len(g.Members) != 0 {
				t.Errorf("group %s has members %v, want none", g.Name, g.Members)
			}
		}
		for _, r := range srv.Requests() {
			if strings.HasPrefix(r.Path, "/Groups/") {
				t.Errorf("inline mode fetched %s", r.Path)
			}
		}
	})
}

func TestSnapshot_TokenFileAndCA(t *testing.T) {
	f := smallFixture(3)
	srv := fixtureServer(t, f, scimtest.Options{TLS: true, Token: "from-a-file"})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(tokenFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, srv.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	src := newTestSource(t, srv, func(c *Config) { c.Token = ""; c.TokenFile = tokenFile; c.CAFile = caFile })
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sourcetest.Compare(t, f, snap)

	untrusted := newTestSource(t, srv, func(c *Config) { c.Token = "from-a-file" })
	if _, err := untrusted.Snapshot(context.Background()); err == nil {
		t.Error("Snapshot trusted a self-signed certificate without ca_file")
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	cfg := DefaultConfig()
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "url: is required") {
		t.Errorf("New with no url: err = %v", err)
	}
	cfg.URL, cfg.TokenFile = "https://idp.example.com/scim/v2", filepath.Join(t.TempDir(), "missing")
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Errorf("New with a missing token file: err = %v", err)
	}
	cfg.TokenFile, cfg.Token, cfg.CAFile = "", "t", filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(cfg.CAFile, []byte("not a certificate"), 0o600)
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("New with a bad CA file: err = %v", err)
	}
}
