package alert

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./sync/alert -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// The operations of the sample plans.
var (
	opRevoke = sync.Op{Action: sync.ActionRevoke, MemberID: "m1", Email: "ada@example.com", ExternalID: "u1"}
	opRemove = sync.Op{Action: sync.ActionRemove, MemberID: "m2", Email: "bob@example.com", ExternalID: "u2"}
	opDelete = sync.Op{Action: sync.ActionDeleteGroup, GroupID: "g1", Name: "Contractors", ExternalID: "grp-contractors"}
	opShrink = sync.Op{Action: sync.ActionSetGroupMembers, GroupID: "g2", Name: "Engineering", ExternalID: "grp-eng",
		Members: []string{"u3", "u4"}, Added: []string{"dan@example.com"}, Removed: []string{"ada@example.com", "bob@example.com"},
		RemovedIDs: []string{"m1", "m2"}}
	opGrow = sync.Op{Action: sync.ActionSetGroupMembers, GroupID: "g3", Name: "Sales", ExternalID: "grp-sales",
		Members: []string{"u4"}, Added: []string{"dan@example.com"}}
	opInvite  = sync.Op{Action: sync.ActionInvite, Email: "dan@example.com", ExternalID: "u4"}
	opInvite2 = sync.Op{Action: sync.ActionInvite, Email: "eve@example.com", ExternalID: "u5"}
	opLink    = sync.Op{Action: sync.ActionLink, MemberID: "m3", Email: "cy@example.com", ExternalID: "u3"}
	opRestore = sync.Op{Action: sync.ActionRestore, MemberID: "m6", Email: "fay@example.com", ExternalID: "u6"}
	opCreate  = sync.Op{Action: sync.ActionCreateGroup, Name: "Support", ExternalID: "grp-support"}
)

