package bitwarden

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// maxExternalIDLen is the longest external id the import accepts; a longer
// one fails the whole request with a 400.
const maxExternalIDLen = 300

var _ sync.BulkSink = (*Sink)(nil)

// ApplyBulk applies invites, group creations and group memberships through
// POST /public/organization/import, the endpoint Bitwarden's Directory
// Connector uses: first the invites, at most 2,000 members a request, then
// the groups, at most 2,000 a request and a few megabytes of member ids (a
// group is never split: the import replaces its membership). Every request
// says overwriteExisting: false, so the import never removes anyone;
// revocations and removals keep their own endpoints. A group entry carries
// the group's desired name (the import renames) and every member it must
// hold (the import replaces the membership).
//
// The import answers 200 even when it skips a member, so ApplyBulk then
// reads the organization back and checks every operation: each invited
// external id is a member with that email, and each group has its name and
// exactly its desired members (those that are in the organization). An
// operation that did not take effect is returned with the reason. A request
// the server refuses (a seat limit, a 500) fails the operations it carried,
// with the server's message, unless the read-back finds them done anyway;
// the other requests still go.
//
// In import mode (Vaultwarden) it sends every operation through the import
// instead, and cannot read back: see vaultwarden.go.
//
// ApplyBulk is safe to retry: the import skips members that already exist
// and writes nothing for a group whose name and members are unchanged. On
// an organization where the import would fail outright (two members or
// two groups with one external id), it applies the operations one by one
// with Apply instead.
func (s *Sink) ApplyBulk(ctx context.Context, ops []sync.Op) []sync.OpError {
	if len(ops) == 0 {
		return nil
	}
	if s.Stateless() {
		return s.applyImport(ctx, ops)
	}
	start := time.Now()
	b := newBulkPlan(ops)
	x, err := s.loadIndex(ctx)
	if err != nil {
		b.failRest(err)
		return b.opErrors()
	}
	s.mu.Lock()
	block, groupBlock := x.importBlock, x.importGroupBlock
	s.mu.Unlock()
	switch {
	case block != "":
		s.logger.Warn("the import endpoint would fail on this organization; applying the operations one by one",
			"reason", block, "operations", len(b.pending()))
		s.applyEach(ctx, b, b.pending())
		return b.opErrors()
	case groupBlock != "":
		s.logger.Warn("the import endpoint would fail for groups on this organization; applying the group operations one by one",
			"reason", groupBlock)
		s.applyEach(ctx, b, b.groupOps())
		b.groups = nil
	}
	s.sendBatches(ctx, b)
	s.verify(ctx, b)
	errs := b.opErrors()
	s.logger.Info("bulk import done", "operations", len(ops), "failed", len(errs),
		"duration", time.Since(start).Round(time.Millisecond).String())
	return errs
}

// bulkPlan is the operations of one ApplyBulk sorted into the import's
// entries, and what became of each.
type bulkPlan struct {
	ops     []sync.Op
	invites []int        // indexes of invite operations
	groups  []*bulkGroup // in the order the operations name them
	// failed holds the reason each failed operation did not take effect.
	failed map[int]error
	// done holds the operations applied one by one, with Apply.
	done map[int]bool
	// sendErr holds the error of the import request that carried an
	// operation, for the operations whose request failed.
	sendErr map[int]error
}

// bulkGroup is one group entry: the group's create and membership
// operations (-1 when absent) and its desired name and members.
type bulkGroup struct {
	ext, name   string
	create, set int
	members     []string // desired user external ids, sorted and unique
}

