//go:build unix

package sync

import (
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMakePlan_ParallelMatchesSequential plans a directory large enough to
// be split across workers, once on one CPU and once on several: the plans
// must be the same. Run with -race, it also checks the workers share
// nothing they write.
func TestMakePlan_ParallelMatchesSequential(t *testing.T) {
	if testing.Short() {
		t.Skip("a large fixture")
	}
	f := newPlanFixture(3*parallelMin, 2*parallelMin, 3)
	prev := runtime.GOMAXPROCS(1)
	_, seqNotes, seq := MakePlan(f.want, f.have, Options{})
	runtime.GOMAXPROCS(max(prev, 2))
	defer runtime.GOMAXPROCS(prev)
	if workers(len(f.want.Groups)) < 2 {
		t.Fatal("the fixture does not split across workers")
	}
	_, parNotes, par := MakePlan(f.want, f.have, Options{})
	if diff := cmp.Diff(seq, par); diff != "" {
		t.Errorf("parallel plan differs (-sequential +parallel):\n%s", diff)
	}
	if diff := cmp.Diff(seqNotes, parNotes); diff != "" {
		t.Errorf("parallel notes differ:\n%s", diff)
	}
	f.check(t, par)
}
