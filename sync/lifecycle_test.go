package sync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dirbridge/dirbridge/sink/sinktest"
	"github.com/dirbridge/dirbridge/sync"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func actions(ops []sync.Op) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.Action.String()+" "+op.Subject())
	}
	return out
}

func TestDiff_Lifecycle(t *testing.T) {
	alice := user("u1", "alice@example.com")
	org := func(status sync.MemberStatus) sync.OrgState {
		return sync.OrgState{Members: []sync.Member{
			member("m0", "owner@example.com", "", sync.StatusConfirmed, sync.TypeOwner),
			confirmed("m1", "alice@example.com", "u1"),
			member("m2", "bob@example.com", "u2", status, sync.TypeUser),
		}}
	}
	ledger := func(absentSince time.Time, runs int) *sync.Ledger {
		l := sync.NewLedger()
		l.Members["u1"] = sync.LedgerMember{Email: "alice@example.com", Since: t0}
		l.Members["u2"] = sync.LedgerMember{Email: "bob@example.com", Since: t0, AbsentSince: absentSince, AbsentRuns: runs}
		return l
	}
	tests := []struct {
		name      string
		have      sync.OrgState
		opt       sync.Options
		want      []string
		wantNotes []string
	}{
		{
			name: "RemoveModeRevokesFirst",
			have: org(sync.StatusConfirmed),
			opt:  sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(time.Time{}, 0), RemoveAfter: 720 * time.Hour, Now: t0},
			want: []string{"revoke bob@example.com"},
		},
		{
			name:      "RemoveModeWaitsOutTheGracePeriod",
			have:      org(sync.StatusRevoked),
			opt:       sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(t0, 3), RemoveAfter: 720 * time.Hour, Now: t0.Add(719 * time.Hour)},
			wantNotes: []string{"removal_pending"},
		},
		{
			name: "RemoveModeRemovesAfterTheGracePeriod",
			have: org(sync.StatusRevoked),
			opt:  sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(t0, 3), RemoveAfter: 720 * time.Hour, Now: t0.Add(720 * time.Hour)},
			want: []string{"remove bob@example.com"},
		},
		{
			name:      "RemoveModeCountsRuns",
			have:      org(sync.StatusRevoked),
			opt:       sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(t0, 1), RemoveAfterRuns: 3, Now: t0},
			wantNotes: []string{"removal_pending"},
		},
		{
			name: "RemoveModeRemovesOnTheNthRun",
			have: org(sync.StatusRevoked),
			opt:  sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(t0, 2), RemoveAfterRuns: 3, Now: t0},
			want: []string{"remove bob@example.com"},
		},
		{
			name:      "BothConditionsMustHold",
			have:      org(sync.StatusRevoked),
			opt:       sync.Options{OnMissing: sync.MissingRemove, Ledger: ledger(t0, 5), RemoveAfterRuns: 3, RemoveAfter: 720 * time.Hour, Now: t0.Add(time.Hour)},
			wantNotes: []string{"removal_pending"},
		},
		{
			name:      "ForeignMemberLeftAlone",
			have:      org(sync.StatusConfirmed),
			opt:       sync.Options{Ledger: func() *sync.Ledger { l := ledger(time.Time{}, 0); delete(l.Members, "u2"); return l }()},
			wantNotes: []string{"foreign"},
		},
		{
			name: "ForeignMemberAdopted",
			have: org(sync.StatusConfirmed),
			opt:  sync.Options{AdoptForeign: true, Ledger: sync.NewLedger()},
			want: []string{"revoke bob@example.com"},
		},
		{
			name:      "LostStateRevokesNoOne",
			have:      org(sync.StatusConfirmed),
			opt:       sync.Options{Ledger: sync.NewLedger()},
			wantNotes: []string{"foreign"},
		},
		{
			name: "ProtectRolesCanBeNarrowed",
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"),
				member("m2", "admin@example.com", "u2", sync.StatusConfirmed, sync.TypeAdmin)}},
			opt:  sync.Options{ProtectedRoles: []sync.MemberType{sync.TypeOwner}},
			want: []string{"revoke admin@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sync.Diff(sync.Snapshot{Users: []sync.User{alice}}, tt.have, tt.opt)
			if diff := cmp.Diff(tt.want, actions(plan.Ops), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			var kinds []string
			for _, n := range plan.Notes {
				kinds = append(kinds, n.Kind)
			}
			if diff := cmp.Diff(tt.wantNotes, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notes (-want +got):\n%s\n%v", diff, plan.Notes)
			}
		})
	}
}

