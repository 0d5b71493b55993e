package bwemu

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Seed replaces the whole organization with org. It checks the seed and
// changes nothing when it is invalid. Seeds may hold duplicate emails or
// externalIds, which the import turns into its 500s.
func (s *Server) Seed(org Org) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := buildState(s.st.org, org, now)
	if err != nil {
		return fmt.Errorf("bwemu: seed: %w", err)
	}
	s.st = st
	return nil
}

// Dump returns a deep copy of the organization, members and groups in
// listing order.
func (s *Server) Dump() Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	o := st.org
	org := Org{
		Organization: OrgInfo{
			ID: o.id, Name: o.name, Seats: copyInt(o.seats), MaxAutoscaleSeats: copyInt(o.maxAutoscaleSeats),
			Storage: ptr(o.storage), SelfHosted: ptr(o.selfHosted), UseGroups: ptr(o.useGroups),
			UseDirectory: ptr(o.useDirectory),
		},
		Collections: []Collection{},
		Members:     make([]Member, 0, len(st.members)),
		Groups:      make([]Group, 0, len(st.groupOrder)),
	}
	for _, id := range st.collOrder {
		org.Collections = append(org.Collections, Collection{ID: id})
	}
	st.eachMember(func(m *member) { org.Members = append(org.Members, dumpMember(m)) })
	for _, g := range st.groupOrder {
		org.Groups = append(org.Groups, Group{
			ID: g.id, Name: g.name, ExternalID: g.externalID, Collections: cloneAccess(g.collections),
			MemberIDs: sortedMemberIDs(g), RevisionDate: g.revision,
		})
	}
	return org
}

func dumpMember(m *member) Member {
	d := Member{
		ID: m.id, UserID: m.userID, Email: m.email, Name: m.name, Status: m.status, Type: m.typ,
		ExternalID: m.externalID, Collections: cloneAccess(m.collections), Groups: sortedGroupIDs(m),
		TwoFactorEnabled: m.twoFactor, ResetPasswordEnrolled: m.resetPassword, SSOExternalID: m.ssoExternalID,
		HasMasterPassword: ptr(m.hasMasterPassword()), Invitations: m.invitations, RevisionDate: m.revision,
	}
	if m.permissions != nil {
		p := *m.permissions
		d.Permissions = &p
	}
	if m.status == StatusRevoked {
		d.PreviousStatus = ptr(m.prevStatus)
	}
	if len(d.Groups) == 0 {
		d.Groups = nil
	}
	return d
}