// ops returns the indexes of the group's operations.
func (g *bulkGroup) ops() []int {
	var out []int
	for _, i := range []int{g.create, g.set} {
		if i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// newBulkPlan sorts ops into invites and group entries. An operation the
// import cannot carry, or that repeats an email or external id already in
// the plan, fails at once.
func newBulkPlan(ops []sync.Op) *bulkPlan {
	b := &bulkPlan{ops: ops, failed: map[int]error{}, done: map[int]bool{}, sendErr: map[int]error{}}
	emails := map[string]int{}
	exts := map[string]int{}
	groups := map[string]*bulkGroup{}
	for i, op := range ops {
		if err := checkBulkOp(op); err != nil {
			b.failed[i] = err
			continue
		}
		switch op.Action {
		case sync.ActionInvite:
			email := strings.ToLower(op.Email)
			if j, dup := emails[email]; dup {
				b.failed[i] = fmt.Errorf("bitwarden: %s is also invited as external id %q in this run; left out", email, ops[j].ExternalID)
				continue
			}
			if j, dup := exts[op.ExternalID]; dup {
				b.failed[i] = fmt.Errorf("bitwarden: external id %q is also invited as %s in this run; left out", op.ExternalID, ops[j].Email)
				continue
			}
			emails[email], exts[op.ExternalID] = i, i
			b.invites = append(b.invites, i)
		case sync.ActionCreateGroup, sync.ActionSetGroupMembers:
			g := groups[op.ExternalID]
			if g == nil {
				g = &bulkGroup{ext: op.ExternalID, name: op.Name, create: -1, set: -1, members: []string{}}
				groups[op.ExternalID] = g
				b.groups = append(b.groups, g)
			}
			slot := &g.create
			if op.Action == sync.ActionSetGroupMembers {
				slot = &g.set
			}
			if *slot >= 0 {
				b.failed[i] = fmt.Errorf("bitwarden: group %q has two %s operations in this run; left out", op.ExternalID, op.Action)
				continue
			}
			*slot = i
			if op.Action == sync.ActionSetGroupMembers {
				g.name = op.Name
				g.members = slices.Compact(slices.Sorted(slices.Values(op.Members)))
			}
		}
	}
	return b
}

// checkBulkOp returns why the import cannot carry op, or nil. Values the
// server would refuse are caught here, so that one bad entry does not fail
// a request of 2,000.
func checkBulkOp(op sync.Op) error {
	switch {
	case !op.Action.Bulkable():
		return fmt.Errorf("bitwarden: %s cannot go through the import endpoint", op.Action)
	case len(op.KeepIDs) > 0:
		return fmt.Errorf("bitwarden: %s cannot go through the import endpoint: it keeps members by "+
			"organization id, and the import drops every member it cannot name by external id", op.Action)
	case op.ExternalID == "":
		return fmt.Errorf("bitwarden: %s through the import endpoint needs an external id", op.Action)
	case len(op.ExternalID) > maxExternalIDLen:
		return fmt.Errorf("bitwarden: external id is longer than %d characters, which Bitwarden refuses", maxExternalIDLen)
	case op.Action == sync.ActionInvite && op.Email == "":
		return errors.New("bitwarden: an invite needs an email")
	case op.Action == sync.ActionInvite && len(op.Email) > sync.MaxEmailLen:
		return fmt.Errorf("bitwarden: email is longer than %d characters, which Bitwarden refuses", sync.MaxEmailLen)
	case op.Action != sync.ActionInvite && op.Name == "":
		return errors.New("bitwarden: a group needs a name")
	}
	if _, long := sync.ShortenGroupName(op.Name); long && op.Action != sync.ActionInvite {
		return fmt.Errorf("bitwarden: group name is longer than %d characters, which Bitwarden refuses", sync.MaxGroupNameLen)
	}
	return nil
}

// pending returns the indexes of the operations neither failed nor done.
func (b *bulkPlan) pending() []int {
	var out []int
	for i := range b.ops {
		if b.failed[i] == nil && !b.done[i] {
			out = append(out, i)
		}
	}
	return out
}

// groupOps returns the indexes of the pending group operations, in order.
func (b *bulkPlan) groupOps() []int {
	var out []int
	for _, i := range b.pending() {
		if b.ops[i].Action.IsGroup() {
			out = append(out, i)
		}
	}
	return out
}

// failRest fails every pending operation with err.
func (b *bulkPlan) failRest(err error) {
	for _, i := range b.pending() {
		b.failed[i] = err
	}
}

// opErrors returns the failed operations, in order, each error naming its
// operation as Apply's do.
func (b *bulkPlan) opErrors() []sync.OpError { return opErrorsOf(b.ops, b.failed) }

// opErrorsOf returns the operations that failed, by index in ops, in order,
// each error naming its operation as Apply's do.
func opErrorsOf(ops []sync.Op, failed map[int]error) []sync.OpError {
	var out []sync.OpError
	for i, op := range ops {
		if err := failed[i]; err != nil {
			out = append(out, sync.OpError{Op: op, Err: fmt.Errorf("%s %s: %w", op.Action, subject(op), err)})
		}
	}
	return out
}

// applyEach applies the operations at idx one by one with Apply, in order,
// recording failures; after one that matches sync.ErrAbort the rest fail
// with it.
func (s *Sink) applyEach(ctx context.Context, b *bulkPlan, idx []int) {
	var abort error
	for _, i := range idx {
		if abort != nil {
			b.failed[i] = abort
			continue
		}
		err := s.Apply(ctx, b.ops[i])
		if err == nil {
			b.done[i] = true
			continue
		}
		// Apply's error already names the operation; keep the cause.
		if b.failed[i] = errors.Unwrap(err); b.failed[i] == nil {
			b.failed[i] = err
		}
		if errors.Is(err, sync.ErrAbort) || ctx.Err() != nil {
			abort = b.failed[i]
		}
	}
}