func TestDiff_ForeignGroupLeftAlone(t *testing.T) {
	have := sync.OrgState{Groups: []sync.OrgGroup{{ID: "G1", Name: "SCIM group", ExternalID: "scim-1"}, {ID: "G2", Name: "Ours", ExternalID: "g2"}}}
	l := sync.NewLedger()
	l.Groups["g2"] = sync.LedgerGroup{Name: "Ours", Since: t0}
	plan := sync.Diff(directory(1), have, sync.Options{Ledger: l})
	if got := actions(plan.Ops); fmt.Sprint(got) != `[invite u0@example.com delete_group Ours]` {
		t.Errorf("ops = %v", got)
	}
	if len(plan.Notes) != 1 || plan.Notes[0].Kind != "foreign_group" {
		t.Errorf("notes = %v", plan.Notes)
	}
}

func TestLedger_Next(t *testing.T) {
	want := sync.Snapshot{
		Users:  []sync.User{user("u1", "alice@example.com"), disabled("u3", "carol@example.com"), user("u4", "dave@example.com")},
		Groups: []sync.Group{{ExternalID: "g1", Name: "Eng"}},
		Held:   []string{"u5"},
	}
	have := sync.OrgState{
		Members: []sync.Member{
			confirmed("m1", "alice@example.com", "u1"),
			confirmed("m2", "bob@example.com", "u2"),
			confirmed("m3", "carol@example.com", "u3"),
			confirmed("m5", "erin@example.com", "u5"),
			confirmed("m9", "other@example.com", "scim-9"),
			confirmed("m8", "gone@example.com", "u8"),
		},
		Groups: []sync.OrgGroup{{ID: "G1", Name: "Eng", ExternalID: "g1"}, {ID: "G9", Name: "SCIM", ExternalID: "scim-g"}},
	}
	prev := sync.NewLedger()
	prev.Members["u2"] = sync.LedgerMember{Email: "bob@example.com", Since: t0, AbsentSince: t0, AbsentRuns: 1}
	prev.Members["u5"] = sync.LedgerMember{Email: "erin@example.com", Since: t0}
	prev.Members["u8"] = sync.LedgerMember{Email: "gone@example.com", Since: t0}
	prev.Members["u7"] = sync.LedgerMember{Email: "removed.by.hand@example.com", Since: t0}
	done := []sync.Op{
		{Action: sync.ActionInvite, Email: "dave@example.com", ExternalID: "u4"},
		{Action: sync.ActionRemove, Email: "gone@example.com", ExternalID: "u8"},
	}
	now := t0.Add(24 * time.Hour)
	next := prev.Next(want, have, done, now, sync.LedgerUpdate{CountAbsence: true})

	wantMembers := map[string]sync.LedgerMember{
		"u1": {Email: "alice@example.com", Since: now},
		"u2": {Email: "bob@example.com", Since: t0, AbsentSince: t0, AbsentRuns: 2},
		"u3": {Email: "carol@example.com", Since: now, AbsentSince: now, AbsentRuns: 1},
		"u4": {Email: "dave@example.com", Since: now},
		"u5": {Email: "erin@example.com", Since: t0},
	}
	if diff := cmp.Diff(wantMembers, next.Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if _, ok := next.Groups["g1"]; !ok || len(next.Groups) != 1 {
		t.Errorf("groups = %v, want only g1", next.Groups)
	}
	if prev.Members["u2"].AbsentRuns != 1 {
		t.Error("Next changed the previous ledger")
	}

	// A doubted read counts no absence; a return clears it.
	doubted := prev.Next(want, have, nil, now, sync.LedgerUpdate{})
	if got := doubted.Members["u2"].AbsentRuns; got != 1 {
		t.Errorf("doubted run counted absence: %d", got)
	}
	want.Users = append(want.Users, user("u2", "bob@example.com"))
	if back := prev.Next(want, have, nil, now, sync.LedgerUpdate{CountAbsence: true}); !back.Members["u2"].AbsentSince.IsZero() {
		t.Errorf("returning member still absent: %+v", back.Members["u2"])
	}
}

// runs drives one Syncer over several runs, carrying the ledger.
type runs struct {
	s      *sync.Syncer
	ledger *sync.Ledger
	now    time.Time
}

func (r *runs) run(t *testing.T, ro sync.RunOptions) (*sync.Result, error) {
	t.Helper()
	ro.Ledger, ro.Now = r.ledger, r.now
	if ro.Scope == "" {
		ro.Scope = "scope-a"
	}
	res, err := r.s.Run(context.Background(), ro)
	if res.Ledger != nil {
		r.ledger = res.Ledger
	}
	r.now = r.now.Add(24 * time.Hour)
	return res, err
}

func TestSyncer_GracePeriodAcrossRuns(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	src := &staticSource{snap: directory(3)}
	s := newSyncer(src, org)
	s.Options = sync.Options{OnMissing: sync.MissingRemove, RemoveAfterRuns: 3}
	s.Limits = sync.Limits{} // lifecycle only: no deletion guards
	r := &runs{s: s, ledger: sync.NewLedger(), now: t0}
	if _, err := r.run(t, sync.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	src.snap = directory(2) // u2 leaves
	var got []string
	for range 3 {
		res, err := r.run(t, sync.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(actions(res.Plan.Ops)))
	}
	want := []string{"[revoke u2@example.com]", "[]", "[remove u2@example.com]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
}

func TestSyncer_ReturningMemberRestoredWithGroups(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	snap := directory(3)
	snap.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u1", "u2"}}}
	src := &staticSource{snap: snap}
	s := newSyncer(src, org)
	s.Limits = sync.Limits{} // lifecycle only: no deletion guards
	r := &runs{s: s, ledger: sync.NewLedger(), now: t0}
	r.run(t, sync.RunOptions{})
	gone := directory(2)
	gone.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u1"}}}
	src.snap = gone
	if res, err := r.run(t, sync.RunOptions{}); err != nil || fmt.Sprint(actions(res.Plan.Ops)) != "[revoke u2@example.com]" {
		t.Fatalf("leaving: %v %v", err, actions(res.Plan.Ops))
	}
	src.snap = snap
	res, err := r.run(t, sync.RunOptions{})
	if err != nil || fmt.Sprint(actions(res.Plan.Ops)) != "[restore u2@example.com]" {
		t.Fatalf("returning: %v %v", err, actions(res.Plan.Ops))
	}
}

func TestSyncer_ThresholdHoldsOnlyTheDestructivePart(t *testing.T) {
	have := managedOrg(30)
	have.Groups = []sync.OrgGroup{{ID: "G1", Name: "Eng", ExternalID: "g1", MemberIDs: []string{"m0", "m20", "m21"}}}
	org := sinktest.New(have)
	snap := directory(15) // 15 of 30 gone: a mass revocation
	snap.Users = append(snap.Users, user("new", "new@example.com"))
	snap.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u0", "u1", "new"}}, {ExternalID: "g2", Name: "New"}}
	res, err := newSyncer(staticSource{snap: snap}, org).Run(context.Background(), sync.RunOptions{})
	if !errors.Is(err, sync.ErrRefused) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	state, _ := org.State(context.Background())
	revoked := 0
	for _, m := range state.Members {
		if m.Status == sync.StatusRevoked {
			revoked++
		}
	}
	if revoked != 0 {
		t.Errorf("%d revoked despite the guard", revoked)
	}
	if res.Applied[sync.ActionInvite] != 1 || res.Applied[sync.ActionCreateGroup] != 1 {
		t.Errorf("applied = %v, want the invite and the group creation to go ahead", res.Applied)
	}
	var eng sync.OrgGroup
	for _, g := range state.Groups {
		if g.ExternalID == "g1" {
			eng = g
		}
	}
	if len(eng.MemberIDs) != 5 {
		t.Errorf("Eng has %v; want the 3 it had kept plus the 2 added", eng.MemberIDs)
	}
}

func TestSyncer_ScopeChangeHeldThenAccepted(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	src := &staticSource{snap: directory(5)}
	r := &runs{s: newSyncer(src, org), ledger: sync.NewLedger(), now: t0}
	r.run(t, sync.RunOptions{Scope: "filter-a"})
	src.snap = directory(4)
	if _, err := r.run(t, sync.RunOptions{Scope: "filter-b"}); !errors.Is(err, sync.ErrRefused) {
		t.Fatalf("scope change not held: %v", err)
	}
	if _, err := r.run(t, sync.RunOptions{Scope: "filter-b"}); !errors.Is(err, sync.ErrRefused) {
		t.Fatalf("scope change held only once: %v", err)
	}
	res, err := r.run(t, sync.RunOptions{Scope: "filter-b", AcceptScopeChange: true})
	if err != nil || res.Applied[sync.ActionRevoke] != 1 {
		t.Fatalf("accepted run: %v, applied %v", err, res.Applied)
	}
	if r.ledger.Scope != "filter-b" {
		t.Errorf("ledger scope = %q", r.ledger.Scope)
	}
}

func TestSyncer_SuddenDropHeld(t *testing.T) {
	org := sinktest.New(sync.OrgState{})
	src := &staticSource{snap: directory(100)}
	s := newSyncer(src, org)
	s.Limits = sync.Limits{MaxSourceDropPercent: 20} // thresholds off: only the drop guard
	r := &runs{s: s, ledger: sync.NewLedger(), now: t0}
	r.run(t, sync.RunOptions{})
	src.snap = directory(70)
	res, err := r.run(t, sync.RunOptions{})
	var ref *sync.Refusal
	if !errors.As(err, &ref) || ref.Guard != sync.GuardSourceDrop || res.Applied[sync.ActionRevoke] != 0 {
		t.Fatalf("err = %v, applied %v; want a source_drop refusal", err, res.Applied)
	}
	if r.ledger.SourceUsers != 100 {
		t.Errorf("a doubted run moved the baseline to %d", r.ledger.SourceUsers)
	}
}

type seatOrg struct {
	*sinktest.Org
	seats sync.Seats
}

func (o seatOrg) Seats(context.Context) (sync.Seats, error) { return o.seats, nil }

func TestSyncer_SeatShortageStopsInvites(t *testing.T) {
	have := managedOrg(8)
	ten := 10
	org := seatOrg{Org: sinktest.New(have), seats: sync.Seats{Known: true, Seats: &ten, MaxAutoscale: &ten}}
	snap := directory(8)
	for i := range 3 {
		snap.Users = append(snap.Users, user(fmt.Sprintf("n%d", i), fmt.Sprintf("n%d@example.com", i)))
	}
	snap.Groups = []sync.Group{{ExternalID: "g1", Name: "Eng"}}
	s := &sync.Syncer{Source: staticSource{snap: snap}, Sink: org, Limits: sync.DefaultLimits()}
	res, err := s.Run(context.Background(), sync.RunOptions{})
	var ref *sync.Refusal
	if !errors.As(err, &ref) || ref.Guard != sync.GuardSeats {
		t.Fatalf("err = %v, want a seats refusal", err)
	}
	if res.Applied[sync.ActionInvite] != 0 || res.Applied[sync.ActionCreateGroup] != 1 {
		t.Errorf("applied %v; want no invite and the group still created", res.Applied)
	}
	twelve := 12
	org.seats.MaxAutoscale = &twelve
	s.Sink = org
	if res, err := s.Run(context.Background(), sync.RunOptions{}); err != nil || res.Applied[sync.ActionInvite] != 3 {
		t.Fatalf("with room to autoscale: %v, applied %v", err, res.Applied)
	}
}

func TestLedger_UpdateReportsChange(t *testing.T) {
	want := directory(3)
	have := managedOrg(3)
	l := sync.NewLedger()
	if !l.Update(want, have, nil, t0, sync.LedgerUpdate{CountAbsence: true}) {
		t.Fatal("adopting three members is no change")
	}
	if l.Update(want, have, nil, t0.Add(time.Hour), sync.LedgerUpdate{CountAbsence: true}) {
		t.Error("a run that changed nothing changed the ledger")
	}
	want.Users[1].Disabled = true
	if !l.Update(want, have, nil, t0.Add(2*time.Hour), sync.LedgerUpdate{CountAbsence: true}) || l.Members["u1"].AbsentRuns != 1 {
		t.Errorf("a disabled member: %+v", l.Members["u1"])
	}
	have.Members = have.Members[:2] // u2 removed by hand
	if !l.Update(want, have, nil, t0.Add(3*time.Hour), sync.LedgerUpdate{CountAbsence: true}) || len(l.Members) != 2 {
		t.Errorf("a member removed by hand is still in the ledger: %v", l.Members)
	}
}
