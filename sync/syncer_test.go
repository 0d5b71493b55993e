package sync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dirbridge/dirbridge/sink/sinktest"
	"github.com/dirbridge/dirbridge/sync"
)

// staticSource is a directory that returns a fixed snapshot or error.
type staticSource struct {
	snap sync.Snapshot
	err  error
}

func (s staticSource) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return sync.Snapshot{}, err
	}
	return s.snap, s.err
}

type scimProbe struct {
	on  bool
	err error
}

func (p scimProbe) SCIMEnabled(context.Context) (bool, error) { return p.on, p.err }

func newSyncer(src sync.Source, org *sinktest.Org) *sync.Syncer {
	return &sync.Syncer{Source: src, Sink: org, Limits: sync.DefaultLimits()}
}

func TestSyncer_AppliesPlanThenFindsNothingToDo(t *testing.T) {
	snap := directory(3)
	snap.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u0", "u2"}}}
	org := sinktest.New(sync.OrgState{})
	s := newSyncer(staticSource{snap: snap}, org)

	res, err := s.Run(context.Background(), sync.RunOptions{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if got := res.AppliedTotal(); got != 5 {
		t.Errorf("first run applied %d operations, want 5 (3 invites, 1 group, 1 membership)", got)
	}
	res, err = s.Run(context.Background(), sync.RunOptions{})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !res.Plan.Empty() || res.Outcome() != "no_changes" {
		t.Errorf("second run planned %v (%s), want nothing", res.Plan.Summary(), res.Outcome())
	}
}

func TestSyncer_DryRunAppliesNothing(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	res, err := newSyncer(staticSource{snap: directory(2)}, org).Run(context.Background(), sync.RunOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Ops) != 2 || len(org.Log) != 0 || res.Outcome() != "dry_run" {
		t.Errorf("dry run planned %d ops, applied %d, outcome %s; want 2, 0, dry_run", len(res.Plan.Ops), len(org.Log), res.Outcome())
	}
}

func TestSyncer_RefusesEmptySnapshot(t *testing.T) {
	org := sinktest.New(managedOrg(3))
	_, err := newSyncer(staticSource{}, org).Run(context.Background(), sync.RunOptions{})
	var r *sync.Refusal
	if !errors.As(err, &r) || r.Guard != sync.GuardEmptySource {
		t.Fatalf("err = %v, want an empty_source refusal", err)
	}
	if len(org.Log) != 0 {
		t.Errorf("refused run applied %d operations", len(org.Log))
	}
}

func TestSyncer_RefusesMaxDeletesUnlessForced(t *testing.T) {
	org := sinktest.New(managedOrg(100))
	s := newSyncer(staticSource{snap: directory(80)}, org)
	_, err := s.Run(context.Background(), sync.RunOptions{})
	if !errors.Is(err, sync.ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	if len(org.Log) != 0 {
		t.Fatalf("refused run applied %d operations", len(org.Log))
	}
	res, err := s.Run(context.Background(), sync.RunOptions{Force: true})
	if err != nil {
		t.Fatalf("forced run: %v", err)
	}
	if res.Applied[sync.ActionRevoke] != 20 {
		t.Errorf("forced run revoked %d, want 20", res.Applied[sync.ActionRevoke])
	}
}

func TestSyncer_SCIMGuardRefusesEvenWithForce(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	s := newSyncer(staticSource{snap: directory(2)}, org)
	s.SCIM = scimProbe{on: true}
	res, err := s.Run(context.Background(), sync.RunOptions{Force: true})
	var r *sync.Refusal
	if !errors.As(err, &r) || r.Guard != sync.GuardSCIM {
		t.Fatalf("err = %v, want a scim refusal", err)
	}
	if len(org.Log) != 0 || len(res.Plan.Ops) != 2 {
		t.Errorf("applied %d, planned %d; want 0 applied and the plan kept for display", len(org.Log), len(res.Plan.Ops))
	}
}

func TestSyncer_SCIMProbeErrorFailsClosed(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	s := newSyncer(staticSource{snap: directory(2)}, org)
	s.SCIM = scimProbe{err: errors.New("connection refused")}
	if _, err := s.Run(context.Background(), sync.RunOptions{}); err == nil || len(org.Log) != 0 {
		t.Fatalf("err = %v, applied %d; want an error and nothing applied", err, len(org.Log))
	}
}

func TestSyncer_FailedReadChangesNothing(t *testing.T) {
	org := sinktest.New(managedOrg(3))
	_, err := newSyncer(staticSource{err: errors.New("size limit exceeded")}, org).Run(context.Background(), sync.RunOptions{Force: true})
	if err == nil || len(org.Log) != 0 {
		t.Fatalf("err = %v, applied %d; want an error and nothing applied", err, len(org.Log))
	}
}

func TestSyncer_JoinsOperationFailures(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	org.Fail = func(op sync.Op) error {
		if op.Email == "u1@example.com" {
			return errors.New("400 This user has already been invited.")
		}
		return nil
	}
	res, err := newSyncer(staticSource{snap: directory(3)}, org).Run(context.Background(), sync.RunOptions{})
	if err == nil {
		t.Fatal("run with a failed operation returned no error")
	}
	if len(res.Failed) != 1 || res.AppliedTotal() != 2 || res.Outcome() != "failed" {
		t.Errorf("failed %d, applied %d, outcome %s; want 1, 2, failed", len(res.Failed), res.AppliedTotal(), res.Outcome())
	}
}

func TestSyncer_StopsAtAbortError(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	org.Fail = func(sync.Op) error { return fmt.Errorf("401 twice: %w", sync.ErrAbort) }
	res, err := newSyncer(staticSource{snap: directory(5)}, org).Run(context.Background(), sync.RunOptions{})
	if !errors.Is(err, sync.ErrAbort) || len(res.Failed) != 1 {
		t.Fatalf("err = %v, failed %d; want ErrAbort after one attempt", err, len(res.Failed))
	}
}

func TestSyncer_CancelStopsBetweenOperations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	org := sinktest.New(sync.OrgState{})
	applied := 0
	org.Fail = func(sync.Op) error {
		applied++
		if applied == 2 {
			cancel() // a signal arrives during the second operation
		}
		return nil
	}
	res, err := newSyncer(staticSource{snap: directory(5)}, org).Run(ctx, sync.RunOptions{})
	if !errors.Is(err, context.Canceled) || !res.Stopped {
		t.Fatalf("err = %v, stopped = %v; want a canceled, stopped run", err, res.Stopped)
	}
	if len(org.Log) != 2 {
		t.Errorf("applied %d operations, want 2: the one in flight finishes, no more start", len(org.Log))
	}
}
