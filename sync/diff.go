package sync

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OnMissing says what happens to a managed member who is gone from the
// directory or disabled there.
type OnMissing string

// The lifecycles a member can follow when they leave the directory.
const (
	// MissingRevoke revokes the member: reversible, frees the seat, keeps
	// their groups, and restored if they come back. The default.
	MissingRevoke OnMissing = "revoke"
	// MissingRemove removes the member from the organization.
	MissingRemove OnMissing = "remove"
	// MissingIgnore leaves the member alone.
	MissingIgnore OnMissing = "ignore"
)

// Options tunes Diff.
type Options struct {
	// OnMissing is what happens to members gone from the directory.
	// Users disabled in the directory are revoked unless it is
	// MissingIgnore. Default MissingRevoke.
	OnMissing OnMissing
	// ProtectedRoles are roles that are never revoked or removed. Nil means
	// DefaultProtectedRoles.
	ProtectedRoles []MemberType
	// ProtectedEmails lists members (by lower-case email) never touched.
	ProtectedEmails []string
	// Ledger is what dirbridge manages, from earlier runs. A member or group
	// with an external id that is neither in the ledger nor yielded by the
	// directory is foreign: reported and left alone. Nil treats every
	// external id as managed and removes without a grace period.
	Ledger *Ledger
	// AdoptForeign manages foreign members and groups too.
	AdoptForeign bool
	// RemoveAfter and RemoveAfterRuns are the grace period of
	// MissingRemove: an absent (or disabled) member is revoked at once and
	// removed only once it has been absent for RemoveAfter and for
	// RemoveAfterRuns consecutive runs (each condition applies when it is
	// set; with neither, removal is immediate).
	RemoveAfter     time.Duration
	RemoveAfterRuns int
	// Now is the time of the run, for the grace period.
	Now time.Time
	// ImportOnly plans for an organization reached only through the import
	// endpoint (Vaultwarden), which can revoke but not remove members and
	// never deletes groups: removals become revocations and group deletions
	// are reported instead.
	ImportOnly bool
}

// DefaultProtectedRoles are the roles dirbridge never revokes or removes:
// everyone but plain users.
var DefaultProtectedRoles = []MemberType{TypeOwner, TypeAdmin, TypeCustom}

// Diff returns the plan that brings have in step with want. want must be
// normalized (see Normalize). Diff is pure: the same inputs always give the
// same plan, in the same order.
//
// Members are matched by external id. A member without an external id whose
// email matches a directory user is linked to that user instead of being
// invited again. Members without an external id that match nobody are never
// changed. Groups are managed only when their external id is one the
// directory produced or, for deletion, when they carry an external id at all;
// groups without one are never touched.
func Diff(want Snapshot, have OrgState, opt Options) Plan {
	d := newDiffer(want, have, opt)
	d.members()
	d.groups()
	slices.SortStableFunc(d.plan.Ops, compareOps)
	slices.SortStableFunc(d.plan.Notes, func(a, b Note) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Message, b.Message))
	})
	return d.plan
}

type differ struct {
	want Snapshot
	have OrgState
	opt  Options

	plan Plan
	// memberByExt maps an external id to the member that holds it (after
	// this plan's links).
	memberByExt map[string]*Member
	// extOf maps a member id to the external id it has after this plan.
	extOf map[string]string
	// inOrg holds the user external ids that will name a member once the
	// plan has run (matched, linked or invited), with that member's id (""
	// for an invite).
	inOrg map[string]string
	// keepGroups holds the external ids of members who stay in the
	// organization without being in the directory (revoked while absent):
	// they keep their group memberships until they are removed.
	keepGroups map[string]bool
	// keepIDs holds the member ids of those members.
	keepIDs         map[string]bool
	emailOf         map[string]string // user or member external id -> email
	protected       map[MemberType]bool
	protectedEmails map[string]bool
	// owned reports whether dirbridge manages the member with this
	// external id (see Options.Ledger).
	owned func(ext string) bool
	// memberByID maps a member id to its member; built on first use.
	memberByID map[string]*Member
	// wantSet and haveSet are membership's sets, reused from one group to
	// the next while groups are small: a map per group is most of the
	// allocation of a plan for 50,000 groups. extBuf and idBuf are
	// desired's.
	wantSet, haveSet map[string]bool
	extBuf, idBuf    []string
}

