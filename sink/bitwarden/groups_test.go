package bitwarden

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

func TestApply_CreateGroupIsIdempotent(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	op := sync.Op{Action: sync.ActionCreateGroup, Name: "Sales", ExternalID: "g9"}
	e.apply(op)
	e.apply(op) // known by external id: nothing sent
	groups := e.groupsByExternalID("g9")
	if len(groups) != 1 || groups[0].Name != "Sales" {
		t.Fatalf("groups with external id g9 = %+v, want one named Sales", groups)
	}
	if got := e.count("POST /api/public/groups", 0); got != 1 {
		t.Errorf("group creates = %d, want 1", got)
	}
	if got := e.sink.idx.groupByExt["g9"]; got != groups[0].ID {
		t.Errorf("index: g9 -> %q, want %q", got, groups[0].ID)
	}
}

func TestApply_CreateGroupWhoseAnswerWasLost(t *testing.T) {
	// The POST creates the group but the client sees a 500. Before retrying
	// the sink looks for the group, finds it, and does not create a second.
	e := newEnvWrapped(t, bwemu.Options{}, nil, loseFirstAnswer(http.MethodPost, "/api/public/groups"))
	e.state()
	e.apply(sync.Op{Action: sync.ActionCreateGroup, Name: "Sales", ExternalID: "g9"})
	groups := e.groupsByExternalID("g9")
	if len(groups) != 1 {
		t.Fatalf("groups with external id g9 = %+v, want exactly one", groups)
	}
	if got := e.count("POST /api/public/groups", 0); got != 1 {
		t.Errorf("group creates = %d, want 1", got)
	}
	if got := e.sink.idx.groupByExt["g9"]; got != groups[0].ID {
		t.Errorf("index: g9 -> %q, want %q", got, groups[0].ID)
	}
}

func TestApply_CreateGroupRetriesWhenNotCreated(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/groups", Status: 503, Count: 1})
	e.apply(sync.Op{Action: sync.ActionCreateGroup, Name: "Sales", ExternalID: "g9"})
	if groups := e.groupsByExternalID("g9"); len(groups) != 1 {
		t.Fatalf("groups with external id g9 = %+v, want exactly one", groups)
	}
	if got := e.count("POST /api/public/groups", 0); got != 2 {
		t.Errorf("group creates = %d, want 2 (a 503, then the create)", got)
	}
}

func TestApply_UpdateGroupKeepsCollectionsAndExternalID(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.apply(sync.Op{Action: sync.ActionUpdateGroup, GroupID: opsID, ExternalID: "g2", Name: "Operations", OldName: "Ops"})
	e.apply(sync.Op{Action: sync.ActionUpdateGroup, ExternalID: "g2", Name: "Operations", OldName: "Ops"}) // by external id
	g := e.groupsByExternalID("g2")
	if len(g) != 1 || g[0].Name != "Operations" {
		t.Fatalf("group g2 = %+v, want renamed Operations", g)
	}
	if diff := cmp.Diff([]bwemu.CollectionAccess{{ID: coll1, ReadOnly: true}}, g[0].Collections); diff != "" {
		t.Errorf("collections (-want +got):\n%s", diff)
	}
}

func TestApply_UpdateGroupWithoutExternalIDKeepsIt(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.apply(sync.Op{Action: sync.ActionUpdateGroup, GroupID: engID, Name: "Eng"})
	if g := e.groupsByExternalID("g1"); len(g) != 1 || g[0].Name != "Eng" {
		t.Errorf("group g1 = %+v, want renamed Eng with its external id", g)
	}
}

func TestApply_SetGroupMembersForGroupAndMembersOfTheSameRun(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.apply(inviteOp("new@example.com", "u9"))
	e.apply(sync.Op{Action: sync.ActionLink, MemberID: handID, Email: "hand@example.com", ExternalID: "u7"})
	e.apply(sync.Op{Action: sync.ActionCreateGroup, Name: "Sales", ExternalID: "g9"})
	op := sync.Op{Action: sync.ActionSetGroupMembers, Name: "Sales", ExternalID: "g9",
		Members: []string{"u1", "U9", "u7", "ghost", "u1"}}
	e.apply(op)
	e.apply(op) // idempotent
	newID := e.sink.idx.memberByExt["u9"]
	g := e.groupsByExternalID("g9")
	if len(g) != 1 {
		t.Fatalf("groups g9 = %+v", g)
	}
	if diff := cmp.Diff(sorted([]string{aliceID, handID, newID}), g[0].MemberIDs); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if !strings.Contains(e.logs.String(), "external_id=ghost") {
		t.Error("the unresolved member ghost was not logged")
	}
}

func TestApply_SetGroupMembersEmpties(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.apply(sync.Op{Action: sync.ActionSetGroupMembers, GroupID: engID, Name: "Engineering", ExternalID: "g1"})
	if m := e.groupsByExternalID("g1")[0].MemberIDs; len(m) != 0 {
		t.Errorf("members = %v, want none", m)
	}
}

func TestApply_SetGroupMembersUnknownGroup(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	err := e.sink.Apply(context.Background(), sync.Op{Action: sync.ActionSetGroupMembers, Name: "Nope", ExternalID: "g404"})
	if err == nil || !strings.Contains(err.Error(), `set_group_members Nope: bitwarden: no such group with external id "g404"`) {
		t.Errorf("Apply() error = %v", err)
	}
}

func TestApply_DeleteGroupIsIdempotent(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	op := sync.Op{Action: sync.ActionDeleteGroup, GroupID: engID, Name: "Engineering", ExternalID: "g1"}
	e.apply(op)
	if g := e.groupsByExternalID("g1"); len(g) != 0 {
		t.Fatalf("group g1 still there: %+v", g)
	}
	e.apply(op)                                                                             // 404: done
	e.apply(sync.Op{Action: sync.ActionDeleteGroup, Name: "Engineering", ExternalID: "g1"}) // not in the index: done
	if got := e.count("DELETE /api/public/groups/{id}", 404); got != 1 {
		t.Errorf("deletes answered 404 = %d, want 1", got)
	}
}
