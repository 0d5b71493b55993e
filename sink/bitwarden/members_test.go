package bitwarden

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

func inviteOp(email, ext string) sync.Op {
	return sync.Op{Action: sync.ActionInvite, Email: email, ExternalID: ext}
}

func TestApply_InviteIsIdempotent(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	op := inviteOp("new@example.com", "u9")
	e.apply(op)
	m, ok := e.memberByEmail("new@example.com")
	if !ok {
		t.Fatal("invited member not found")
	}
	if m.ExternalID != "u9" || m.Type != bwemu.TypeUser || m.Status != bwemu.StatusInvited || len(m.Collections) != 0 {
		t.Errorf("invited member = %+v, want an invited User with external id u9 and no collections", m)
	}
	e.apply(op) // a re-run: "already invited", same external id: done
	if got := e.count("POST /api/public/members", 400); got != 1 {
		t.Errorf("second invite: %d answers 400, want 1", got)
	}
	if n := len(e.emu.Dump().Members); n != 6 {
		t.Errorf("members = %d, want 6", n)
	}
	if got, want := e.sink.idx.memberByExt["u9"], m.ID; got != want {
		t.Errorf("index: u9 -> %q, want %q", got, want)
	}
}

func TestApply_InviteWithoutStateIndexesNothingStale(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.apply(inviteOp("new@example.com", "u9")) // no State first
	e.apply(sync.Op{Action: sync.ActionSetGroupMembers, GroupID: engID, Name: "Engineering", Members: []string{"u1", "u9"}})
	m, _ := e.memberByEmail("new@example.com")
	got := e.emu.Dump().Groups[0].MemberIDs
	if diff := cmp.Diff(sorted([]string{aliceID, m.ID}), got); diff != "" {
		t.Errorf("Engineering members (-want +got):\n%s", diff)
	}
}