func newDiffer(want Snapshot, have OrgState, opt Options) *differ {
	if opt.OnMissing == "" {
		opt.OnMissing = MissingRevoke
	}
	roles := opt.ProtectedRoles
	if roles == nil {
		roles = DefaultProtectedRoles
	}
	d := &differ{
		want:            want,
		have:            have,
		opt:             opt,
		memberByExt:     make(map[string]*Member, len(have.Members)),
		extOf:           make(map[string]string, len(have.Members)),
		inOrg:           make(map[string]string, len(want.Users)),
		keepGroups:      make(map[string]bool),
		keepIDs:         make(map[string]bool),
		emailOf:         make(map[string]string, len(want.Users)),
		protected:       make(map[MemberType]bool, len(roles)),
		protectedEmails: make(map[string]bool, len(opt.ProtectedEmails)),
	}
	for _, r := range roles {
		d.protected[r] = true
	}
	for _, e := range opt.ProtectedEmails {
		d.protectedEmails[strings.ToLower(strings.TrimSpace(e))] = true
	}
	d.plan.SourceUsers = len(want.Users)
	d.plan.SourceGroups = len(want.Groups)
	return d
}

func (d *differ) members() {
	members := d.have.Members
	wantUser := make(map[string]bool, len(d.want.Users))
	for _, u := range d.want.Users {
		wantUser[u.ExternalID] = true
	}
	d.owned = func(ext string) bool { return d.opt.AdoptForeign || wantUser[ext] || d.opt.Ledger.ownsMember(ext) }
	unlinkedByEmail := make(map[string]*Member)
	emailTaken := make(map[string]*Member, len(members))
	for i := range members {
		m := &members[i]
		email := strings.ToLower(m.Email)
		if m.ExternalID == "" {
			if _, dup := unlinkedByEmail[email]; !dup {
				unlinkedByEmail[email] = m
			}
			continue
		}
		d.extOf[m.ID] = m.ExternalID
		if prev, dup := d.memberByExt[m.ExternalID]; dup {
			d.note("duplicate_member_id", m.Email, fmt.Sprintf("external id %q is also held by %s; left alone", m.ExternalID, prev.Email))
			continue
		}
		d.memberByExt[m.ExternalID] = m
		emailTaken[email] = m
		if d.owned(m.ExternalID) && d.manageable(m) {
			d.plan.ManagedMembers++
		}
	}

	for _, u := range d.want.Users {
		d.emailOf[u.ExternalID] = u.Email
		m := d.memberByExt[u.ExternalID]
		if m == nil {
			if um := unlinkedByEmail[u.Email]; um != nil {
				delete(unlinkedByEmail, u.Email)
				m = um
				d.op(Op{Action: ActionLink, MemberID: m.ID, Email: u.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "matched by email"})
				d.extOf[m.ID] = u.ExternalID
				d.memberByExt[u.ExternalID] = m
			}
		}
		if m == nil {
			if other := emailTaken[u.Email]; other != nil {
				d.note("email_conflict", u.Email, fmt.Sprintf("directory user %s has this email, but the member holds external id %q; left alone", u.ExternalID, other.ExternalID))
				continue
			}
			if u.Disabled {
				continue
			}
			d.op(Op{Action: ActionInvite, Email: u.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "new in directory"})
			d.inOrg[u.ExternalID] = ""
			continue
		}
		d.inOrg[u.ExternalID] = m.ID
		switch {
		case u.Disabled:
			d.gone(m, u.ExternalID, "disabled in directory")
		case m.Status == StatusRevoked:
			d.op(Op{Action: ActionRestore, MemberID: m.ID, Email: m.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "active in directory"})
		}
	}

	// The members no user matched (by external id, so not by a link):
	// absent from the directory. wantEmail tells which of their emails a
	// directory user has.
	var absent []*Member
	wantEmail := map[string]bool{}
	for i := range members {
		m := &members[i]
		if m.ExternalID == "" || wantUser[m.ExternalID] || d.memberByExt[m.ExternalID] != m {
			continue
		}
		absent = append(absent, m)
		wantEmail[strings.ToLower(m.Email)] = false
	}
	if len(absent) > 0 {
		for _, u := range d.want.Users {
			if _, ok := wantEmail[u.Email]; ok {
				wantEmail[u.Email] = true
			}
		}
	}
	held := make(map[string]bool, len(d.want.Held))
	for _, id := range d.want.Held {
		held[id] = true
	}
	for _, m := range absent {
		email := strings.ToLower(m.Email)
		d.emailOf[m.ExternalID] = email
		d.keepGroups[m.ExternalID] = true
		d.keepIDs[m.ID] = true
		switch {
		case held[m.ExternalID]:
			// The directory holds this person but could not use the record.
		case wantEmail[email]:
			// Noted above as a conflict: the person is in the directory
			// under another external id. Never take access away for that.
		case !d.owned(m.ExternalID):
			d.note("foreign", m.Email, fmt.Sprintf("external id %q is not one dirbridge manages (another tool's, or from before it); "+
				"left alone (set sync.adopt_foreign: true to manage it)", m.ExternalID))
		default:
			d.gone(m, m.ExternalID, "not in directory")
		}
	}
}

