package sync_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dirbridge/dirbridge/sink/sinktest"
	"github.com/dirbridge/dirbridge/sync"
)

// importOnly is an organization reached only through an import endpoint:
// it cannot be read, and every operation arrives through ApplyBulk.
type importOnly struct {
	org     *sinktest.Org
	batches int
}

func (o *importOnly) State(context.Context) (sync.OrgState, error) {
	return sync.OrgState{}, fmt.Errorf("this organization cannot be read")
}

func (o *importOnly) Apply(context.Context, sync.Op) error {
	return fmt.Errorf("this organization takes only imports")
}

func (o *importOnly) Stateless() bool { return true }

func (o *importOnly) ApplyBulk(ctx context.Context, ops []sync.Op) []sync.OpError {
	o.batches++
	var failed []sync.OpError
	for _, op := range ops {
		// The import names members by external id; the ledger's ids mean nothing here.
		op.MemberID, op.GroupID = "", ""
		if err := o.org.Apply(ctx, op); err != nil {
			failed = append(failed, sync.OpError{Op: op, Err: err})
		}
	}
	return failed
}

func TestSyncer_StatelessSinkPlansFromTheLedger(t *testing.T) {
	sink := &importOnly{org: sinktest.New(sync.OrgState{})}
	snap := directory(3)
	snap.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u0", "u1"}}}
	src := &staticSource{snap: snap}
	s := &sync.Syncer{Source: src, Sink: sink, Options: sync.Options{OnMissing: sync.MissingRemove}}
	r := &runs{s: s, ledger: sync.NewLedger(), now: t0}

	step := func(name, want string) {
		t.Helper()
		res, err := r.run(t, sync.RunOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := fmt.Sprint(actions(res.Plan.Ops)); got != want {
			t.Errorf("%s: planned %s, want %s", name, got, want)
		}
		for _, op := range res.Plan.Ops {
			if !op.Bulk {
				t.Errorf("%s: %s does not take the import path", name, op.Action)
			}
		}
	}
	step("first run", "[invite u0@example.com invite u1@example.com invite u2@example.com create_group Eng set_group_members Eng]")
	step("second run", "[]")
	src.snap.Users[1].Disabled = true
	step("disabled", "[revoke u1@example.com]")
	step("still disabled: the import cannot remove", "[]")
	src.snap.Users[1].Disabled = false
	step("back", "[restore u1@example.com]")
	src.snap.Groups = nil
	res, _ := r.run(t, sync.RunOptions{})
	if len(res.Plan.Ops) != 0 || len(res.Plan.Notes) != 1 || res.Plan.Notes[0].Kind != "group_not_deleted" {
		t.Errorf("a group gone from the directory: ops %v, notes %v", actions(res.Plan.Ops), res.Plan.Notes)
	}
	if sink.batches != 3 {
		t.Errorf("%d import batches, want one per run with changes (3)", sink.batches)
	}
}
