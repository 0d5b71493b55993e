package scim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sources/scim/scimtest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
)

// These tests read through a SCIM server we did not write: SCIMMY and
// scimmy-routers on express 4 (testdata/scimmy), installed with
//
//	npm ci --prefix sources/scim/testdata/scimmy --no-audit --no-fund

const scimmyToken = "scimmy-token"

// skipOrFail skips a test that lacks a tool, except in CI, where a skip
// would turn a missing dependency green.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// startScimmy runs testdata/scimmy/server.mjs over users and groups and
// returns its SCIM base URL. The server stops with the test.
func startScimmy(t *testing.T, users, groups []scimtest.Resource) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join("testdata", "scimmy", "node_modules", "scimmy-routers")); err != nil {
		skipOrFail(t, "scimmy is not installed; run: npm ci --prefix sources/scim/testdata/scimmy --no-audit --no-fund")
	}
	if users == nil {
		users = []scimtest.Resource{}
	}
	if groups == nil {
		groups = []scimtest.Resource{}
	}
	fixture := filepath.Join(t.TempDir(), "directory.json")
	data, err := json.Marshal(map[string]any{"users": users, "groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixture, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = filepath.Join("testdata", "scimmy")
	cmd.Env = append(os.Environ(), "FIXTURE="+fixture, "TOKEN="+scimmyToken, "PORT=0")
	cmd.Stderr = t.Output()
	stdin, err := cmd.StdinPipe() // the server exits when this closes
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node server.mjs: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				ready <- url
			}
		}
		close(ready)
	}()
	select {
	case url, ok := <-ready:
		if !ok {
			t.Fatal("server.mjs exited before listening")
		}
		return url
	case <-time.After(60 * time.Second):
		t.Fatal("server.mjs did not start listening within 60s")
	}
	return ""
}

// scimmySource returns a source over a SCIMMY server at url.
func scimmySource(t *testing.T, url string, edit func(*Config)) *Source {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL, cfg.Token = url, scimmyToken
	if edit != nil {
		edit(&cfg)
	}
	src, err := newSource(cfg, testLogger(t), fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestScimmy_Snapshot(t *testing.T) {
	f := sourcetest.DefaultFixture()
	users, groups := scimtest.FromFixture(f)
	url := startScimmy(t, users, groups)
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"PageSize50", func(c *Config) { c.PageSize = 50 }},
		{"PageSize33", func(c *Config) { c.PageSize = 33 }},
		{"PerGroup", func(c *Config) { c.PageSize = 100; c.GroupMembers = MembersPerGroup }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := scimmySource(t, url, tc.edit).Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			sourcetest.Compare(t, f, snap)
			disabled := 0
			for _, u := range snap.Users {
				if u.Disabled {
					disabled++
				}
			}
			if disabled != 25 {
				t.Errorf("%d disabled users, want 25", disabled)
			}
		})
	}
}

// TestScimmy_Quirks: SCIMMY's own defaults (count 20, itemsPerPage echoing
// count, the first page again past the end) and filters, through a source
// that sends nothing special.
func TestScimmy_Quirks(t *testing.T) {
	f := smallFixture(45)
	users, groups := scimtest.FromFixture(f)
	users[3]["active"] = false
	users[4] = scimtest.Resource{
		"id": "u-p04", "userName": "p04@example.com", "active": false,
		"name":   map[string]any{"givenName": "Person", "familyName": "04"},
		"emails": []any{map[string]any{"value": "home@example.net", "type": "home"}, map[string]any{"value": "p04@example.com", "type": "work"}},
	}
	groups = append(groups, scimtest.Resource{
		"id": "g-all", "displayName": "All", "members": []any{
			map[string]any{"value": "g-odd", "type": "Group"}, map[string]any{"value": "g-even", "type": "Group"},
		},
	})
	url := startScimmy(t, users, groups)

	snap, err := scimmySource(t, url, func(c *Config) { c.PageSize = 7 }).Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	f.Teams = append(f.Teams, sourcetest.Team{Key: "all", Name: "All"})
	for _, p := range f.People {
		f.Teams[len(f.Teams)-1].Members = append(f.Teams[len(f.Teams)-1].Members, p.Key)
	}
	f.People[3].Disabled = true
	sourcetest.Compare(t, f, snap)

	active, err := scimmySource(t, url, func(c *Config) {
		c.FilterUsers = "active eq true"
		c.FilterGroups = `displayName eq "Odd"`
	}).Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot with filters: %v", err)
	}
	if len(active.Users) != 35 || len(active.Groups) != 1 || active.Groups[0].Name != "Odd" {
		t.Errorf("with filters: %d users and groups %v, want 35 users and group Odd", len(active.Users), active.Groups)
	}
}

func TestScimmy_Errors(t *testing.T) {
	users, groups := scimtest.FromFixture(smallFixture(3))
	url := startScimmy(t, users, groups)

	got, err := scimmySource(t, url, nil).Check(context.Background())
	if err != nil || !strings.Contains(got, "users: 3 in total") || !strings.Contains(got, "groups: 3 in total") {
		t.Errorf("Check = %q, %v", got, err)
	}

	_, err = scimmySource(t, url, func(c *Config) { c.Token = "wrong" }).Snapshot(context.Background())
	var resp *ResponseError
	if !errors.As(err, &resp) || resp.StatusCode != 401 || resp.Detail != "invalid bearer token" {
		t.Errorf("Snapshot with a wrong token: error = %v", err)
	}

	_, err = scimmySource(t, url, func(c *Config) { c.FilterUsers = `userName zz "x"` }).Check(context.Background())
	if !errors.As(err, &resp) || resp.StatusCode != 400 || resp.SCIMType != "invalidFilter" || resp.Detail == "" {
		t.Errorf("Check with a bad filter: error = %v", err)
	}
}