// gone plans what happens to a managed member who is disabled in the
// directory or absent from it, by the OnMissing lifecycle. Protected members
// are left alone with a note.
func (d *differ) gone(m *Member, extID, reason string) {
	switch {
	case d.opt.OnMissing == MissingIgnore:
	case !d.manageable(m):
		if m.Status != StatusRevoked || d.opt.OnMissing == MissingRemove {
			d.protectedNote(m, reason)
		}
	case d.opt.OnMissing == MissingRemove && d.opt.ImportOnly && m.Status == StatusRevoked:
		// Revoked, and the import cannot remove: nothing more to do.
	case d.opt.OnMissing == MissingRemove && !d.opt.ImportOnly && d.removalDue(extID):
		delete(d.keepGroups, extID)
		delete(d.keepIDs, m.ID)
		d.op(Op{Action: ActionRemove, MemberID: m.ID, Email: m.Email, ExternalID: extID, Name: m.Name, Reason: reason})
	case m.Status != StatusRevoked:
		if d.opt.OnMissing == MissingRemove && !d.opt.ImportOnly {
			reason += "; removal after the grace period"
		}
		d.op(Op{Action: ActionRevoke, MemberID: m.ID, Email: m.Email, ExternalID: extID, Name: m.Name, Reason: reason})
	default:
		if d.opt.OnMissing == MissingRemove {
			d.note("removal_pending", m.Email, "revoked; "+d.removalWhen(extID))
		}
	}
}

// removalDue reports whether a member absent (or disabled) has served the
// grace period of MissingRemove, counting this run.
func (d *differ) removalDue(ext string) bool {
	if d.opt.Ledger == nil || (d.opt.RemoveAfter <= 0 && d.opt.RemoveAfterRuns <= 0) {
		return true
	}
	entry, ok := d.opt.Ledger.Members[ext]
	if !ok || entry.AbsentSince.IsZero() {
		return false // absent from this run on
	}
	if d.opt.RemoveAfter > 0 && d.opt.Now.Sub(entry.AbsentSince) < d.opt.RemoveAfter {
		return false
	}
	return d.opt.RemoveAfterRuns <= 0 || entry.AbsentRuns+1 >= d.opt.RemoveAfterRuns
}

