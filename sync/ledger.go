package sync

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Ledger is what dirbridge remembers between runs, kept in its state
// directory: the members and groups it manages, how long each absent member
// has been gone, and what the last good run read. Losing it never causes
// deletions: an empty ledger owns only what the directory yields, so members
// it cannot account for are left alone until it has seen them.
type Ledger struct {
	// Members holds the managed members by external id.
	Members map[string]LedgerMember `json:"members"`
	// Groups holds the managed groups by external id.
	Groups map[string]LedgerGroup `json:"groups"`
	// Scope is the fingerprint of what the source reads (type, URL, base
	// DNs, filters, mapping) as of the last run that applied.
	Scope string `json:"scope,omitempty"`
	// SourceUsers is the number of users the last good run read.
	SourceUsers int `json:"source_users,omitempty"`
}

// LedgerMember is what the ledger knows of one managed member.
type LedgerMember struct {
	// Email is the member's email when last seen, for reports.
	Email string `json:"email"`
	// Since is when dirbridge first managed the member.
	Since time.Time `json:"since"`
	// AbsentSince is the first run that found the member gone from the
	// directory or disabled there, zero while present.
	AbsentSince time.Time `json:"absent_since,omitzero"`
	// AbsentRuns counts the consecutive runs that found it so.
	AbsentRuns int `json:"absent_runs,omitempty"`
	// Revoked is true when the member was revoked as of the last run.
	Revoked bool `json:"revoked,omitempty"`
}

// LedgerGroup is what the ledger knows of one managed group.
type LedgerGroup struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
	// Members are the group's members' external ids, kept only for an
	// organization whose state cannot be read (see StatelessSink).
	Members []string `json:"members,omitempty"`
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{Members: map[string]LedgerMember{}, Groups: map[string]LedgerGroup{}}
}

// ownsMember reports whether the ledger manages the member with this
// external id. A nil ledger owns everything (no state kept).
func (l *Ledger) ownsMember(ext string) bool {
	if l == nil {
		return true
	}
	_, ok := l.Members[ext]
	return ok
}

func (l *Ledger) ownsGroup(ext string) bool {
	if l == nil {
		return true
	}
	_, ok := l.Groups[ext]
	return ok
}

// LedgerUpdate tunes Ledger.Next.
type LedgerUpdate struct {
	// AdoptForeign adopts members with an external id the ledger did not
	// know and the directory does not yield.
	AdoptForeign bool
	// CountAbsence counts this run in the absence of members gone from the
	// directory. False when a guard doubted the directory read.
	CountAbsence bool
	// KeepMemberships records each group's members, for an organization
	// whose state cannot be read.
	KeepMemberships bool
}

// Next returns the ledger after a run that read want and have and carried out
// done (the operations that succeeded), at now. It does not change l; see
// Update.
func (l *Ledger) Next(want Snapshot, have OrgState, done []Op, now time.Time, up LedgerUpdate) *Ledger {
	next := l.Clone()
	if next == nil {
		next = NewLedger()
	}
	next.Update(want, have, done, now, up)
	return next
}

// Update brings the ledger up to date, in place, after a run that read want
// and have and carried out done (the operations that succeeded), at now,
// and reports whether anything changed. Members and groups the directory
// yields are adopted; members it no longer yields, or yields disabled, count
// one more absent run; members and groups no longer in the organization are
// forgotten. It builds no copy of the ledger: the ledger of a large
// directory is tens of megabytes.
func (l *Ledger) Update(want Snapshot, have OrgState, done []Op, now time.Time, up LedgerUpdate) (changed bool) {
	users := make(map[string]*User, len(want.Users))
	for i := range want.Users {
		users[want.Users[i].ExternalID] = &want.Users[i]
	}
	held := make(map[string]bool, len(want.Held))
	for _, id := range want.Held {
		held[id] = true
	}
	// What the run's operations changed, by external id.
	joined := map[string]string{} // invited or linked, with the email
	left := map[string]bool{}     // removed
	revoked := map[string]bool{}  // revoked (true) or restored (false)
	for _, op := range done {
		switch op.Action {
		case ActionInvite, ActionLink:
			joined[op.ExternalID] = op.Email
		case ActionRemove:
			left[op.ExternalID] = true
		case ActionRevoke:
			revoked[op.ExternalID] = true
		case ActionRestore:
			revoked[op.ExternalID] = false
		}
	}
	for ext := range left {
		if _, ok := l.Members[ext]; ok {
			delete(l.Members, ext)
			changed = true
		}
	}
	before := len(l.Members) // members known before this run, still listed
	update := func(ext, email string, isRevoked bool) {
		old, known := l.Members[ext]
		u := users[ext]
		if !known && u == nil && !up.AdoptForeign {
			return // not ours
		}
		entry := old
		if !known {
			entry = LedgerMember{Since: now}
		}
		entry.Email, entry.Revoked = email, isRevoked
		switch {
		case held[ext] || !up.CountAbsence:
			// Present but unusable, or a doubted read: neither absent nor back.
		case u == nil || u.Disabled:
			if entry.AbsentSince.IsZero() {
				entry.AbsentSince = now
			}
			entry.AbsentRuns++
		default:
			entry.AbsentSince, entry.AbsentRuns = time.Time{}, 0
		}
		if !known || entry != old {
			l.Members[ext] = entry
			changed = true
		}
	}
	seen := 0 // members known before this run that are in the organization
	for i := range have.Members {
		m := &have.Members[i]
		if m.ExternalID == "" || left[m.ExternalID] {
			continue
		}
		if _, known := l.Members[m.ExternalID]; known {
			seen++
		}
		isRevoked, ok := revoked[m.ExternalID]
		if !ok {
			isRevoked = m.Status == StatusRevoked
		}
		update(m.ExternalID, m.Email, isRevoked)
	}
	for ext, email := range joined {
		if _, known := l.Members[ext]; known {
			seen++
		}
		update(ext, email, false)
	}
	if seen < before {
		// Some left the organization by hand: forget them.
		present := make(map[string]bool, len(have.Members)+len(joined))
		for i := range have.Members {
			present[have.Members[i].ExternalID] = true
		}
		for ext := range joined {
			present[ext] = true
		}
		for ext := range l.Members {
			if !present[ext] {
				delete(l.Members, ext)
				changed = true
			}
		}
	}
	if l.updateGroups(want, have, done, now, up) {
		changed = true
	}
	return changed
}

