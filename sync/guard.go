package sync

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRefused is matched (errors.Is) by every Refusal: a guard held the plan
// back. dirbridge exits with code 3 for it.
var ErrRefused = errors.New("refused by a safety guard")

// The guards, as named in refusals, logs and metrics.
const (
	GuardSCIM        = "scim"
	GuardEmptySource = "empty_source"
	GuardMaxDeletes  = "max_deletes"
)

// Refusal is a guard's decision to hold a plan back, with the reason in
// words a person can act on.
type Refusal struct {
	// Guard names the guard (GuardSCIM, ...).
	Guard string
	// Reason says what tripped it and what to do.
	Reason string
	// Held lists the operations the refusal holds back.
	Held []Op
}

// Error returns the guard and its reason.
func (r *Refusal) Error() string { return fmt.Sprintf("%s guard: %s", r.Guard, r.Reason) }

// Is reports whether target is ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Limits are the thresholds of the deletion guard.
type Limits struct {
	// MaxDeletes is the most revocations plus removals one run may make.
	MaxDeletes int
	// MaxDeletesPercent is the most revocations plus removals one run may
	// make, as a percentage of the managed members. A single deletion never
	// trips it, so that ordinary churn passes in small organizations.
	MaxDeletesPercent int
}

// DefaultLimits returns the default thresholds: 10 deletions, or 10% of the
// managed members.
func DefaultLimits() Limits { return Limits{MaxDeletes: 10, MaxDeletesPercent: 10} }

// Check returns the refusals of the plan's own guards: a directory that
// returned no users while the organization holds managed members, and more
// deletions than lim allows. It returns nil when the plan may run.
func Check(p Plan, lim Limits) []*Refusal {
	var out []*Refusal
	deletes := p.deletions()
	if p.SourceUsers == 0 && p.ManagedMembers > 0 {
		out = append(out, &Refusal{
			Guard: GuardEmptySource,
			Reason: fmt.Sprintf("the directory returned no users while the organization holds %d managed members; "+
				"check the source's filters and permissions, or run with --force if everyone really left", p.ManagedMembers),
			Held: deletes,
		})
	}
	n := len(deletes)
	switch {
	case n > lim.MaxDeletes:
		out = append(out, &Refusal{
			Guard:  GuardMaxDeletes,
			Reason: fmt.Sprintf("%d revocations and removals exceed safety.max_deletes (%d); review the plan with --dry-run, then run with --force or raise the limit", n, lim.MaxDeletes),
			Held:   deletes,
		})
	case n > 1 && n*100 > lim.MaxDeletesPercent*p.ManagedMembers:
		out = append(out, &Refusal{
			Guard: GuardMaxDeletes,
			Reason: fmt.Sprintf("%d revocations and removals are %.0f%% of %d managed members, over safety.max_deletes_percent (%d%%); review the plan with --dry-run, then run with --force or raise the limit",
				n, float64(n*100)/float64(max(p.ManagedMembers, 1)), p.ManagedMembers, lim.MaxDeletesPercent),
			Held: deletes,
		})
	}
	return out
}

// SCIMRefusal is the refusal to run while an identity provider pushes into
// the organization by SCIM.
func SCIMRefusal(p Plan) *Refusal {
	return &Refusal{
		Guard: GuardSCIM,
		Reason: "SCIM provisioning is on for this organization: an identity provider already writes its members and groups, " +
			"and a pull sync would fight it. Turn SCIM off in the Bitwarden admin console (or remove bitwarden.scim.enabled) " +
			"before running dirbridge, or keep using SCIM",
		Held: p.Ops,
	}
}

func (p Plan) deletions() []Op {
	var out []Op
	for _, op := range p.Ops {
		if op.Action == ActionRevoke || op.Action == ActionRemove {
			out = append(out, op)
		}
	}
	return out
}

// JoinRefusals returns the refusals as one error that matches ErrRefused, or
// nil when there are none.
func JoinRefusals(rs []*Refusal) error {
	if len(rs) == 0 {
		return nil
	}
	errs := make([]error, len(rs))
	var names []string
	for i, r := range rs {
		errs[i] = r
		names = append(names, r.Guard)
	}
	return fmt.Errorf("plan refused by %s: %w", strings.Join(names, ", "), errors.Join(errs...))
}
