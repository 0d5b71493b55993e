package sync

import (
	"context"
	"fmt"
)

// BulkMode says when invites, new groups and group memberships go through
// the organization import endpoint in batches instead of one request each.
type BulkMode string

// The bulk modes.
const (
	// BulkAuto uses the import endpoint when a plan holds at least
	// BulkOptions.Threshold invites.
	BulkAuto BulkMode = "auto"
	// BulkAlways always uses it for the operations it can carry.
	BulkAlways BulkMode = "always"
	// BulkNever never uses it.
	BulkNever BulkMode = "never"
)

// BulkOptions configures the bulk path.
type BulkOptions struct {
	Mode BulkMode
	// Threshold is the number of invites from which BulkAuto uses the
	// import endpoint. Default 100.
	Threshold int
}

// Bulkable reports whether the import endpoint can carry the action: it
// invites members, creates groups and replaces group memberships. Links,
// revocations, restores, removals, renames and group deletions always use
// their own endpoints.
func (a Action) Bulkable() bool {
	switch a {
	case ActionInvite, ActionCreateGroup, ActionSetGroupMembers:
		return true
	}
	return false
}

// MarkBulk sets Op.Bulk on the operations that take the bulk path under
// opt, so that a dry run shows the path each operation takes.
func (p *Plan) MarkBulk(opt BulkOptions) {
	threshold := opt.Threshold
	if threshold <= 0 {
		threshold = 100
	}
	use := opt.Mode == BulkAlways || (opt.Mode == BulkAuto && p.Counts()[ActionInvite] >= threshold)
	for i := range p.Ops {
		// The import drops members it cannot name by external id, so a
		// change that must keep some by their organization id stays on
		// the API.
		p.Ops[i].Bulk = use && p.Ops[i].Action.Bulkable() && len(p.Ops[i].KeepIDs) == 0
	}
}

// BulkSink is a sink that can apply many invites, group creations and
// group memberships at once.
type BulkSink interface {
	// ApplyBulk applies ops, all of them Bulkable, in as few requests as
	// the server allows, then reads the organization back and checks the
	// result. It returns one OpError for every operation that did not take
	// effect, and must be safe to retry like Apply.
	ApplyBulk(ctx context.Context, ops []Op) []OpError
}

// bulkOps returns the plan's bulk operations.
func bulkOps(ops []Op) []Op {
	var out []Op
	for _, op := range ops {
		if op.Bulk {
			out = append(out, op)
		}
	}
	return out
}

// applyBulk applies the plan's bulk operations through the sink, and
// records them in res. It returns the failures.
func (s *Syncer) applyBulk(ctx context.Context, ops []Op, res *Result) ([]OpError, error) {
	bs, ok := s.Sink.(BulkSink)
	if !ok {
		return nil, fmt.Errorf("the plan uses the bulk path but the sink has none")
	}
	failed := bs.ApplyBulk(ctx, ops)
	bad := make(map[int]bool, len(failed))
	for _, f := range failed {
		for i, op := range ops {
			if !bad[i] && op.Action == f.Op.Action && op.ExternalID == f.Op.ExternalID {
				bad[i] = true
				break
			}
		}
	}
	for i, op := range ops {
		if !bad[i] {
			res.Applied[op.Action]++
			res.Done = append(res.Done, op)
		}
	}
	return failed, nil
}