// removalWhen says when a revoked member will be removed.
func (d *differ) removalWhen(ext string) string {
	entry := d.opt.Ledger.Members[ext]
	since := entry.AbsentSince
	if since.IsZero() {
		since = d.opt.Now
	}
	var parts []string
	if d.opt.RemoveAfter > 0 {
		parts = append(parts, "from "+since.Add(d.opt.RemoveAfter).UTC().Format(time.RFC3339))
	}
	if d.opt.RemoveAfterRuns > 0 {
		parts = append(parts, fmt.Sprintf("after %d more run(s)", max(d.opt.RemoveAfterRuns-entry.AbsentRuns-1, 1)))
	}
	return "to be removed " + strings.Join(parts, " and ")
}

// manageable reports whether dirbridge may revoke or remove m.
func (d *differ) manageable(m *Member) bool {
	return !d.protected[m.Type] && (len(d.protectedEmails) == 0 || !d.protectedEmails[strings.ToLower(m.Email)])
}

func (d *differ) protectedNote(m *Member, reason string) {
	why := m.Type.String() + " role is protected"
	if d.protectedEmails[strings.ToLower(m.Email)] {
		why = "listed in protect.emails"
	}
	d.note("protected", m.Email, fmt.Sprintf("%s; left alone (%s)", reason, why))
}