func TestFromResult(t *testing.T) {
	destructive := []sync.Op{opShrink, opRevoke, opRemove, opDelete}
	all := []sync.Op{opLink, opRestore, opInvite, opCreate, opShrink, opGrow, opRevoke, opRemove, opDelete}
	affectedDestructive := []Affected{
		{Action: "set_group_members", Subject: "Engineering", ExternalID: "grp-eng", Removed: []string{"ada@example.com", "bob@example.com"}},
		{Action: "revoke", Subject: "ada@example.com", ExternalID: "u1"},
		{Action: "remove", Subject: "bob@example.com", ExternalID: "u2"},
		{Action: "delete_group", Subject: "Contractors", ExternalID: "grp-contractors"},
	}
	for _, tc := range []struct {
		name         string
		refusals     []*sync.Refusal
		wantRefusals []Refusal
		wantAffected []Affected
	}{
		{
			name:         "NoRefusals",
			wantRefusals: []Refusal{},
			wantAffected: []Affected{},
		},
		{
			name: "GuardsHoldingTheSameOpsListThemOnce",
			refusals: []*sync.Refusal{
				{Guard: sync.GuardMaxDeletes, Reason: "too many", Hold: sync.HoldDestructive, Held: destructive},
				{Guard: sync.GuardThreshold, Reason: "too many groups", Hold: sync.HoldDestructive, Held: destructive},
			},
			wantRefusals: []Refusal{
				{Guard: "max_deletes", Reason: "too many", Hold: "destructive", Held: 4},
				{Guard: "threshold", Reason: "too many groups", Hold: "destructive", Held: 4},
			},
			wantAffected: affectedDestructive,
		},
		{
			name: "SeatsHoldInvites",
			refusals: []*sync.Refusal{
				{Guard: sync.GuardSeats, Reason: "no seats", Hold: sync.HoldInvites, Held: []sync.Op{opInvite, opInvite2}},
			},
			wantRefusals: []Refusal{{Guard: "seats", Reason: "no seats", Hold: "invites", Held: 2}},
			wantAffected: []Affected{
				{Action: "invite", Subject: "dan@example.com", ExternalID: "u4"},
				{Action: "invite", Subject: "eve@example.com", ExternalID: "u5"},
			},
		},
		{
			name: "SCIMHoldsAllButListsDestructiveAndInvites",
			refusals: []*sync.Refusal{
				{Guard: sync.GuardSCIM, Reason: "scim is on", Hold: sync.HoldAll, Held: all},
			},
			wantRefusals: []Refusal{{Guard: "scim", Reason: "scim is on", Hold: "all", Held: 9}},
			wantAffected: append([]Affected{{Action: "invite", Subject: "dan@example.com", ExternalID: "u4"}}, affectedDestructive...),
		},
		{
			name: "InvitesAndDeletesTogether",
			refusals: []*sync.Refusal{
				{Guard: sync.GuardSourceDrop, Reason: "drop", Hold: sync.HoldDestructive, Held: []sync.Op{opRevoke}},
				{Guard: sync.GuardSeats, Reason: "no seats", Hold: sync.HoldInvites, Held: []sync.Op{opInvite}},
				{Guard: sync.GuardScopeChange, Reason: "scope", Hold: sync.HoldDestructive, Held: []sync.Op{opRevoke}},
			},
			wantRefusals: []Refusal{
				{Guard: "source_drop", Reason: "drop", Hold: "destructive", Held: 1},
				{Guard: "seats", Reason: "no seats", Hold: "invites", Held: 1},
				{Guard: "scope_change", Reason: "scope", Hold: "destructive", Held: 1},
			},
			wantAffected: []Affected{
				{Action: "revoke", Subject: "ada@example.com", ExternalID: "u1"},
				{Action: "invite", Subject: "dan@example.com", ExternalID: "u4"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CET", 3600))
			res := &sync.Result{RunID: "4c1a9e0b2f3d", Started: started, Duration: 12345678 * time.Microsecond,
				DryRun: true, Refusals: tc.refusals}
			got := FromResult(res, "org-1", "ldap")
			host, _ := os.Hostname()
			if got.Kind != "refusal" || got.RunID != "4c1a9e0b2f3d" || !got.DryRun || got.Host != host ||
				got.Organization != "org-1" || got.Source != "ldap" {
				t.Errorf("header = %+v", got)
			}
			if want := time.Date(2026, 3, 2, 7, 0, 12, 345e6, time.UTC); !got.Time.Equal(want) || got.Time.Location() != time.UTC {
				t.Errorf("Time = %v, want %v", got.Time, want)
			}
			if d := cmp.Diff(tc.wantRefusals, got.Refusals); d != "" {
				t.Errorf("Refusals (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantAffected, got.Affected); d != "" {
				t.Errorf("Affected (-want +got):\n%s", d)
			}
		})
	}
}

// TestFromResult_DoesNotShareRemoved checks that the alert owns its slices.
func TestFromResult_DoesNotShareRemoved(t *testing.T) {
	op := opShrink
	op.Removed = []string{"ada@example.com"}
	res := &sync.Result{Refusals: []*sync.Refusal{{Guard: sync.GuardThreshold, Held: []sync.Op{op}}}}
	a := FromResult(res, "org", "file")
	op.Removed[0] = "changed"
	if got := a.Affected[0].Removed[0]; got != "ada@example.com" {
		t.Errorf("Removed[0] = %q after the op changed", got)
	}
}

func TestAlert_Text(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Alert
		want string
	}{
		{"Partial", Alert{Host: "sync01", Organization: "org-1", RunID: "r1",
			Refusals: []Refusal{{Guard: "max_deletes", Hold: "destructive"}, {Guard: "threshold", Hold: "destructive"}},
			Affected: make([]Affected, 12)},
			"dirbridge on sync01 held back part of the plan for organization org-1: max_deletes, threshold; 12 changes held, run r1"},
		{"WholeDryRun", Alert{Host: "sync01", Organization: "org-1", RunID: "r2", DryRun: true,
			Refusals: []Refusal{{Guard: "scim", Hold: "all"}}, Affected: make([]Affected, 1)},
			"dirbridge on sync01 refused the whole plan for organization org-1 (dry run): scim; 1 change held, run r2"},
		{"NoHost", Alert{Organization: "org-1", RunID: "r3", Refusals: []Refusal{{Guard: "seats", Hold: "invites"}, {Guard: "seats", Hold: "invites"}}},
			"dirbridge on an unnamed host held back part of the plan for organization org-1: seats; 0 changes held, run r3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.summary(); got != tc.want {
				t.Errorf("summary() =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

// sampleAlert is the alert of a real-looking refusal, with a fixed host.
func sampleAlert() Alert {
	started := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	reason := "14 revocations and removals exceed safety.max_deletes (10); review the plan with --dry-run, " +
		"then run once with --force or raise the limit"
	res := &sync.Result{RunID: "4c1a9e0b2f3d", Started: started, Duration: 12345 * time.Millisecond,
		Refusals: []*sync.Refusal{
			{Guard: sync.GuardMaxDeletes, Reason: reason, Hold: sync.HoldDestructive, Held: []sync.Op{opShrink, opRevoke, opRemove}},
			{Guard: sync.GuardSeats, Reason: "1 invitation needs 1 seat, but 10 of the organization's 10 seats are taken",
				Hold: sync.HoldInvites, Held: []sync.Op{opInvite}},
		}}
	a := FromResult(res, "6f0c2d4e-0000-4000-8000-000000000001", "ldap")
	a.Host = "sync01"
	a.Text = a.summary()
	return a
}

// TestAlert_JSON pins the document's keys and shape (doc.go documents
// them; they are stable).
func TestAlert_JSON(t *testing.T) {
	b, err := json.MarshalIndent(sampleAlert(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "alert.golden", append(b, '\n'))
}
