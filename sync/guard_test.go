package sync_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dirbridge/dirbridge/sync"
)

// managedOrg returns an organization of n confirmed members u0..u(n-1).
func managedOrg(n int) sync.OrgState {
	var s sync.OrgState
	for i := range n {
		s.Members = append(s.Members, confirmed(fmt.Sprintf("m%d", i), fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("u%d", i)))
	}
	return s
}

// directory returns users u0..u(n-1) matching managedOrg.
func directory(n int) sync.Snapshot {
	var s sync.Snapshot
	for i := range n {
		s.Users = append(s.Users, user(fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i)))
	}
	return s
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		managed    int
		inSource   int
		limits     sync.Limits
		wantGuards []string
	}{
		{name: "OrdinaryChurnPasses", managed: 100, inSource: 95, limits: sync.DefaultLimits()},
		{name: "SingleRevokeInSmallOrgPasses", managed: 5, inSource: 4, limits: sync.DefaultLimits()},
		{name: "EmptySourceRefused", managed: 3, inSource: 0, limits: sync.Limits{MaxDeletes: 100, MaxDeletesPercent: 100}, wantGuards: []string{sync.GuardEmptySource}},
		{name: "EmptySourceAndEmptyOrgPasses", managed: 0, inSource: 0, limits: sync.DefaultLimits()},
		{name: "TooManyDeletesRefused", managed: 1000, inSource: 989, limits: sync.DefaultLimits(), wantGuards: []string{sync.GuardMaxDeletes}},
		{name: "ExactlyMaxDeletesPasses", managed: 1000, inSource: 990, limits: sync.DefaultLimits()},
		{name: "TooLargeShareRefused", managed: 20, inSource: 17, limits: sync.DefaultLimits(), wantGuards: []string{sync.GuardMaxDeletes}},
		{name: "RaisedLimitsPass", managed: 20, inSource: 10, limits: sync.Limits{MaxDeletes: 10, MaxDeletesPercent: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sync.Diff(directory(tt.inSource), managedOrg(tt.managed), sync.Options{})
			refusals := sync.Check(plan, tt.limits)
			var got []string
			for _, r := range refusals {
				got = append(got, r.Guard)
				if !errors.Is(r, sync.ErrRefused) {
					t.Errorf("refusal %v does not match ErrRefused", r)
				}
				if len(r.Held) != tt.managed-tt.inSource {
					t.Errorf("refusal holds %d operations, want %d", len(r.Held), tt.managed-tt.inSource)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantGuards) {
				t.Errorf("guards = %v, want %v", got, tt.wantGuards)
			}
			err := sync.JoinRefusals(refusals)
			if (err != nil) != (len(tt.wantGuards) > 0) || (err != nil && !errors.Is(err, sync.ErrRefused)) {
				t.Errorf("JoinRefusals = %v", err)
			}
		})
	}
}
