// Package sinktest is an in-memory organization that implements sync.Sink,
// for tests of the Syncer and of anything above it. It applies operations
// with the same meaning the Bitwarden sink gives them, and can be told to
// fail chosen operations.
package sinktest

import (
	"context"
	"fmt"
	"slices"
	stdsync "sync"

	"github.com/dirbridge/dirbridge/sync"
)

// Org is an in-memory organization. The zero value is empty and ready.
type Org struct {
	mu      stdsync.Mutex
	members []sync.Member
	groups  []sync.OrgGroup
	nextID  int
	// Fail, when set, is consulted before each Apply: a non-nil error fails
	// the operation without applying it.
	Fail func(op sync.Op) error
	// StateErr, when set, is returned by State.
	StateErr error
	// Log records every applied operation, in order.
	Log []sync.Op
}

var _ sync.Sink = (*Org)(nil)

// New returns an organization holding state.
func New(state sync.OrgState) *Org {
	o := &Org{}
	o.members = slices.Clone(state.Members)
	for _, g := range state.Groups {
		g.MemberIDs = slices.Clone(g.MemberIDs)
		o.groups = append(o.groups, g)
	}
	return o
}

// State returns a copy of the organization.
func (o *Org) State(ctx context.Context) (sync.OrgState, error) {
	if err := ctx.Err(); err != nil {
		return sync.OrgState{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.StateErr != nil {
		return sync.OrgState{}, o.StateErr
	}
	s := sync.OrgState{Members: slices.Clone(o.members)}
	for _, g := range o.groups {
		g.MemberIDs = slices.Clone(g.MemberIDs)
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}

// Apply carries out one operation.
func (o *Org) Apply(ctx context.Context, op sync.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Fail != nil {
		if err := o.Fail(op); err != nil {
			return fmt.Errorf("%s %s: %w", op.Action, op.Subject(), err)
		}
	}
	if err := o.apply(op); err != nil {
		return fmt.Errorf("%s %s: %w", op.Action, op.Subject(), err)
	}
	o.Log = append(o.Log, op)
	return nil
}

func (o *Org) apply(op sync.Op) error {
	switch op.Action {
	case sync.ActionInvite:
		if o.memberByExt(op.ExternalID) != nil {
			return nil
		}
		o.nextID++
		o.members = append(o.members, sync.Member{ID: fmt.Sprintf("m-%d", o.nextID), Email: op.Email,
			ExternalID: op.ExternalID, Status: sync.StatusInvited, Type: sync.TypeUser})
	case sync.ActionLink:
		m := o.member(op.MemberID)
		if m == nil {
			return fmt.Errorf("member %s not found", op.MemberID)
		}
		m.ExternalID = op.ExternalID
	case sync.ActionRevoke:
		if m := o.member(op.MemberID); m != nil {
			m.Status = sync.StatusRevoked
		}
	case sync.ActionRestore:
		if m := o.member(op.MemberID); m != nil && m.Status == sync.StatusRevoked {
			m.Status = sync.StatusConfirmed
		}
	case sync.ActionRemove:
		o.members = slices.DeleteFunc(o.members, func(m sync.Member) bool { return m.ID == op.MemberID })
		for i := range o.groups {
			o.groups[i].MemberIDs = slices.DeleteFunc(o.groups[i].MemberIDs, func(id string) bool { return id == op.MemberID })
		}
	case sync.ActionCreateGroup:
		if o.group(op) != nil {
			return nil
		}
		o.nextID++
		o.groups = append(o.groups, sync.OrgGroup{ID: fmt.Sprintf("g-%d", o.nextID), Name: op.Name, ExternalID: op.ExternalID})
	case sync.ActionUpdateGroup:
		g := o.group(op)
		if g == nil {
			return fmt.Errorf("group %s not found", op.ExternalID)
		}
		g.Name = op.Name
	case sync.ActionSetGroupMembers:
		g := o.group(op)
		if g == nil {
			return fmt.Errorf("group %s not found", op.ExternalID)
		}
		ids := slices.Clone(op.KeepIDs)
		for _, ext := range op.Members {
			if m := o.memberByExt(ext); m != nil {
				ids = append(ids, m.ID)
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		g.MemberIDs = ids
	case sync.ActionDeleteGroup:
		o.groups = slices.DeleteFunc(o.groups, func(g sync.OrgGroup) bool { return g.ID == op.GroupID })
	default:
		return fmt.Errorf("unknown action %v", op.Action)
	}
	return nil
}

func (o *Org) member(id string) *sync.Member {
	for i := range o.members {
		if o.members[i].ID == id {
			return &o.members[i]
		}
	}
	return nil
}

func (o *Org) memberByExt(ext string) *sync.Member {
	for i := range o.members {
		if o.members[i].ExternalID == ext {
			return &o.members[i]
		}
	}
	return nil
}

func (o *Org) group(op sync.Op) *sync.OrgGroup {
	for i := range o.groups {
		g := &o.groups[i]
		if (op.GroupID != "" && g.ID == op.GroupID) || (op.GroupID == "" && g.ExternalID == op.ExternalID) {
			return g
		}
	}
	return nil
}
