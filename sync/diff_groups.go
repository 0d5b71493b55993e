package sync

import (
	"fmt"
	"slices"
	"strings"
)

// groups plans group creations, renames, deletions and memberships.
func (d *differ) groups() {
	orgByExt := make(map[string]int32, len(d.have.Groups))
	for i := range d.have.Groups {
		g := &d.have.Groups[i]
		if g.ExternalID == "" {
			continue
		}
		if _, dup := orgByExt[g.ExternalID]; dup {
			d.note("duplicate_group_id", g.Name, fmt.Sprintf("external id %q is also held by another group; left alone", g.ExternalID))
			continue
		}
		orgByExt[g.ExternalID] = int32(i)
	}
	wanted := make(map[string]bool, len(d.want.Groups))
	for _, g := range d.want.Groups {
		wanted[g.ExternalID] = true
	}
	for ext := range orgByExt {
		if wanted[ext] || d.opt.AdoptForeign || d.opt.Ledger.ownsGroup(ext) {
			d.plan.ManagedGroups++
		}
	}
	// The directory's groups, on every CPU; each worker plans its share.
	planners := make([]*groupPlanner, workers(len(d.want.Groups)))
	parallel(len(d.want.Groups), func(w, lo, hi int) {
		p := &groupPlanner{d: d}
		planners[w] = p
		for gi := lo; gi < hi; gi++ {
			p.group(gi, orgByExt)
		}
	})
	for _, p := range planners {
		for _, oi := range p.removals {
			d.removals = append(d.removals, len(d.plan.Ops)+oi)
		}
		d.plan.Ops = append(d.plan.Ops, p.ops...)
		d.plan.Notes = append(d.plan.Notes, p.notes...)
		d.plan.ManagedMemberships += p.memberships
	}
	for i := range d.have.Groups {
		og := &d.have.Groups[i]
		if og.ExternalID == "" || wanted[og.ExternalID] || orgByExt[og.ExternalID] != int32(i) {
			continue
		}
		switch {
		case !d.opt.AdoptForeign && !d.opt.Ledger.ownsGroup(og.ExternalID):
			d.note("foreign_group", og.Name, fmt.Sprintf("external id %q is not one dirbridge manages; left alone", og.ExternalID))
		case d.opt.ImportOnly:
			d.note("group_not_deleted", og.Name, "gone from the directory, but the import endpoint cannot delete groups; delete it by hand")
		default:
			d.op(Op{Action: ActionDeleteGroup, GroupID: og.ID, ExternalID: og.ExternalID, Name: og.Name, Reason: "not in directory"})
		}
	}
	d.nameRemoved()
}

// groupPlanner plans the directory groups of one worker.
type groupPlanner struct {
	d     *differ
	ops   []Op
	notes []Note
	// removals are the positions in ops of the membership changes that take
	// members out.
	removals    []int
	memberships int
	idBuf       []string
}

func (p *groupPlanner) op(op Op) { p.ops = append(p.ops, op) }

// group plans directory group gi: create it, rename it, set its members.
func (p *groupPlanner) group(gi int, orgByExt map[string]int32) {
	d := p.d
	g := &d.want.Groups[gi]
	desired := d.desired(d.want.members[gi])
	oi, ok := orgByExt[g.ExternalID]
	if !ok {
		p.op(Op{Action: ActionCreateGroup, ExternalID: g.ExternalID, Name: g.Name, Reason: "new in directory"})
		if len(desired) > 0 {
			exts, emails := d.userExts(desired), d.userEmails(desired)
			p.op(Op{Action: ActionSetGroupMembers, ExternalID: g.ExternalID, Name: g.Name, Members: exts, Added: emails, Reason: "new group"})
		}
		return
	}
	og := &d.have.Groups[oi]
	switch {
	case og.Name == g.Name:
	case d.opt.ImportOnly:
		p.notes = append(p.notes, Note{Kind: "group_not_renamed", Subject: og.Name,
			Message: fmt.Sprintf("renamed %q in the directory, but the import endpoint cannot rename groups; rename it by hand", g.Name)})
	default:
		p.op(Op{Action: ActionUpdateGroup, GroupID: og.ID, ExternalID: g.ExternalID, Name: g.Name, OldName: og.Name, Reason: "renamed in directory"})
	}
	p.memberships += len(og.MemberIDs)
	p.membership(og, g.Name, desired)
}

