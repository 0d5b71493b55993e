package sync_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/internal/golden"
)

// samplePlan holds every action and a note.
func samplePlan() sync.Plan {
	want := sync.Snapshot{
		Users: []sync.User{
			{ExternalID: "u1", Email: "alice@example.com", Name: "Alice Liddell"},
			{ExternalID: "u2", Email: "bob@example.com", Name: "Bob"},
			{ExternalID: "u3", Email: "carol@example.com", Name: "Carol", Disabled: true},
			{ExternalID: "u4", Email: "dave@example.com", Name: "Dave"},
			{ExternalID: "u5", Email: "erin@example.com", Name: "Erin"},
		},
		Groups: []sync.Group{
			{ExternalID: "g1", Name: "Engineering", Members: []string{"u1", "u2", "u5"}},
			{ExternalID: "g2", Name: "Platform", Members: []string{"u4"}},
			{ExternalID: "g3", Name: "Design", Members: []string{"u1"}},
		},
	}
	have := sync.OrgState{
		Members: []sync.Member{
			member("m0", "owner@example.com", "", sync.StatusConfirmed, sync.TypeOwner),
			confirmed("m1", "alice@example.com", "u1"),
			confirmed("m3", "carol@example.com", "u3"),
			member("m4", "dave@example.com", "u4", sync.StatusRevoked, sync.TypeUser),
			member("m5", "erin@example.com", "", sync.StatusInvited, sync.TypeUser),
			confirmed("m9", "old.timer@example.com", "u99"),
			member("m8", "boss@example.com", "u98", sync.StatusConfirmed, sync.TypeAdmin),
		},
		Groups: []sync.OrgGroup{
			{ID: "G1", Name: "Engineering", ExternalID: "g1", MemberIDs: []string{"m1", "m0"}},
			{ID: "G2", Name: "Infrastructure", ExternalID: "g2", MemberIDs: []string{"m4"}},
			{ID: "G7", Name: "Retired", ExternalID: "g7"},
			{ID: "G8", Name: "Hand Made"},
		},
	}
	return sync.Diff(want, have, sync.Options{})
}

func TestPlan_WriteText(t *testing.T) {
	for name, plan := range map[string]sync.Plan{
		"plan.golden": samplePlan(),
		"no-changes.golden": sync.Diff(sync.Snapshot{Users: []sync.User{user("u1", "a@example.com")}},
			sync.OrgState{Members: []sync.Member{confirmed("m1", "a@example.com", "u1")}}, sync.Options{}),
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := plan.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name, buf.Bytes())
		})
	}
}

func TestPlan_WriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := samplePlan().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "plan.json.golden", buf.Bytes())

	var decoded struct {
		Summary    map[string]int   `json:"summary"`
		Operations []map[string]any `json:"operations"`
	}
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatalf("plan JSON does not decode: %v", err)
	}
	for _, a := range sync.Actions {
		if _, ok := decoded.Summary[a.String()]; !ok {
			t.Errorf("summary lacks %q", a)
		}
	}
	for _, op := range decoded.Operations {
		if op["action"] == nil || op["external_id"] == nil {
			t.Errorf("operation %v lacks action or external_id", op)
		}
		if op["email"] == nil && op["name"] == nil {
			t.Errorf("operation %v has neither email nor name", op)
		}
	}
}