func TestApply_InviteConflicts(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	tests := []struct {
		name, email, want string
	}{
		{"OtherExternalID", "alice@example.com", `alice@example.com is already a member (id ` + aliceID + `) with external id "u1", not "u9"`},
		{"NoExternalID", "HAND@example.com", `HAND@example.com is already a member (id ` + handID + `) without an external id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.sink.Apply(context.Background(), inviteOp(tt.email, "u9"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestApply_InviteWhoseAnswerWasLost(t *testing.T) {
	// The first POST is carried out but its answer becomes a 500: the
	// client retries, meets "already invited", and adopts the member.
	lose := loseFirstAnswer(http.MethodPost, "/api/public/members")
	e := newEnvWrapped(t, bwemu.Options{}, nil, lose)
	e.state()
	e.apply(inviteOp("new@example.com", "u9"))
	if got := e.routes(); !cmp.Equal(got[len(got)-3:], []string{
		"POST /api/public/members 200", // answered 500 to the client
		"POST /api/public/members 400", // already invited
		"GET /api/public/members 200",
	}) {
		t.Errorf("requests = %q", got)
	}
	m, _ := e.memberByEmail("new@example.com")
	if got := e.sink.idx.memberByExt["u9"]; got != m.ID {
		t.Errorf("index: u9 -> %q, want %q", got, m.ID)
	}
}

// loseFirstAnswer lets the emulator carry out the first request with the
// method and path, then replaces its answer with a 500, as a proxy that
// fails after the server committed would.
func loseFirstAnswer(method, path string) func(http.Handler) http.Handler {
	var lost atomic.Bool
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != method || r.URL.Path != path || lost.Swap(true) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			w.WriteHeader(http.StatusInternalServerError)
		})
	}
}

func TestApply_LinkKeepsAccessTypeAndPermissions(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	before := e.member(handID)
	op := sync.Op{Action: sync.ActionLink, MemberID: handID, Email: "hand@example.com", ExternalID: "u7"}
	e.apply(op)
	after := e.member(handID)
	if after.ExternalID != "u7" {
		t.Errorf("external id = %q, want u7", after.ExternalID)
	}
	// Everything but the external id and the revision is unchanged.
	b, a := before, after
	b.ExternalID = "u7"
	b.RevisionDate, a.RevisionDate = time.Time{}, time.Time{}
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("member changed beyond its external id (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(handCollections, after.Collections); diff != "" {
		t.Errorf("collections (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(handPermissions, after.Permissions); diff != "" {
		t.Errorf("permissions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{handGroup}, after.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	puts := e.count("PUT /api/public/members/{id}", 200)
	e.apply(op) // a retry: already linked, no second PUT
	if got := e.count("PUT /api/public/members/{id}", 0); got != puts {
		t.Errorf("PUTs after a retried link = %d, want %d", got, puts)
	}
	if got := e.sink.idx.memberByExt["u7"]; got != handID {
		t.Errorf("index: u7 -> %q, want %q", got, handID)
	}
}

// TestLink_TheTrapIsReal checks that the emulator models what link guards
// against: a PUT without collections takes the member's access away.
func TestLink_TheTrapIsReal(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	ext := "u7"
	naive := memberUpdate{Type: bwemu.TypeCustom, ExternalID: &ext}
	if err := e.sink.do(context.Background(), http.MethodPut, "/public/members/"+handID, naive, nil); err != nil {
		t.Fatalf("PUT: %v", err)
	}
	if c := e.member(handID).Collections; len(c) != 0 {
		t.Errorf("collections after a PUT without them = %+v, want none", c)
	}
}

func TestApply_LinkOwnerKeepsRole(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.apply(sync.Op{Action: sync.ActionLink, MemberID: ownerID, Email: "owner@example.com", ExternalID: "boss"})
	m := e.member(ownerID)
	if m.Type != bwemu.TypeOwner || m.ExternalID != "boss" || m.Permissions != nil {
		t.Errorf("owner after link = %+v, want an owner with external id boss", m)
	}
}

func TestApply_RevokeAndRestoreAreIdempotent(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	revoke := sync.Op{Action: sync.ActionRevoke, MemberID: aliceID, Email: "alice@example.com", ExternalID: "u1"}
	restore := sync.Op{Action: sync.ActionRestore, MemberID: aliceID, Email: "alice@example.com", ExternalID: "u1"}
	e.apply(revoke)
	if s := e.member(aliceID).Status; s != bwemu.StatusRevoked {
		t.Fatalf("status after revoke = %d, want revoked", s)
	}
	e.apply(revoke) // "Already revoked."
	e.apply(restore)
	if s := e.member(aliceID).Status; s != bwemu.StatusConfirmed {
		t.Fatalf("status after restore = %d, want confirmed", s)
	}
	e.apply(restore) // "Already active."
	if got := e.count("POST /api/public/members/{id}/revoke", 400); got != 1 {
		t.Errorf("revokes answered 400 = %d, want 1", got)
	}
	if got := e.count("POST /api/public/members/{id}/restore", 400); got != 1 {
		t.Errorf("restores answered 400 = %d, want 1", got)
	}
}

func TestApply_RevokeOrRemoveGoneMemberIsDone(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	const gone = "f0000000-0000-4000-8000-00000000ffff"
	for _, a := range []sync.Action{sync.ActionRevoke, sync.ActionRemove} {
		e.apply(sync.Op{Action: a, MemberID: gone, Email: "gone@example.com"})
	}
	err := e.sink.Apply(context.Background(), sync.Op{Action: sync.ActionRestore, MemberID: gone, Email: "gone@example.com"})
	if !isNotFound(err) || errors.Is(err, ErrNoRevoke) {
		t.Errorf("restore of a gone member: error = %v, want a 404 that is not ErrNoRevoke", err)
	}
}

func TestApply_RemoveIsIdempotent(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	op := sync.Op{Action: sync.ActionRemove, MemberID: bobID, Email: "bob@example.com", ExternalID: "u2"}
	e.apply(op)
	if _, ok := e.memberByEmail("bob@example.com"); ok {
		t.Fatal("bob is still a member")
	}
	e.apply(op) // 404: already gone
	if _, ok := e.sink.idx.memberByExt["u2"]; ok {
		t.Error("index still holds u2")
	}
}

func TestApply_MemberByExternalIDWhenNoID(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.apply(sync.Op{Action: sync.ActionRevoke, Email: "alice@example.com", ExternalID: "U1"})
	if s := e.member(aliceID).Status; s != bwemu.StatusRevoked {
		t.Errorf("status = %d, want revoked", s)
	}
}

func TestApply_LegacyServer(t *testing.T) {
	revoke := sync.Op{Action: sync.ActionRevoke, MemberID: aliceID, Email: "alice@example.com", ExternalID: "u1"}
	restore := sync.Op{Action: sync.ActionRestore, MemberID: ritaID, Email: "rita@example.com", ExternalID: "u3"}

	t.Run("Fail", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{Legacy: true}, nil)
		err := e.sink.Apply(context.Background(), revoke)
		if !errors.Is(err, ErrNoRevoke) {
			t.Fatalf("revoke error = %v, want ErrNoRevoke", err)
		}
		for _, want := range []string{"2026.2.0", "bitwarden.legacy_revoke: remove", "alice@example.com"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("revoke error %q does not mention %q", err, want)
			}
		}
		if s := e.member(aliceID).Status; s != bwemu.StatusConfirmed {
			t.Errorf("status = %d, want unchanged", s)
		}
		if err := e.sink.Apply(context.Background(), restore); !errors.Is(err, ErrNoRevoke) {
			t.Errorf("restore error = %v, want ErrNoRevoke", err)
		}
		// Known legacy now: no more probing.
		if got := e.count("POST /api/public/members/{id}/restore", 0); got != 0 {
			t.Errorf("restore requests = %d, want 0 once the server is known to lack them", got)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{Legacy: true}, func(c *Config) { c.LegacyRevoke = LegacyRevokeRemove })
		e.apply(revoke)
		if _, ok := e.memberByEmail("alice@example.com"); ok {
			t.Error("alice is still a member; legacy_revoke: remove should remove her")
		}
		if !strings.Contains(e.logs.String(), "removing the member instead of revoking it") {
			t.Error("no warning logged for the removal")
		}
		e.apply(revoke) // a retry: gone is done
		if err := e.sink.Apply(context.Background(), restore); !errors.Is(err, ErrNoRevoke) {
			t.Errorf("restore error = %v, want ErrNoRevoke", err)
		}
	})
}
