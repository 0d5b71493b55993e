package bitwarden

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dirbridge/dirbridge/sync"
)

// orgView is the organization as read back after an import.
type orgView struct {
	byExt   map[string]*sync.Member   // exact external id, as the import matches
	byEmail map[string]*sync.Member   // lower-cased email
	byID    map[string]*sync.Member   // member id
	groups  map[string]*sync.OrgGroup // exact external id; members read for the bulk's groups only
}

// verify reads the organization back and records, for every pending
// operation, whether it took effect and, when not, why.
func (s *Sink) verify(ctx context.Context, b *bulkPlan) {
	pending := b.pending()
	if len(pending) == 0 {
		return
	}
	touched := map[string]bool{}
	for _, g := range b.groups {
		touched[g.ext] = true
	}
	v, err := s.readBack(ctx, touched)
	if err != nil {
		for _, i := range pending {
			if b.failed[i] = b.sendErr[i]; b.failed[i] == nil {
				b.failed[i] = fmt.Errorf("the import answered success, but reading the organization back to check it failed: %w", err)
			}
		}
		return
	}
	for _, i := range b.invites {
		if b.failed[i] == nil {
			b.failed[i] = v.checkInvite(b.ops[i], b.sendErr[i])
		}
	}
	for _, g := range b.groups {
		for _, i := range g.ops() {
			if b.failed[i] == nil {
				b.failed[i] = v.checkGroup(g, b.ops[i].Action, b.sendErr[i])
			}
		}
	}
}

// readBack lists the members and groups, reads the members of the groups
// named in touched, and refreshes the index from what it read.
func (s *Sink) readBack(ctx context.Context, touched map[string]bool) (*orgView, error) {
	members, err := s.listMembers(ctx)
	if err != nil {
		return nil, err
	}
	glist, err := s.listGroups(ctx)
	if err != nil {
		return nil, err
	}
	groups := toGroups(glist)
	var read []sync.OrgGroup
	for _, g := range groups {
		if touched[g.ExternalID] {
			read = append(read, g)
		}
	}
	if err := s.readGroupMembers(ctx, read, members); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.idx, s.read = newIndex(members, groups), nil
	s.mu.Unlock()

	v := &orgView{
		byExt:   make(map[string]*sync.Member, len(members)),
		byEmail: make(map[string]*sync.Member, len(members)),
		byID:    make(map[string]*sync.Member, len(members)),
		groups:  make(map[string]*sync.OrgGroup, len(read)),
	}
	for i := range members {
		m := &members[i]
		v.byID[m.ID] = m
		if _, dup := v.byExt[m.ExternalID]; m.ExternalID != "" && !dup {
			v.byExt[m.ExternalID] = m
		}
		if _, dup := v.byEmail[strings.ToLower(m.Email)]; !dup {
			v.byEmail[strings.ToLower(m.Email)] = m
		}
	}
	for i := range read {
		if _, dup := v.groups[read[i].ExternalID]; !dup {
			v.groups[read[i].ExternalID] = &read[i]
		}
	}
	return v, nil
}

// checkInvite returns nil when the invite took effect: a member has its
// external id and email. Otherwise it says why not, in words a person can
// act on; sendErr is the error of the request that carried it, if any.
func (v *orgView) checkInvite(op sync.Op, sendErr error) error {
	email := strings.ToLower(op.Email)
	if m := v.byExt[op.ExternalID]; m != nil {
		if strings.EqualFold(m.Email, email) {
			return nil
		}
		return fmt.Errorf("bitwarden: the member with external id %q has the email %s, not %s; "+
			"Bitwarden never changes a member's email through the import", op.ExternalID, m.Email, email)
	}
	other := v.byEmail[email]
	switch {
	case other != nil && other.ExternalID != "":
		return fmt.Errorf("bitwarden: not invited: %s is already in the organization as another member "+
			"(external id %q, %s), and the import endpoint skips, without an error, a new member whose email "+
			"the organization already holds. If it is the same person, give that member the external id %q "+
			"(or remove the member) and run again; if not, correct the email in the directory",
			email, other.ExternalID, other.Status, op.ExternalID)
	case sendErr != nil:
		return sendErr
	case other != nil:
		return fmt.Errorf("bitwarden: not invited: %s is already a member without an external id, "+
			"and the import did not link it to %q", email, op.ExternalID)
	}
	return fmt.Errorf("bitwarden: the import answered success, but no member has the external id %q", op.ExternalID)
}

// checkGroup returns nil when the group operation took effect: the group
// exists with its desired name and, for set_group_members (or a created
// group, which must be empty), exactly its desired members among those in
// the organization. Otherwise it says why not.
func (v *orgView) checkGroup(g *bulkGroup, action sync.Action, sendErr error) error {
	og := v.groups[g.ext]
	if og == nil {
		if sendErr != nil {
			return sendErr
		}
		return fmt.Errorf("bitwarden: the import answered success, but no group has the external id %q", g.ext)
	}
	var err error
	switch {
	case og.Name != g.name:
		err = fmt.Errorf("bitwarden: after the import the group is named %q, not %q", og.Name, g.name)
	case action == sync.ActionSetGroupMembers || g.set < 0:
		err = v.checkMembers(og, g.members)
	}
	if err != nil && sendErr != nil {
		return sendErr
	}
	return err
}

// checkMembers compares a group's members with the desired external ids
// that name members of the organization (the others, such as users whose
// invite failed, cannot be in it).
func (v *orgView) checkMembers(og *sync.OrgGroup, desired []string) error {
	want := make(map[string]bool, len(desired))
	for _, ext := range desired {
		if m := v.byExt[ext]; m != nil {
			want[m.ID] = true
		}
	}
	var missing, extra []string
	have := make(map[string]bool, len(og.MemberIDs))
	for _, id := range og.MemberIDs {
		have[id] = true
		if !want[id] {
			extra = append(extra, v.describe(id))
		}
	}
	for id := range want {
		if !have[id] {
			missing = append(missing, v.describe(id))
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("bitwarden: after the import the group holds %d members, not the %d wanted: %d missing%s, %d not wanted%s",
		len(og.MemberIDs), len(want), len(missing), examples(missing), len(extra), examples(extra))
}

// describe names a member by email, or by id when it is not in the list.
func (v *orgView) describe(id string) string {
	if m := v.byID[id]; m != nil {
		return m.Email
	}
	return "member " + id
}

// examples returns " (a, b, c and 5 more)" for a list, or "".
func examples(list []string) string {
	if len(list) == 0 {
		return ""
	}
	slices.Sort(list)
	const show = 3
	if len(list) <= show {
		return " (" + strings.Join(list, ", ") + ")"
	}
	return fmt.Sprintf(" (%s and %d more)", strings.Join(list[:show], ", "), len(list)-show)
}