// desired returns the directory group's users (positions) that will be
// members after the plan.
func (d *differ) desired(users []int32) []int32 {
	out := make([]int32, 0, len(users))
	for _, ui := range users {
		if d.userMember[ui] >= -1 {
			out = append(out, ui)
		}
	}
	return out
}

// membership plans a set_group_members when the group's members after the
// plan differ from the desired users'. Members absent from the directory but
// kept in the organization (revoked) keep their place, so that a restore
// gives their access back. It compares member ids, sorted, so it looks no
// member up: a group in step costs a sort and a walk.
func (p *groupPlanner) membership(og *OrgGroup, name string, desired []int32) {
	d := p.d
	ids := p.idBuf[:0]
	var invited []int32
	for _, ui := range desired {
		if mi := d.userMember[ui]; mi >= 0 {
			ids = append(ids, d.have.Members[mi].ID)
		} else {
			invited = append(invited, ui)
		}
	}
	slices.Sort(ids)
	p.idBuf = ids
	have := og.MemberIDs
	if !slices.IsSorted(have) {
		have = slices.Sorted(slices.Values(have))
	}
	// Walk both: ids only in have leave the group unless kept; ids only in
	// ids join it.
	var removedIDs []string
	var kept []int32
	added := len(invited)
	i, j := 0, 0
	for i < len(have) || j < len(ids) {
		switch {
		case j == len(ids) || (i < len(have) && have[i] < ids[j]):
			if mi, ok := d.keepIDs[have[i]]; ok {
				kept = append(kept, mi)
			} else {
				removedIDs = append(removedIDs, have[i])
			}
			i++
		case i == len(have) || ids[j] < have[i]:
			added++
			j++
		default:
			i++
			j++
		}
	}
	if added == 0 && len(removedIDs) == 0 {
		return
	}
	members := make([]string, 0, len(desired)+len(kept))
	var addedEmails []string
	inGroup := make(map[string]bool, len(have))
	for _, id := range have {
		inGroup[id] = true
	}
	for _, ui := range desired {
		u := &d.want.Users[ui]
		members = append(members, u.ExternalID)
		if mi := d.userMember[ui]; mi < 0 || !inGroup[d.have.Members[mi].ID] {
			addedEmails = append(addedEmails, u.Email)
		}
	}
	for _, mi := range kept {
		members = append(members, d.ext(mi))
	}
	slices.Sort(members)
	members = slices.Compact(members)
	slices.Sort(addedEmails)
	p.op(Op{Action: ActionSetGroupMembers, GroupID: og.ID, ExternalID: og.ExternalID, Name: name, Members: members,
		Added: addedEmails, RemovedIDs: removedIDs, Reason: "membership changed"})
	if len(removedIDs) > 0 {
		p.removals = append(p.removals, len(p.ops)-1)
	}
}

// nameRemoved fills in the emails of the members the plan's membership
// changes take out, in one pass over the organization's members rather than
// a lookup table of them all.
func (d *differ) nameRemoved() {
	if len(d.removals) == 0 {
		return
	}
	emails := map[string]string{}
	for _, oi := range d.removals {
		for _, id := range d.plan.Ops[oi].RemovedIDs {
			emails[id] = "member " + id // not in the organization's list
		}
	}
	for i := range d.have.Members {
		m := &d.have.Members[i]
		if _, ok := emails[m.ID]; ok {
			emails[m.ID] = strings.ToLower(m.Email)
		}
	}
	for _, oi := range d.removals {
		op := &d.plan.Ops[oi]
		op.Removed = make([]string, len(op.RemovedIDs))
		for i, id := range op.RemovedIDs {
			op.Removed[i] = emails[id]
		}
		slices.Sort(op.Removed)
	}
}

// userExts returns the users' external ids, sorted.
func (d *differ) userExts(users []int32) []string {
	out := make([]string, len(users))
	for i, ui := range users {
		out[i] = d.want.Users[ui].ExternalID
	}
	slices.Sort(out)
	return out
}

// userEmails returns the users' emails, sorted.
func (d *differ) userEmails(users []int32) []string {
	out := make([]string, len(users))
	for i, ui := range users {
		out[i] = d.want.Users[ui].Email
	}
	slices.Sort(out)
	return out
}