// updateGroups brings the ledger's groups up to date, in place.
func (l *Ledger) updateGroups(want Snapshot, have OrgState, done []Op, now time.Time, up LedgerUpdate) (changed bool) {
	groups := make(map[string]string, len(have.Groups))
	for _, g := range have.Groups {
		if g.ExternalID != "" {
			groups[g.ExternalID] = g.Name
		}
	}
	memberships := map[string][]string{}
	for _, op := range done {
		switch op.Action {
		case ActionCreateGroup, ActionUpdateGroup:
			groups[op.ExternalID] = op.Name
		case ActionDeleteGroup:
			delete(groups, op.ExternalID)
		case ActionSetGroupMembers:
			// The members a guard kept stay in the group too.
			members := slices.Clone(op.Members)
			for _, id := range op.KeepIDs {
				if ext, ok := ExternalIDOfLedgerID(id); ok {
					members = append(members, ext)
				}
			}
			slices.Sort(members)
			memberships[op.ExternalID] = slices.Compact(members)
		}
	}
	wantGroups := make(map[string]bool, len(want.Groups))
	for _, g := range want.Groups {
		wantGroups[g.ExternalID] = true
	}
	for ext := range l.Groups {
		if _, ok := groups[ext]; !ok {
			delete(l.Groups, ext)
			changed = true
		}
	}
	for ext, name := range groups {
		old, known := l.Groups[ext]
		if !known && !wantGroups[ext] {
			continue
		}
		entry := old
		if !known {
			entry = LedgerGroup{Since: now}
		}
		entry.Name = name
		if m, ok := memberships[ext]; ok && up.KeepMemberships {
			entry.Members = m
		} else if !up.KeepMemberships {
			entry.Members = nil
		}
		if !known || entry.Name != old.Name || !slices.Equal(entry.Members, old.Members) {
			l.Groups[ext] = entry
			changed = true
		}
	}
	return changed
}

// LedgerIDPrefix starts the ids that Ledger.OrgState gives members and
// groups, whose organization ids are unknown: "ledger:" and the external id.
const LedgerIDPrefix = "ledger:"

func ledgerID(ext string) string { return LedgerIDPrefix + ext }

// ExternalIDOfLedgerID returns the external id behind an id Ledger.OrgState
// made, and false for any other id.
func ExternalIDOfLedgerID(id string) (string, bool) {
	return strings.CutPrefix(id, LedgerIDPrefix)
}

// OrgState returns the organization as the ledger remembers it, for a sink
// that cannot read it (Vaultwarden): every managed member, revoked or not,
// and every managed group with its members. A nil ledger remembers an empty
// organization.
func (l *Ledger) OrgState() OrgState {
	var s OrgState
	if l == nil {
		return s
	}
	for ext, m := range l.Members {
		status := StatusConfirmed
		if m.Revoked {
			status = StatusRevoked
		}
		s.Members = append(s.Members, Member{ID: ledgerID(ext), Email: m.Email, ExternalID: ext, Status: status, Type: TypeUser})
	}
	for ext, g := range l.Groups {
		og := OrgGroup{ID: ledgerID(ext), Name: g.Name, ExternalID: ext, MemberIDs: []string{}}
		for _, m := range g.Members {
			og.MemberIDs = append(og.MemberIDs, ledgerID(m))
		}
		s.Groups = append(s.Groups, og)
	}
	slices.SortFunc(s.Members, func(a, b Member) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	slices.SortFunc(s.Groups, func(a, b OrgGroup) int { return strings.Compare(a.ExternalID, b.ExternalID) })
	return s
}

// Clone returns a deep copy.
func (l *Ledger) Clone() *Ledger {
	if l == nil {
		return nil
	}
	c := *l
	c.Members = maps.Clone(l.Members)
	c.Groups = maps.Clone(l.Groups)
	return &c
}
