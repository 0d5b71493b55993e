package bitwarden

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

func TestState_ReadsMembersGroupsAndMemberIDs(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	got := e.state()
	want := sync.OrgState{
		Members: []sync.Member{
			{ID: ownerID, Email: "owner@example.com", Name: "Owner", Status: sync.StatusConfirmed, Type: sync.TypeOwner},
			{ID: aliceID, Email: "alice@example.com", Name: "Alice", ExternalID: "u1", Status: sync.StatusConfirmed, Type: sync.TypeUser},
			{ID: bobID, Email: "bob@example.com", ExternalID: "u2", Status: sync.StatusInvited, Type: sync.TypeUser},
			{ID: ritaID, Email: "rita@example.com", Name: "Rita", ExternalID: "u3", Status: sync.StatusRevoked, Type: sync.TypeUser},
			{ID: handID, Email: "hand@example.com", Name: "Hand", Status: sync.StatusConfirmed, Type: sync.TypeCustom},
		},
		Groups: []sync.OrgGroup{
			{ID: engID, Name: "Engineering", ExternalID: "g1", MemberIDs: []string{aliceID}},
			{ID: opsID, Name: "Ops", ExternalID: "g2", MemberIDs: []string{}},
			{ID: handGroup, Name: "Hand Made"}, // no external id: members not read
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("State() mismatch (-want +got):\n%s", diff)
	}
	if n := e.count("GET /api/public/groups/{id}/member-ids", 200); n != 2 {
		t.Errorf("member-ids reads = %d, want 2 (only groups with an external id)", n)
	}
}

func TestState_LegacyServerContinuationToken(t *testing.T) {
	e := newEnv(t, bwemu.Options{Legacy: true}, nil)
	st := e.state()
	if len(st.Members) != 5 || len(st.Groups) != 3 {
		t.Errorf("State() = %d members, %d groups; want 5, 3", len(st.Members), len(st.Groups))
	}
}

func TestState_BoundsConcurrency(t *testing.T) {
	const bound = 3
	var inFlight, peak atomic.Int32
	count := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/member-ids") {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnvWrapped(t, bwemu.Options{}, func(c *Config) { c.Concurrency = bound }, count)
	org := seedOrg()
	for i := range 12 {
		org.Groups = append(org.Groups, bwemu.Group{
			ID:   fmt.Sprintf("e0000000-0000-4000-8000-%012d", i),
			Name: fmt.Sprintf("Team %d", i), ExternalID: fmt.Sprintf("team%d", i), MemberIDs: []string{aliceID},
		})
	}
	if err := e.emu.Seed(org); err != nil {
		t.Fatal(err)
	}
	e.emu.AddFault(bwemu.Fault{Method: "GET", Path: "/api/public/groups/", Latency: 20 * time.Millisecond})
	st := e.state()
	for _, g := range st.Groups[3:] {
		if diff := cmp.Diff([]string{aliceID}, g.MemberIDs); diff != "" {
			t.Errorf("group %s members (-want +got):\n%s", g.Name, diff)
		}
	}
	if p := peak.Load(); p > bound {
		t.Errorf("peak concurrent member-ids reads = %d, want at most %d", p, bound)
	} else {
		t.Logf("peak concurrent member-ids reads: %d (bound %d)", p, bound)
	}
}

func TestState_FirstErrorFailsTheRead(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.emu.AddFault(bwemu.Fault{Method: "GET", Path: "/api/public/groups/" + opsID + "/member-ids", Status: 403})
	_, err := e.sink.State(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 {
		t.Fatalf("State() error = %v, want a 403 APIError", err)
	}
	if !strings.Contains(err.Error(), `group "Ops"`) {
		t.Errorf("error %q does not name the group", err)
	}
}

func TestState_CanceledContext(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.sink.State(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("State() error = %v, want context.Canceled", err)
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent with a canceled context, want 0", n)
	}
}

func TestState_VaultwardenHasNoMembersEndpoint(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, nil)
	_, err := e.sink.State(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Vaultwarden implements only the import endpoint") {
		t.Fatalf("State() error = %v, want the Vaultwarden hint", err)
	}
	if n := e.count("POST /identity/connect/token", 200); n != 1 {
		t.Errorf("Vaultwarden logins = %d, want 1 (the device fields and scope are sent)", n)
	}
}

func TestCheck_Summarizes(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	got, err := e.sink.Check(context.Background())
	if err != nil {
		t.Fatalf("Check() error = %v", err)
	}
	want := fmt.Sprintf("logged in to %s/api as organization %s: 5 members, 3 groups", e.base, e.emu.OrgID())
	if got != want {
		t.Errorf("Check() = %q, want %q", got, want)
	}
}