// buildState checks a seed and builds the state it describes on top of the
// current settings.
func buildState(cur orgSettings, org Org, now time.Time) (*state, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	st := newState(applyInfo(cur, org.Organization, fail))
	for i, c := range org.Collections {
		id, ok := parseGUID(c.ID)
		switch {
		case !ok:
			fail("collections[%d]: id %q is not a GUID", i, c.ID)
		case st.collections[id]:
			fail("collections[%d]: duplicate id %s", i, id)
		default:
			st.collections[id] = true
			st.collOrder = append(st.collOrder, id)
		}
	}
	seeded := make([]*group, len(org.Groups))
	for i, sg := range org.Groups {
		g := &group{id: newGUID(), name: sg.Name, externalID: sg.ExternalID, revision: now}
		if !sg.RevisionDate.IsZero() {
			g.revision = sg.RevisionDate
		}
		if sg.ID != "" {
			id, ok := parseGUID(sg.ID)
			if !ok {
				fail("groups[%d]: id %q is not a GUID", i, sg.ID)
				continue
			}
			g.id = id
		}
		if st.groups[g.id] != nil {
			fail("groups[%d]: duplicate id %s", i, g.id)
			continue
		}
		g.collections = seedAccess(st, sg.Collections, fmt.Sprintf("groups[%d]", i), fail)
		st.addGroup(g)
		seeded[i] = g
	}
	for i, sm := range org.Members {
		m := seedMember(st, sm, fmt.Sprintf("members[%d]", i), now, fail)
		if m == nil {
			continue
		}
		st.addMember(m)
		for _, gid := range sm.Groups {
			g := st.groups[lowerGUID(gid)]
			if g == nil {
				fail("members[%d]: unknown group %q", i, gid)
				continue
			}
			g.members[m], m.groups[g] = struct{}{}, struct{}{}
		}
	}
	for i, sg := range org.Groups {
		g := seeded[i]
		if g == nil {
			continue // already reported
		}
		for _, mid := range sg.MemberIDs {
			m := st.members[lowerGUID(mid)]
			if m == nil {
				fail("groups[%d]: unknown member %q", i, mid)
				continue
			}
			g.members[m], m.groups[g] = struct{}{}, struct{}{}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return st, nil
}

// applyInfo overrides the current settings with the seed's non-empty fields.
func applyInfo(o orgSettings, in OrgInfo, fail func(string, ...any)) orgSettings {
	if in.ID != "" {
		if id, ok := parseGUID(in.ID); ok {
			o.id = id
		} else {
			fail("organization: id %q is not a GUID", in.ID)
		}
	}
	if in.Name != "" {
		o.name = in.Name
	}
	if in.Seats != nil {
		o.seats = copyInt(in.Seats)
	}
	if in.MaxAutoscaleSeats != nil {
		o.maxAutoscaleSeats = copyInt(in.MaxAutoscaleSeats)
	}
	if in.Storage != nil {
		o.storage = *in.Storage
	}
	if in.SelfHosted != nil {
		o.selfHosted = *in.SelfHosted
	}
	if in.UseGroups != nil {
		o.useGroups = *in.UseGroups
	}
	if in.UseDirectory != nil {
		o.useDirectory = *in.UseDirectory
	}
	return o
}

// seedMember builds one member from a seed entry, or reports why it cannot.
func seedMember(st *state, sm Member, where string, now time.Time, fail func(string, ...any)) *member {
	m := &member{
		id: newGUID(), userID: sm.UserID, email: sm.Email, name: sm.Name, externalID: sm.ExternalID,
		ssoExternalID: sm.SSOExternalID, status: sm.Status, typ: sm.Type, twoFactor: sm.TwoFactorEnabled,
		resetPassword: sm.ResetPasswordEnrolled, invitations: sm.Invitations, revision: now,
	}
	if !sm.RevisionDate.IsZero() {
		m.revision = sm.RevisionDate
	}
	if sm.ID != "" {
		id, ok := parseGUID(sm.ID)
		if !ok {
			fail("%s: id %q is not a GUID", where, sm.ID)
			return nil
		}
		m.id = id
	}
	if st.members[m.id] != nil {
		fail("%s: duplicate id %s", where, m.id)
		return nil
	}
	if sm.Email == "" {
		fail("%s: email is required", where)
	}
	if !slices.Contains([]int{TypeOwner, TypeAdmin, TypeUser, TypeCustom}, sm.Type) {
		fail("%s: type %d is not 0, 1, 2 or 4", where, sm.Type)
	}
	withUser := sm.Status == StatusAccepted || sm.Status == StatusConfirmed
	switch sm.Status {
	case StatusInvited, StatusAccepted, StatusConfirmed, StatusStaged:
	case StatusRevoked:
		m.prevStatus = StatusConfirmed
		if sm.UserID == "" {
			m.prevStatus = StatusInvited
		}
		if sm.PreviousStatus != nil {
			m.prevStatus = *sm.PreviousStatus
		}
		if m.prevStatus == StatusRevoked || m.prevStatus < StatusRevoked || m.prevStatus > StatusStaged {
			fail("%s: previousStatus %d is not 0, 1, 2 or 3", where, m.prevStatus)
		}
		withUser = m.prevStatus == StatusAccepted || m.prevStatus == StatusConfirmed
	default:
		fail("%s: status %d is not -1, 0, 1, 2 or 3", where, sm.Status)
	}
	switch {
	case !withUser:
		m.userID = "" // Invited and Staged members have no user yet
	case m.userID == "":
		m.userID = newGUID()
	default:
		if id, ok := parseGUID(m.userID); ok {
			m.userID = id
		}
	}
	m.hasMP = sm.HasMasterPassword == nil || *sm.HasMasterPassword
	if sm.Permissions != nil {
		p := *sm.Permissions
		m.permissions = &p
	}
	m.collections = seedAccess(st, sm.Collections, where, fail)
	return m
}

func seedAccess(st *state, in []CollectionAccess, where string, fail func(string, ...any)) []CollectionAccess {
	if in == nil {
		return nil
	}
	out := make([]CollectionAccess, 0, len(in))
	for _, a := range in {
		id, ok := parseGUID(a.ID)
		if !ok || !st.collections[id] {
			fail("%s: unknown collection %q", where, a.ID)
			continue
		}
		a.ID = id
		out = append(out, a)
	}
	return out
}

func lowerGUID(s string) string {
	if id, ok := parseGUID(s); ok {
		return id
	}
	return s
}