func (d *differ) groups() {
	orgByExt := make(map[string]*OrgGroup, len(d.have.Groups))
	for i := range d.have.Groups {
		g := &d.have.Groups[i]
		if g.ExternalID == "" {
			continue
		}
		if _, dup := orgByExt[g.ExternalID]; dup {
			d.note("duplicate_group_id", g.Name, fmt.Sprintf("external id %q is also held by another group; left alone", g.ExternalID))
			continue
		}
		orgByExt[g.ExternalID] = g
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
	for _, g := range d.want.Groups {
		og := orgByExt[g.ExternalID]
		if og == nil {
			desired, _ := d.desired(g.Members)
			desired = slices.Clone(desired)
			d.op(Op{Action: ActionCreateGroup, ExternalID: g.ExternalID, Name: g.Name, Reason: "new in directory"})
			if len(desired) > 0 {
				slices.Sort(desired)
				d.op(Op{Action: ActionSetGroupMembers, ExternalID: g.ExternalID, Name: g.Name, Members: desired, Added: d.emails(desired), Reason: "new group"})
			}
			continue
		}
		if og.Name != g.Name {
			d.op(Op{Action: ActionUpdateGroup, GroupID: og.ID, ExternalID: g.ExternalID, Name: g.Name, OldName: og.Name, Reason: "renamed in directory"})
		}
		d.membership(og, g.Name, g.Members)
	}
	for i := range d.have.Groups {
		og := &d.have.Groups[i]
		if og.ExternalID == "" || wanted[og.ExternalID] || orgByExt[og.ExternalID] != og {
			continue
		}
		if !d.opt.AdoptForeign && !d.opt.Ledger.ownsGroup(og.ExternalID) {
			d.note("foreign_group", og.Name, fmt.Sprintf("external id %q is not one dirbridge manages; left alone", og.ExternalID))
			continue
		}
		if d.opt.ImportOnly {
			d.note("group_not_deleted", og.Name, "gone from the directory, but the import endpoint cannot delete groups; delete it by hand")
			continue
		}
		d.op(Op{Action: ActionDeleteGroup, GroupID: og.ID, ExternalID: og.ExternalID, Name: og.Name, Reason: "not in directory"})
	}
}

// membership plans a set_group_members when the group's members after the
// plan differ from the desired ones: those of the directory group's members
// (user external ids) that will be in the organization. Members absent from
// the directory but kept in the organization (revoked) keep their place, so
// that a restore gives their access back.
func (d *differ) membership(og *OrgGroup, name string, dirMembers []string) {
	d.plan.ManagedMemberships += len(og.MemberIDs)
	desired, ids := d.desired(dirMembers)
	if d.holdsExactly(og.MemberIDs, ids) {
		return
	}
	want, have := d.sets(len(desired) + len(og.MemberIDs))
	for _, id := range desired {
		want[id] = true
	}
	var removed, removedIDs []string
	for _, mid := range og.MemberIDs {
		ext, ok := d.extOf[mid]
		switch {
		case ok && d.keepGroups[ext]:
			want[ext] = true
			have[ext] = true
		case ok:
			have[ext] = true
			if !want[ext] {
				removed = append(removed, d.emailOf[ext])
				removedIDs = append(removedIDs, mid)
			}
		default:
			// A member without an external id (added by hand) or not in the
			// organization's list: it leaves the managed group.
			email := "member " + mid
			if m := d.member(mid); m != nil {
				email = strings.ToLower(m.Email)
			}
			removed = append(removed, email)
			removedIDs = append(removedIDs, mid)
		}
	}
	var added []string
	for id := range want {
		if !have[id] {
			added = append(added, d.emailOf[id])
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	members := make([]string, 0, len(want))
	for id := range want {
		members = append(members, id)
	}
	slices.Sort(members)
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(removedIDs)
	d.op(Op{Action: ActionSetGroupMembers, GroupID: og.ID, ExternalID: og.ExternalID, Name: name, Members: members,
		Added: added, Removed: removed, RemovedIDs: removedIDs, Reason: "membership changed"})
}

// desired returns the directory group members (user external ids) that
// will be in the organization, and the ids of their members ("" for one
// this plan invites). Both slices are reused by the next call.
func (d *differ) desired(dirMembers []string) (exts, ids []string) {
	exts, ids = d.extBuf[:0], d.idBuf[:0]
	for _, ext := range dirMembers {
		if id, ok := d.inOrg[ext]; ok {
			exts, ids = append(exts, ext), append(ids, id)
		}
	}
	d.extBuf, d.idBuf = exts, ids
	return exts, ids
}

// holdsExactly reports whether a group's member ids (sorted, as sinks
// read them) are exactly ids, which it sorts, and members kept while absent
// from the directory: the common case of a group in step, found without
// looking every member up by id. False means "look closer", not "changed".
func (d *differ) holdsExactly(have, ids []string) bool {
	if len(have) < len(ids) || slices.Contains(ids, "") {
		return false
	}
	slices.Sort(ids)
	j := 0
	for _, id := range have {
		switch {
		case j < len(ids) && id == ids[j]:
			j++
		case !d.keepIDs[id]:
			return false
		}
	}
	return j == len(ids)
}

// sets returns two empty sets for a group of about n members: the reused
// ones while n is small, else new ones.
func (d *differ) sets(n int) (want, have map[string]bool) {
	const reuseUpTo = 1024
	if n > reuseUpTo {
		return make(map[string]bool, n), make(map[string]bool, n)
	}
	if d.wantSet == nil {
		d.wantSet, d.haveSet = make(map[string]bool), make(map[string]bool)
	}
	clear(d.wantSet)
	clear(d.haveSet)
	return d.wantSet, d.haveSet
}

// member returns the organization's member with the id, or nil.
func (d *differ) member(id string) *Member {
	if d.memberByID == nil {
		d.memberByID = make(map[string]*Member, len(d.have.Members))
		for i := range d.have.Members {
			d.memberByID[d.have.Members[i].ID] = &d.have.Members[i]
		}
	}
	return d.memberByID[id]
}

func (d *differ) emails(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = d.emailOf[id]
	}
	slices.Sort(out)
	return out
}

func (d *differ) op(op Op) { d.plan.Ops = append(d.plan.Ops, op) }

func (d *differ) note(kind, subject, msg string) {
	d.plan.Notes = append(d.plan.Notes, Note{Kind: kind, Subject: subject, Message: msg})
}

// compareOps orders a plan: by action (see the Action constants), then by
// the member's email or the group's name, then by external id.
func compareOps(a, b Op) int {
	return cmp.Or(
		cmp.Compare(a.Action, b.Action),
		strings.Compare(a.Subject(), b.Subject()),
		strings.Compare(a.ExternalID, b.ExternalID),
	)
}
