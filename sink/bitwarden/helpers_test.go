package bitwarden

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	stdsync "sync"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

// Fixed ids of the test organization (seedOrg).
const (
	ownerID   = "a0000000-0000-4000-8000-000000000001"
	aliceID   = "a0000000-0000-4000-8000-000000000011" // confirmed user, externalId u1, in Engineering
	bobID     = "a0000000-0000-4000-8000-000000000012" // invited user, externalId u2
	ritaID    = "a0000000-0000-4000-8000-000000000013" // revoked, externalId u3
	handID    = "a0000000-0000-4000-8000-000000000014" // confirmed custom, no externalId, with collections
	coll1     = "c0000000-0000-4000-8000-000000000001"
	coll2     = "c0000000-0000-4000-8000-000000000002"
	coll3     = "c0000000-0000-4000-8000-000000000003"
	engID     = "b0000000-0000-4000-8000-000000000001" // externalId g1: alice
	opsID     = "b0000000-0000-4000-8000-000000000002" // externalId g2: empty, reads coll1
	handGroup = "b0000000-0000-4000-8000-000000000003" // no externalId: hand
)

func ptr[T any](v T) *T { return &v }

// handPermissions is the custom member's permissions.
var handPermissions = &bwemu.Permissions{ManageGroups: true, AccessReports: true, ManageUsers: true}

// handCollections are the custom member's collection grants, every flag used.
var handCollections = []bwemu.CollectionAccess{
	{ID: coll1, ReadOnly: true},
	{ID: coll2, HidePasswords: true},
	{ID: coll3, Manage: true},
}

// seedOrg is the organization most tests start from.
func seedOrg() bwemu.Org {
	return bwemu.Org{
		Collections: []bwemu.Collection{{ID: coll1}, {ID: coll2}, {ID: coll3}},
		Members: []bwemu.Member{
			{ID: ownerID, Email: "owner@example.com", Name: "Owner", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner},
			{ID: aliceID, Email: "alice@example.com", Name: "Alice", Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser, ExternalID: "u1"},
			{ID: bobID, Email: "bob@example.com", Status: bwemu.StatusInvited, Type: bwemu.TypeUser, ExternalID: "u2"},
			{ID: ritaID, Email: "rita@example.com", Name: "Rita", Status: bwemu.StatusRevoked, Type: bwemu.TypeUser,
				ExternalID: "u3", PreviousStatus: ptr(bwemu.StatusConfirmed)},
			{ID: handID, Email: "hand@example.com", Name: "Hand", Status: bwemu.StatusConfirmed, Type: bwemu.TypeCustom,
				Collections: handCollections, Permissions: handPermissions},
		},
		Groups: []bwemu.Group{
			{ID: engID, Name: "Engineering", ExternalID: "g1", MemberIDs: []string{aliceID}},
			{ID: opsID, Name: "Ops", ExternalID: "g2", Collections: []bwemu.CollectionAccess{{ID: coll1, ReadOnly: true}}},
			{ID: handGroup, Name: "Hand Made", MemberIDs: []string{handID}},
		},
	}
}

// env is one emulated organization and a sink pointed at it.
type env struct {
	t    *testing.T
	emu  *bwemu.Server
	base string
	sink *Sink
	logs *syncBuffer
}

// newEnv starts an emulator with opt, seeds it with seedOrg, and returns a
// sink on it with fast retries. modify, if given, changes the sink's
// configuration. wrap, if given, wraps the emulator's handler.
func newEnv(t *testing.T, opt bwemu.Options, modify func(c *Config)) *env {
	t.Helper()
	return newEnvWrapped(t, opt, modify, nil)
}

func newEnvWrapped(t *testing.T, opt bwemu.Options, modify func(c *Config), wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	emu := bwemu.New(opt)
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	if err := emu.Seed(seedOrg()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &env{t: t, emu: emu, base: ts.URL, logs: &syncBuffer{}}
	cfg := DefaultConfig()
	cfg.Server = ts.URL
	cfg.OrganizationID = emu.OrgID()
	cfg.ClientID = emu.ClientID()
	cfg.ClientSecret = emu.ClientSecret()
	cfg.Timeout = 10 * time.Second
	if modify != nil {
		modify(&cfg)
	}
	e.sink = newFastSink(t, cfg, e.logs)
	return e
}

// newFastSink returns a sink whose retries wait milliseconds, not seconds
// (a Retry-After is still honoured), logging into logs.
func newFastSink(t *testing.T, cfg Config, logs *syncBuffer) *Sink {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.http.RetryWaitMin = time.Millisecond
	s.http.RetryWaitMax = 10 * time.Millisecond
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sink log:\n%s", logs.String())
		}
	})
	return s
}

// state reads the organization through the sink, failing the test on error.
func (e *env) state() sync.OrgState {
	e.t.Helper()
	st, err := e.sink.State(context.Background())
	if err != nil {
		e.t.Fatalf("State: %v", err)
	}
	return st
}

// apply applies op, failing the test on error.
func (e *env) apply(op sync.Op) {
	e.t.Helper()
	if err := e.sink.Apply(context.Background(), op); err != nil {
		e.t.Fatalf("Apply(%s %s): %v", op.Action, op.Subject(), err)
	}
}

// member returns the emulated member with the id.
func (e *env) member(id string) bwemu.Member {
	e.t.Helper()
	for _, m := range e.emu.Dump().Members {
		if m.ID == id {
			return m
		}
	}
	e.t.Fatalf("no member %s", id)
	return bwemu.Member{}
}

// memberByEmail returns the emulated member with the email.
func (e *env) memberByEmail(email string) (bwemu.Member, bool) {
	for _, m := range e.emu.Dump().Members {
		if m.Email == email {
			return m, true
		}
	}
	return bwemu.Member{}, false
}

// groupsByExternalID returns the emulated groups with the external id.
func (e *env) groupsByExternalID(ext string) []bwemu.Group {
	var out []bwemu.Group
	for _, g := range e.emu.Dump().Groups {
		if g.ExternalID == ext {
			out = append(out, g)
		}
	}
	return out
}

// routes returns "METHOD route status" for every logged request, in order.
func (e *env) routes() []string {
	var out []string
	for _, r := range e.emu.Requests() {
		out = append(out, r.Route+" "+itoa(r.Status))
	}
	return out
}

// count returns how many logged requests matched the route with the status
// (any status when status is 0).
func (e *env) count(route string, status int) int {
	n := 0
	for _, r := range e.emu.Requests() {
		if r.Route == route && (status == 0 || r.Status == status) {
			n++
		}
	}
	return n
}

func itoa(i int) string { return slog.IntValue(i).String() }

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
