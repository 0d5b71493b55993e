package sync_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

// TestDiff_MembershipMatchesReference checks set_group_members on random
// organizations against a plain statement of what a group must hold: the
// directory group's members that will be in the organization, plus the
// members it holds that are absent from the directory and kept (revoked).
// It guards Diff's shortcut for groups already in step.
func TestDiff_MembershipMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		want, have := randomOrg(rng)
		plan := sync.Diff(want, have, sync.Options{})
		got := map[string][]string{}
		for _, op := range plan.Ops {
			if op.Action == sync.ActionSetGroupMembers && op.GroupID != "" {
				got[op.ExternalID] = op.Members
			}
		}
		expected := referenceMemberships(want, have)
		if diff := cmp.Diff(expected, got); diff != "" {
			t.Fatalf("round %d: set_group_members (-reference +Diff):\n%s", round, diff)
		}
	}
}

// randomOrg returns a small directory and an organization that share most
// users: some members are absent from the directory, some users are new or
// disabled, one member has no external id, and groups hold random members,
// unknown ids, and sometimes an unsorted list.
func randomOrg(rng *rand.Rand) (sync.Snapshot, sync.OrgState) {
	var want sync.Snapshot
	var have sync.OrgState
	n := 4 + rng.IntN(8)
	ids := map[string]string{} // external id -> member id
	for i := range n + 3 {
		ext, email := fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i)
		inDir, inOrg := i < n, i >= 2 || rng.IntN(2) == 0
		if inDir {
			want.Users = append(want.Users, sync.User{ExternalID: ext, Email: email, Disabled: rng.IntN(6) == 0})
		}
		if inOrg || !inDir {
			id := fmt.Sprintf("m%02d", i)
			ids[ext] = id
			have.Members = append(have.Members, sync.Member{ID: id, Email: email, ExternalID: ext, Status: sync.StatusConfirmed, Type: sync.TypeUser})
		}
	}
	have.Members = append(have.Members, sync.Member{ID: "m99", Email: "hand@example.com", Status: sync.StatusConfirmed, Type: sync.TypeUser})
	for g := range 4 {
		dg := sync.Group{ExternalID: fmt.Sprintf("g%d", g), Name: fmt.Sprintf("G%d", g)}
		og := sync.OrgGroup{ID: fmt.Sprintf("o%d", g), ExternalID: dg.ExternalID, Name: dg.Name}
		for i := range n + 3 {
			ext := fmt.Sprintf("u%d", i)
			inDirGroup := i < n && rng.IntN(2) == 0
			if inDirGroup {
				dg.Members = append(dg.Members, ext)
			}
			if id, ok := ids[ext]; ok && (inDirGroup && rng.IntN(5) != 0 || !inDirGroup && rng.IntN(4) == 0) {
				og.MemberIDs = append(og.MemberIDs, id)
			}
		}
		switch rng.IntN(8) {
		case 0:
			og.MemberIDs = append(og.MemberIDs, "m99")
		case 1:
			og.MemberIDs = append(og.MemberIDs, "gone-member")
		}
		slices.Sort(og.MemberIDs)
		if rng.IntN(5) == 0 {
			slices.Reverse(og.MemberIDs)
		}
		want.Groups = append(want.Groups, dg)
		have.Groups = append(have.Groups, og)
	}
	return want, have
}

// referenceMemberships returns, for every organization group that must
// change, the external ids it must hold, by the rules of Diff (default
// options: absent members are revoked and keep their groups).
func referenceMemberships(want sync.Snapshot, have sync.OrgState) map[string][]string {
	extOf := map[string]string{}
	for _, m := range have.Members {
		if m.ExternalID != "" {
			extOf[m.ID] = m.ExternalID
		}
	}
	inDir, willBeIn := map[string]bool{}, map[string]bool{}
	for _, u := range want.Users {
		inDir[u.ExternalID] = true
	}
	for _, u := range want.Users {
		_, member := indexOfExt(have, u.ExternalID)
		willBeIn[u.ExternalID] = member || !u.Disabled
	}
	out := map[string][]string{}
	for i, dg := range want.Groups {
		og := have.Groups[i]
		final := map[string]bool{}
		for _, ext := range dg.Members {
			if willBeIn[ext] {
				final[ext] = true
			}
		}
		current := map[string]bool{}
		stray := false
		for _, id := range og.MemberIDs {
			ext, ok := extOf[id]
			if !ok {
				stray = true
				continue
			}
			current[ext] = true
			if !inDir[ext] { // absent from the directory: kept
				final[ext] = true
			}
		}
		if stray || !mapsEqual(final, current) {
			ms := []string{}
			for ext := range final {
				ms = append(ms, ext)
			}
			slices.Sort(ms)
			out[og.ExternalID] = ms
		}
	}
	return out
}

func indexOfExt(have sync.OrgState, ext string) (int, bool) {
	for i, m := range have.Members {
		if m.ExternalID == ext {
			return i, true
		}
	}
	return -1, false
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestNormalize_DeduplicatesGroupMembers(t *testing.T) {
	in := sync.Snapshot{
		Users: []sync.User{{ExternalID: "u1", Email: "a@example.com"}, {ExternalID: "u2", Email: "b@example.com"}},
		Groups: []sync.Group{
			{ExternalID: "g1", Name: "One", Members: []string{"u1", " u1", "x", "u2", "x ", "y", "u2"}},
			{ExternalID: "g2", Name: "Two", Members: []string{"u2", "u1", "x"}},
		},
	}
	out, notes := sync.Normalize(in)
	if diff := cmp.Diff([][]string{{"u1", "u2"}, {"u2", "u1"}}, [][]string{out.Groups[0].Members, out.Groups[1].Members}); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, n := range notes {
		msgs = append(msgs, n.String())
	}
	want := []string{
		"group g1: 2 member(s) are not users of the directory read; left out of the group",
		"group g2: 1 member(s) are not users of the directory read; left out of the group",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestValidEmail_DomainLabels(t *testing.T) {
	for in, want := range map[string]bool{
		"a@example.com.":  false,
		"a@.example.com":  false,
		"a@example.com":   true,
		"a@b.c.d.example": true,
		"a@example-.com":  false,
	} {
		if got := sync.ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", in, got, want)
		}
	}
}
