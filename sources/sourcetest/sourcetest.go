// Package sourcetest holds the conformance suite every directory source runs:
// a read that spans several pages returns everything, a read that fails
// part-way returns an error and no snapshot, and a canceled context stops the
// read. Each source package supplies a Harness that seeds its own test
// server (slapd, a JumpCloud or SCIM test server, a file) with a Fixture.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// Person is one user of a Fixture. Key is the fixture's own name for the
// person; sources assign their own external ids, so the suite compares by
// email.
type Person struct {
	Key      string
	Email    string
	Name     string
	Disabled bool
}

// Team is one group of a Fixture, with members named by Person.Key.
type Team struct {
	Key     string
	Name    string
	Members []string
}

// Fixture is a directory's content, described without external ids.
type Fixture struct {
	People []Person
	Teams  []Team
}

// Harness builds sources of one kind over test servers it controls.
type Harness struct {
	// New returns a source over a directory holding exactly f, served in
	// pages small enough (at most 100 users a page) that a full read takes
	// several pages.
	New func(t *testing.T, f Fixture) sync.Source
	// Broken returns a source over a directory holding f whose read fails
	// after at least one page has been served: a failed page, a dropped
	// connection, a size limit.
	Broken func(t *testing.T, f Fixture) sync.Source
	// Stalled returns a source over a directory that answers nothing after
	// the first request arrives until the request's context ends, and a
	// channel closed once that request has arrived.
	Stalled func(t *testing.T, f Fixture) (sync.Source, <-chan struct{})
}

// DefaultFixture returns the suite's standard directory: 250 people (every
// tenth one disabled, names with accents) in 5 teams, one of them empty.
func DefaultFixture() Fixture {
	var f Fixture
	for i := range 250 {
		f.People = append(f.People, Person{
			Key:      fmt.Sprintf("u%03d", i),
			Email:    fmt.Sprintf("user%03d@example.com", i),
			Name:     fmt.Sprintf("Usér %03d", i),
			Disabled: i%10 == 9,
		})
	}
	for g := range 4 {
		team := Team{Key: fmt.Sprintf("g%d", g), Name: fmt.Sprintf("Team %d", g)}
		for i := g; i < 250; i += 4 + g {
			team.Members = append(team.Members, fmt.Sprintf("u%03d", i))
		}
		f.Teams = append(f.Teams, team)
	}
	f.Teams = append(f.Teams, Team{Key: "g-empty", Name: "Empty Team"})
	return f
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	t.Run("ReadsEveryPage", func(t *testing.T) {
		f := DefaultFixture()
		src := h.New(t, f)
		snap, err := src.Snapshot(context.Background())
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		Compare(t, f, snap)
	})
	t.Run("FailsInsteadOfPartial", func(t *testing.T) {
		f := DefaultFixture()
		src := h.Broken(t, f)
		snap, err := src.Snapshot(context.Background())
		if err == nil {
			t.Fatalf("Snapshot succeeded with %d users and %d groups; want an error", len(snap.Users), len(snap.Groups))
		}
		if len(snap.Users) != 0 || len(snap.Groups) != 0 {
			t.Errorf("Snapshot returned %d users and %d groups with its error; want none", len(snap.Users), len(snap.Groups))
		}
	})
	t.Run("StopsOnCancel", func(t *testing.T) {
		f := DefaultFixture()
		src, started := h.Stalled(t, f)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			snap, err := src.Snapshot(ctx)
			if err == nil {
				err = fmt.Errorf("Snapshot succeeded with %d users", len(snap.Users))
			}
			done <- err
		}()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("Snapshot returned before the server saw a request: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the server never saw a request")
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Snapshot error = %v; want one wrapping context.Canceled", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Snapshot did not return after its context was canceled")
		}
	})
}

// Compare fails t unless snap holds exactly the people and teams of f,
// matching users by email (lower-cased) and groups by name. Every user and
// group must have a non-empty external id, and members must name users of
// the snapshot.
func Compare(t *testing.T, f Fixture, snap sync.Snapshot) {
	t.Helper()
	byID := make(map[string]sync.User, len(snap.Users))
	got := make(map[string]sync.User, len(snap.Users))
	for _, u := range snap.Users {
		if u.ExternalID == "" {
			t.Errorf("user %s has no external id", u.Email)
		}
		if _, dup := byID[u.ExternalID]; dup {
			t.Errorf("external id %q appears twice", u.ExternalID)
		}
		byID[u.ExternalID] = u
		got[strings.ToLower(strings.TrimSpace(u.Email))] = u
	}
	if len(snap.Users) != len(f.People) {
		t.Errorf("got %d users, want %d", len(snap.Users), len(f.People))
	}
	emailOf := make(map[string]string, len(f.People))
	for _, p := range f.People {
		emailOf[p.Key] = strings.ToLower(p.Email)
		u, ok := got[strings.ToLower(p.Email)]
		if !ok {
			t.Errorf("user %s is missing", p.Email)
			continue
		}
		if u.Name != p.Name {
			t.Errorf("user %s: name = %q, want %q", p.Email, u.Name, p.Name)
		}
		if u.Disabled != p.Disabled {
			t.Errorf("user %s: disabled = %v, want %v", p.Email, u.Disabled, p.Disabled)
		}
	}
	groups := make(map[string]sync.Group, len(snap.Groups))
	for _, g := range snap.Groups {
		if g.ExternalID == "" {
			t.Errorf("group %s has no external id", g.Name)
		}
		groups[g.Name] = g
	}
	if len(snap.Groups) != len(f.Teams) {
		t.Errorf("got %d groups, want %d", len(snap.Groups), len(f.Teams))
	}
	for _, team := range f.Teams {
		g, ok := groups[team.Name]
		if !ok {
			t.Errorf("group %s is missing", team.Name)
			continue
		}
		var want, have []string
		for _, k := range team.Members {
			want = append(want, emailOf[k])
		}
		for _, id := range g.Members {
			u, ok := byID[id]
			if !ok {
				t.Errorf("group %s: member %q is not a user of the snapshot", team.Name, id)
				continue
			}
			have = append(have, strings.ToLower(u.Email))
		}
		sort.Strings(want)
		sort.Strings(have)
		if strings.Join(want, ",") != strings.Join(have, ",") {
			t.Errorf("group %s: members = %v, want %v", team.Name, have, want)
		}
	}
}
