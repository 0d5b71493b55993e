package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dirbridge/dirbridge/sink/sinktest"
	"github.com/dirbridge/dirbridge/sync"
)

func TestFingerprints_IgnoreOrder(t *testing.T) {
	a := sync.Snapshot{Users: []sync.User{user("u1", "a@x.io"), user("u2", "b@x.io")},
		Groups: []sync.Group{{ExternalID: "g", Name: "G", Members: []string{"u1", "u2"}}}}
	b := sync.Snapshot{Users: []sync.User{user("u2", "b@x.io"), user("u1", "a@x.io")},
		Groups: []sync.Group{{ExternalID: "g", Name: "G", Members: []string{"u2", "u1"}}}}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("the same snapshot in another order has another fingerprint")
	}
	b.Users[0].Disabled = true
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("a disabled user does not change the fingerprint")
	}
	s1 := managedOrg(3)
	s2 := managedOrg(3)
	s2.Members[1].Status = sync.StatusRevoked
	if s1.Fingerprint() == s2.Fingerprint() {
		t.Error("a revoked member does not change the state's fingerprint")
	}
}

// savePlan makes a dry run and saves its plan as a file would.
func savePlan(t *testing.T, s *sync.Syncer) []byte {
	t.Helper()
	res, err := s.Run(context.Background(), sync.RunOptions{DryRun: true, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(sync.NewSavedPlan(res, "org", "scope", t0)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSavedPlan_AppliesExactlyThenRefusesWhenStale(t *testing.T) {
	org := sinktest.New(managedOrg(30))
	src := &staticSource{snap: directory(15)} // a mass revocation, reviewed
	s := newSyncer(src, org)
	data := savePlan(t, s)
	sp, ops, err := sync.ReadSavedPlan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 15 {
		t.Fatalf("saved plan holds %d operations, want 15", len(ops))
	}
	approval := &sync.Approval{Source: sp.Source, State: sp.State, Ops: ops}
	res, err := s.Run(context.Background(), sync.RunOptions{Approved: approval})
	if err != nil || res.Applied[sync.ActionRevoke] != 15 {
		t.Fatalf("applying the approved plan: %v, applied %v", err, res.Applied)
	}
	// The organization has changed since: the same plan is now stale.
	res, err = s.Run(context.Background(), sync.RunOptions{Approved: approval})
	var r *sync.Refusal
	if !errors.As(err, &r) || r.Guard != sync.GuardStalePlan || res.AppliedTotal() != 0 {
		t.Fatalf("stale plan: err %v, applied %v", err, res.Applied)
	}
	if !strings.Contains(r.Reason, "the organization changed") {
		t.Errorf("reason = %q", r.Reason)
	}
	// So is a plan whose directory changed.
	org2 := sinktest.New(managedOrg(3))
	s2 := newSyncer(src, org2)
	sp2, ops2, _ := sync.ReadSavedPlan(bytes.NewReader(savePlan(t, s2)))
	src.snap = directory(14)
	_, err = s2.Run(context.Background(), sync.RunOptions{Approved: &sync.Approval{Source: sp2.Source, State: sp2.State, Ops: ops2}})
	if !errors.As(err, &r) || !strings.Contains(r.Reason, "the directory changed") {
		t.Fatalf("directory changed: %v", err)
	}
}

func TestReadSavedPlan_RoundTrip(t *testing.T) {
	plan := samplePlan()
	res := &sync.Result{Plan: plan}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(sync.NewSavedPlan(res, "org", "scope", t0))
	_, ops, err := sync.ReadSavedPlan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan.Ops, ops, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestReadSavedPlan_BadInput(t *testing.T) {
	valid := `{"version":1,"organization":"o","source_fingerprint":"a","state_fingerprint":"b","plan":{"operations":[%s]}}`
	tests := []struct{ name, in, want string }{
		{"NotJSON", "hello", "invalid character"},
		{"UnknownField", `{"version":1,"evil":true}`, `unknown field "evil"`},
		{"WrongVersion", `{"version":2,"organization":"o","source_fingerprint":"a","state_fingerprint":"b"}`, "version 2"},
		{"NoFingerprints", `{"version":1,"organization":"o"}`, "fingerprints"},
		{"UnknownAction", strings.Replace(valid, "%s", `{"action":"nuke","external_id":"x"}`, 1), `unknown action "nuke"`},
		{"MissingMemberID", strings.Replace(valid, "%s", `{"action":"revoke","email":"a@x.io","external_id":"u1"}`, 1), "operations[0]: revoke a@x.io: member_id missing"},
		{"TrailingData", strings.Replace(valid, "%s", "", 1) + "{}", "data after the plan"},
		{"WrongType", `{"version":"1"}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := sync.ReadSavedPlan(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzReadSavedPlan(f *testing.F) {
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(sync.NewSavedPlan(&sync.Result{Plan: samplePlan()}, "org", "scope", t0))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"organization":"o","source_fingerprint":"a","state_fingerprint":"b","plan":{"operations":[{"action":"invite"}]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, ops, err := sync.ReadSavedPlan(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever is accepted is a plan that names what each operation needs.
		if sp.Version != sync.SavedPlanVersion || len(ops) != len(sp.Plan.Operations) {
			t.Fatalf("accepted an inconsistent plan: %+v", sp)
		}
		for _, op := range ops {
			if op.Action.String() == "" || (op.Action.IsGroup() && op.ExternalID == "" && op.GroupID == "") {
				t.Fatalf("accepted an operation without a target: %+v", op)
			}
		}
	})
}
