package sync

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRefused is matched (errors.Is) by every Refusal: a guard held the plan,
// or part of it, back. dirbridge exits with code 3 for it.
var ErrRefused = errors.New("refused by a safety guard")

// The guards, as named in refusals, logs, metrics and alerts.
const (
	GuardSCIM        = "scim"
	GuardEmptySource = "empty_source"
	GuardMaxDeletes  = "max_deletes"
	GuardThreshold   = "threshold"
	GuardScopeChange = "scope_change"
	GuardSourceDrop  = "source_drop"
	GuardSeats       = "seats"
	GuardStalePlan   = "stale_plan"
)

// Guards lists every guard name, for metrics that start every series at 0.
var Guards = []string{GuardSCIM, GuardEmptySource, GuardMaxDeletes, GuardThreshold, GuardScopeChange,
	GuardSourceDrop, GuardSeats, GuardStalePlan}

// Hold is what a refusal holds back.
type Hold int

// The parts of a plan a refusal can hold.
const (
	// HoldDestructive holds revocations, removals, group deletions and the
	// removals within membership changes; the rest still goes ahead.
	HoldDestructive Hold = iota
	// HoldInvites holds the invitations.
	HoldInvites
	// HoldAll holds the whole plan.
	HoldAll
)

// Refusal is a guard's decision to hold a plan, or part of it, back, with
// the reason in words a person can act on.
type Refusal struct {
	// Guard names the guard (GuardSCIM, ...).
	Guard string
	// Reason says what tripped it and what to do.
	Reason string
	// Hold is the part of the plan it holds.
	Hold Hold
	// Held lists the operations it holds (for a membership change, the
	// whole operation, of which only the removals are held).
	Held []Op
}

// Error returns the guard and its reason.
func (r *Refusal) Error() string { return fmt.Sprintf("%s guard: %s", r.Guard, r.Reason) }

// Is reports whether target is ErrRefused.
func (r *Refusal) Is(target error) bool { return target == ErrRefused }

// Threshold is a limit on one kind of deletion in one run: a count, and a
// percentage of the managed objects of that kind. Zero turns a part off. A
// single deletion never trips the percentage, so that ordinary churn passes
// in small organizations.
type Threshold struct {
	Count   int `yaml:"count"`
	Percent int `yaml:"percent"`
}

// Limits are the thresholds of the deletion guards.
type Limits struct {
	// MaxDeletes and MaxDeletesPercent bound revocations and removals
	// together, against the managed members.
	MaxDeletes        int
	MaxDeletesPercent int
	// Revoke, Remove, DeleteGroup and MembershipRemovals bound each kind on
	// its own: members, members, managed groups, and memberships of
	// managed groups.
	Revoke, Remove, DeleteGroup, MembershipRemovals Threshold
	// MaxSourceDropPercent holds destructive changes when the directory
	// returns this much fewer users than the last good run. Zero turns it off.
	MaxSourceDropPercent int
}

// DefaultLimits returns defaults that stop a mass deletion and let ordinary
// churn through.
func DefaultLimits() Limits {
	return Limits{
		MaxDeletes: 10, MaxDeletesPercent: 10,
		Revoke:               Threshold{Count: 10, Percent: 10},
		Remove:               Threshold{Count: 10, Percent: 10},
		DeleteGroup:          Threshold{Count: 5, Percent: 20},
		MembershipRemovals:   Threshold{Count: 100, Percent: 10},
		MaxSourceDropPercent: 20,
	}
}

// Check returns the refusals of the plan's own guards: a directory that
// returned no users while the organization holds managed members, and more
// deletions of any kind than lim allows. Each holds the destructive part.
func Check(p Plan, lim Limits) []*Refusal {
	var out []*Refusal
	destructive := p.destructive()
	hold := func(guard, reason string) {
		out = append(out, &Refusal{Guard: guard, Reason: reason, Hold: HoldDestructive, Held: destructive})
	}
	if p.SourceUsers == 0 && p.ManagedMembers > 0 {
		hold(GuardEmptySource, fmt.Sprintf("the directory returned no users while the organization holds %d managed members; "+
			"check the source's filters and permissions, or run with --force if everyone really left", p.ManagedMembers))
	}
	counts := p.Counts()
	removals := 0
	for _, op := range p.Ops {
		removals += len(op.Removed)
	}
	deletes := counts[ActionRevoke] + counts[ActionRemove]
	combined := exceeds(deletes, p.ManagedMembers, Threshold{lim.MaxDeletes, lim.MaxDeletesPercent}, "revocations and removals",
		"managed members", "safety.max_deletes", "safety.max_deletes_percent")
	if combined != "" {
		hold(GuardMaxDeletes, combined)
	}
	for _, t := range []struct {
		n, of       int
		lim         Threshold
		what, whole string
		key         string
	}{
		{counts[ActionRevoke], p.ManagedMembers, lim.Revoke, "revocations", "managed members", "revoke"},
		{counts[ActionRemove], p.ManagedMembers, lim.Remove, "removals", "managed members", "remove"},
		{counts[ActionDeleteGroup], p.ManagedGroups, lim.DeleteGroup, "group deletions", "managed groups", "delete_group"},
		{removals, p.ManagedMemberships, lim.MembershipRemovals, "membership removals", "memberships of managed groups", "membership_removals"},
	} {
		if combined != "" && (t.key == "revoke" || t.key == "remove") {
			continue // already held, and said, by the combined limit
		}
		key := "safety.thresholds." + t.key
		if r := exceeds(t.n, t.of, t.lim, t.what, t.whole, key+".count", key+".percent"); r != "" {
			hold(GuardThreshold, r)
		}
	}
	return out
}

