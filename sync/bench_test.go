//go:build unix

package sync

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
)

// BenchmarkPlan measures planning at scale: Normalize then Diff of a
// directory against an organization of the same size with 1% changes, a
// quarter each of new users, users gone from the directory, users disabled
// there, and users moved from one group to another. Every user is in three
// groups. It reports the process's peak RSS (inputs included) after the
// first plan, as a sync run makes one, as plan1-peak-RSS-MB, and after all
// of them as peak-RSS-MB (later plans run while the garbage of earlier
// ones is still uncollected). The target for 1,000,000 users and 50,000
// groups is under 2 s and 1.5 GB:
//
//	go test -run '^$' -bench 'BenchmarkPlan/users=1000000' -benchmem -benchtime 3x ./sync
func BenchmarkPlan(b *testing.B) {
	for _, size := range []struct{ users, groups int }{{100000, 5000}, {1000000, 50000}} {
		b.Run(fmt.Sprintf("users=%d/groups=%d", size.users, size.groups), func(b *testing.B) {
			f := newPlanFixture(size.users, size.groups, 3)
			b.ReportAllocs()
			b.ResetTimer()
			var plan Plan
			first := 0.0
			for b.Loop() {
				_, _, plan = MakePlan(f.want, f.have, Options{})
				if first == 0 {
					first = peakRSSMB()
				}
			}
			b.StopTimer()
			b.ReportMetric(first, "plan1-peak-RSS-MB")
			f.check(b, plan)
			b.ReportMetric(float64(len(plan.Ops)), "ops")
			b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
		})
	}
}

// planFixture is a directory and an organization that differ by 1%.
type planFixture struct {
	want Snapshot
	have OrgState
	// changes is the number of users of each kind of change.
	changes int
	// moved is the number of groups a move changed.
	moved int
}

// newPlanFixture builds the fixture with a fixed seed. User i has the
// external id of a directory (36 characters, like an entryUUID) and member
// id i; users [0, c) are new (not in the organization), [c, 2c) disabled
// in the directory, [2c, 3c) moved to another group, and c members with
// external ids no user has are gone from the directory, where c is 0.25%
// of the users. Strings are allocated apart, as a source and a JSON
// decoder would.
func newPlanFixture(users, groups, perUser int) *planFixture {
	c := users / 400
	f := &planFixture{changes: c}
	rng := rand.New(rand.NewPCG(7, 7))
	ext := func(i int) string { return fmt.Sprintf("5e1f0c2a-%04x-4b1d-9a7f-%012x", i>>16, i) }
	id := func(i int) string { return fmt.Sprintf("a0000000-%04x-4000-8000-%012x", i>>16, i) }

	f.want.Users = make([]User, users)
	f.have.Members = make([]Member, 0, users+1)
	f.have.Members = append(f.have.Members, Member{ID: id(1 << 40), Email: "owner@example.com", Status: StatusConfirmed, Type: TypeOwner})
	for i := range users {
		u := User{ExternalID: ext(i), Email: fmt.Sprintf("User%07d@Example.com", i), Name: fmt.Sprintf("User %d", i),
			Source: fmt.Sprintf("uid=user%07d,ou=people,dc=example,dc=com", i)}
		u.Disabled = i >= c && i < 2*c
		f.want.Users[i] = u
		if i >= c {
			f.have.Members = append(f.have.Members, Member{ID: id(i), Email: fmt.Sprintf("user%07d@example.com", i),
				Name: u.Name, ExternalID: ext(i), Status: StatusConfirmed, Type: TypeUser})
		}
	}
	for i := range c { // gone from the directory
		f.have.Members = append(f.have.Members, Member{ID: id(users + i), Email: fmt.Sprintf("gone%07d@example.com", i),
			ExternalID: ext(users + i), Status: StatusConfirmed, Type: TypeUser})
	}

	wantMembers := make([][]string, groups)
	haveMembers := make([][]string, groups)
	moved := map[int]bool{}
	for i := range users + c {
		picked := make([]int, 0, perUser)
		for len(picked) < perUser {
			g := rng.IntN(groups)
			if !contains(picked, g) {
				picked = append(picked, g)
			}
		}
		for k, g := range picked {
			if i >= c { // in the organization
				haveMembers[g] = append(haveMembers[g], id(i))
			}
			switch {
			case i >= users: // gone: not in the directory's groups
			case k == 0 && i >= 2*c && i < 3*c: // moved to another group
				to := rng.IntN(groups)
				for contains(picked, to) {
					to = rng.IntN(groups)
				}
				wantMembers[to] = append(wantMembers[to], f.want.Users[i].ExternalID)
				moved[g], moved[to] = true, true
			default:
				wantMembers[g] = append(wantMembers[g], f.want.Users[i].ExternalID)
			}
		}
	}
	f.moved = len(moved)
	f.want.Groups = make([]Group, groups)
	f.have.Groups = make([]OrgGroup, groups)
	for g := range groups {
		f.want.Groups[g] = Group{ExternalID: ext(1<<41 + g), Name: fmt.Sprintf("Group %d", g), Members: wantMembers[g]}
		f.have.Groups[g] = OrgGroup{ID: id(1<<41 + g), ExternalID: ext(1<<41 + g), Name: fmt.Sprintf("Group %d", g), MemberIDs: haveMembers[g]}
	}
	return f
}

// check fails the benchmark unless the plan holds what the fixture changed:
// an invite per new user, a revoke per disabled or gone user, and a
// membership change for every group a move or a new user touched.
func (f *planFixture) check(b testing.TB, plan Plan) {
	counts := plan.Counts()
	if counts[ActionInvite] != f.changes || counts[ActionRevoke] != 2*f.changes || counts[ActionSetGroupMembers] < f.moved {
		b.Fatalf("plan %s; want %d invites, %d revokes, at least %d membership changes", plan.Summary(), f.changes, 2*f.changes, f.moved)
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// peakRSSMB returns the process's peak resident set size so far, in MB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

// BenchmarkPlanParts times Normalize and Diff apart on the same fixture as
// BenchmarkPlan, for profiling.
func BenchmarkPlanParts(b *testing.B) {
	f := newPlanFixture(1000000, 50000, 3)
	want, _ := Normalize(f.want)
	b.Run("Normalize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Normalize(f.want)
		}
	})
	b.Run("Diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Diff(want, f.have, Options{})
		}
	})
}
