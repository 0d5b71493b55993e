package bitwarden

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// Apply carries out one operation with the one Public API call its action
// names. Every action is safe to retry: an operation that already took
// effect (an invite already sent, a member already revoked or gone, a group
// already created) succeeds without acting again.
func (s *Sink) Apply(ctx context.Context, op sync.Op) error {
	if s.Stateless() {
		return fmt.Errorf("%s %s: %w; every change goes through ApplyBulk", op.Action, subject(op), ErrCannotRead)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bitwarden: %s %s: %w", op.Action, op.Subject(), err)
	}
	var err error
	switch op.Action {
	case sync.ActionLink, sync.ActionRevoke, sync.ActionRestore, sync.ActionRemove:
		if op.MemberID == "" {
			op.MemberID, err = s.memberID(ctx, op)
		}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", op.Action, subject(op), err)
	}
	switch op.Action {
	case sync.ActionInvite:
		err = s.invite(ctx, op)
	case sync.ActionLink:
		err = s.link(ctx, op)
	case sync.ActionRevoke:
		err = s.revoke(ctx, op)
	case sync.ActionRestore:
		err = s.restore(ctx, op)
	case sync.ActionRemove:
		err = s.remove(ctx, op)
	case sync.ActionCreateGroup:
		err = s.createGroup(ctx, op)
	case sync.ActionUpdateGroup:
		err = s.updateGroup(ctx, op)
	case sync.ActionSetGroupMembers:
		err = s.setGroupMembers(ctx, op)
	case sync.ActionDeleteGroup:
		err = s.deleteGroup(ctx, op)
	default:
		return fmt.Errorf("bitwarden: unknown action %s", op.Action)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", op.Action, subject(op), err)
	}
	return nil
}

// subject names what op acts on, for errors: the email (or member id) of a
// member, the name (or external id) of a group.
func subject(op sync.Op) string {
	s := op.Subject()
	switch {
	case s != "":
		return s
	case op.Action.IsGroup() && op.ExternalID != "":
		return "group " + op.ExternalID
	case op.Action.IsGroup():
		return "group " + op.GroupID
	case op.MemberID != "":
		return "member " + op.MemberID
	}
	return "member " + op.ExternalID
}

// memberID finds the member an operation without a member id means, by
// external id (for a revoke, restore or remove) or email (for a link).
func (s *Sink) memberID(ctx context.Context, op sync.Op) (string, error) {
	var id string
	err := s.withIndex(ctx, func(x *index) {
		if op.Action != sync.ActionLink && op.ExternalID != "" {
			id = x.memberByExt[strings.ToLower(op.ExternalID)]
		}
		if id == "" && op.Action == sync.ActionLink && op.Email != "" {
			id = x.memberByEmail[strings.ToLower(op.Email)]
		}
	})
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New("bitwarden: the operation names no member id, and no member has its external id or email")
	}
	return id, nil
}

// withIndex runs fn on the index, under the sink's lock, reading the
// organization first if State has not.
func (s *Sink) withIndex(ctx context.Context, fn func(x *index)) error {
	x, err := s.loadIndex(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(x)
	return nil
}

// updateIndex records a change in the index, building it first from the
// last State if that is pending; when there is no index at all, the next
// read of the organization will see the change.
func (s *Sink) updateIndex(fn func(x *index)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx == nil && s.read != nil {
		s.idx, s.read = newIndex(s.read.Members, s.read.Groups), nil
	}
	if s.idx != nil {
		fn(s.idx)
	}
}