// exceeds returns why n deletions out of of managed objects exceed lim, or "".
func exceeds(n, of int, lim Threshold, what, whole, countKey, percentKey string) string {
	const advice = "; review the plan with --dry-run, then run once with --force or raise the limit"
	switch {
	case lim.Count > 0 && n > lim.Count:
		return fmt.Sprintf("%d %s exceed %s (%d)%s", n, what, countKey, lim.Count, advice)
	case lim.Percent > 0 && n > 1 && n*100 > lim.Percent*of:
		return fmt.Sprintf("%d %s are %.0f%% of %d %s, over %s (%d%%)%s",
			n, what, float64(n*100)/float64(max(of, 1)), of, whole, percentKey, lim.Percent, advice)
	}
	return ""
}

// CheckHistory returns the refusals that compare this run with the ledger's
// last good run: a changed scope (until accepted) and a sudden drop in the
// number of users the directory returns. Each holds the destructive part.
// A nil or new ledger has no history and trips neither.
func CheckHistory(p Plan, l *Ledger, scope string, acceptScope bool, lim Limits) []*Refusal {
	if l == nil {
		return nil
	}
	var out []*Refusal
	destructive := p.destructive()
	if l.Scope != "" && l.Scope != scope && !acceptScope && len(destructive) > 0 {
		out = append(out, &Refusal{Guard: GuardScopeChange, Hold: HoldDestructive, Held: destructive,
			Reason: "what the source reads (type, URL, base DNs, filters or mapping) changed since the last run; " +
				"destructive changes wait until a run with --accept-scope-change confirms the new scope"})
	}
	if lim.MaxSourceDropPercent > 0 && l.SourceUsers > 0 && len(destructive) > 0 &&
		(l.SourceUsers-p.SourceUsers)*100 > lim.MaxSourceDropPercent*l.SourceUsers {
		out = append(out, &Refusal{Guard: GuardSourceDrop, Hold: HoldDestructive, Held: destructive,
			Reason: fmt.Sprintf("the directory returned %d users, %d%% fewer than the %d of the last good run (more than safety.max_source_drop_percent, %d%%); "+
				"check the source, or run with --force if they really left",
				p.SourceUsers, (l.SourceUsers-p.SourceUsers)*100/l.SourceUsers, l.SourceUsers, lim.MaxSourceDropPercent)})
	}
	return out
}

// SCIMRefusal is the refusal to run while an identity provider pushes into
// the organization by SCIM. It holds the whole plan.
func SCIMRefusal(p Plan) *Refusal {
	return &Refusal{
		Guard: GuardSCIM,
		Reason: "SCIM provisioning is on for this organization: an identity provider already writes its members and groups, " +
			"and a pull sync would fight it. Turn SCIM off in the Bitwarden admin console (or remove bitwarden.scim.enabled) " +
			"before running dirbridge, or keep using SCIM",
		Hold: HoldAll,
		Held: p.Ops,
	}
}

// destructive returns the operations that take access away, including the
// membership changes that take members out of groups.
func (p Plan) destructive() []Op {
	var out []Op
	for _, op := range p.Ops {
		if op.Action.Destructive() || len(op.RemovedIDs) > 0 {
			out = append(out, op)
		}
	}
	return out
}

// Allowed returns the operations the refusals let through, in plan order. A
// membership change whose removals are held keeps its additions: the
// members it would take out stay (Op.KeepIDs).
func (p Plan) Allowed(rs []*Refusal) []Op {
	var all, destructive, invites bool
	for _, r := range rs {
		switch r.Hold {
		case HoldAll:
			all = true
		case HoldInvites:
			invites = true
		default:
			destructive = true
		}
	}
	if all {
		return nil
	}
	out := make([]Op, 0, len(p.Ops))
	for _, op := range p.Ops {
		switch {
		case invites && op.Action == ActionInvite:
			continue
		case destructive && op.Action.Destructive():
			continue
		case destructive && len(op.RemovedIDs) > 0:
			if len(op.Added) == 0 {
				continue
			}
			op.KeepIDs, op.Removed, op.RemovedIDs = op.RemovedIDs, nil, nil
		}
		out = append(out, op)
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
