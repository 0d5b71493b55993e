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
	return diff(indexSnapshot(want), indexMembers(have), have, opt)
}

// MakePlan normalizes raw and diffs it against have, sharing the index the
// two build and indexing the organization while it normalizes: what a run
// does, in less time than Normalize and Diff apart.
func MakePlan(raw Snapshot, have OrgState, opt Options) (Snapshot, []Note, Plan) {
	done := make(chan memberIndex, 1)
	go func() { done <- indexMembers(have) }()
	n, notes := normalize(raw)
	return n.Snapshot, notes, diff(n, <-done, have, opt)
}

// memberIndex finds the organization's members by external id, and those
// without one by email.
type memberIndex struct {
	byExt    map[string]int32
	unlinked map[string]int32 // lower-case email -> the first member without an external id
	dups     []int32          // members whose external id an earlier member holds
}

func indexMembers(have OrgState) memberIndex {
	x := memberIndex{byExt: make(map[string]int32, len(have.Members)), unlinked: map[string]int32{}}
	for i := range have.Members {
		m := &have.Members[i]
		if m.ExternalID == "" {
			email := strings.ToLower(m.Email)
			if _, dup := x.unlinked[email]; !dup {
				x.unlinked[email] = int32(i)
			}
			continue
		}
		if _, dup := x.byExt[m.ExternalID]; dup {
			x.dups = append(x.dups, int32(i))
			continue
		}
		x.byExt[m.ExternalID] = int32(i)
	}
	return x
}

func diff(want normalized, members memberIndex, have OrgState, opt Options) Plan {
	d := newDiffer(want, have, opt)
	d.memberByExt = members.byExt
	d.members(members)
	d.groups()
	slices.SortStableFunc(d.plan.Ops, compareOps)
	slices.SortStableFunc(d.plan.Notes, func(a, b Note) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Message, b.Message))
	})
	return d.plan
}

// differ holds one Diff's working state. Users and members are known by
// their positions in want.Users and have.Members (int32), which keeps a
// million-user plan to a few maps.
type differ struct {
	want normalized
	have OrgState
	opt  Options

	plan Plan
	// memberByExt maps an external id to the position of the member that
	// holds it.
	memberByExt map[string]int32
	// userMember is, per user, the position of the member the user will be
	// after the plan: matched or linked; -1 when invited, -2 when the user
	// will not be a member (disabled and new, or in conflict).
	userMember []int32
	// matched marks the members a user matched by external id; linked maps
	// the members this plan links to the external id they get.
	matched []bool
	linked  map[int32]string
	// keep marks the members absent from the directory that stay in the
	// organization (revoked, foreign, protected): they keep their groups
	// until removed. keepIDs holds their ids.
	keep    []bool
	keepIDs map[string]int32
	// removals are the positions in plan.Ops of the membership changes that
	// take members out; nameRemoved names those members.
	removals []int

	protected       map[MemberType]bool
	protectedEmails map[string]bool
}

func newDiffer(want normalized, have OrgState, opt Options) *differ {
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
		userMember:      make([]int32, len(want.Users)),
		matched:         make([]bool, len(have.Members)),
		linked:          map[int32]string{},
		keep:            make([]bool, len(have.Members)),
		keepIDs:         map[string]int32{},
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

// members plans invitations, links, revocations, restorations and removals.
func (d *differ) members(x memberIndex) {
	members, users := d.have.Members, d.want.Users
	for _, mi := range x.dups {
		m := &members[mi]
		d.note("duplicate_member_id", m.Email, fmt.Sprintf("external id %q is also held by %s; left alone",
			m.ExternalID, members[x.byExt[m.ExternalID]].Email))
	}

	// Users an external id matches (looked up on every CPU); the others
	// wait for links and invites.
	const noMatch = -3
	parallel(len(users), func(_, lo, hi int) {
		for ui := lo; ui < hi; ui++ {
			if mi, ok := d.memberByExt[users[ui].ExternalID]; ok {
				d.userMember[ui] = mi
			} else {
				d.userMember[ui] = noMatch
			}
		}
	})
	var unmatched []int32
	for ui := range users {
		mi := d.userMember[ui]
		if mi == noMatch {
			unmatched = append(unmatched, int32(ui))
			continue
		}
		d.matched[mi] = true
		d.status(&users[ui], mi)
	}
	d.newUsers(unmatched, x.unlinked)

	for ext, mi := range d.memberByExt {
		if d.owned(ext, mi) && d.manageable(&members[mi]) {
			d.plan.ManagedMembers++
		}
	}
	d.absent(x.dups)
}

// status plans what a user matched to member mi needs: a revocation (or
// removal) when disabled, a restoration when back.
func (d *differ) status(u *User, mi int32) {
	m := &d.have.Members[mi]
	if !strings.EqualFold(m.Email, u.Email) {
		d.note("email_changed", m.Email, fmt.Sprintf("the directory now says %s; the Public API cannot change a member's email, "+
			"so the member keeps %s (the person can change it in their account settings)", u.Email, m.Email))
	}
	switch {
	case u.Disabled:
		d.gone(mi, u.ExternalID, "disabled in directory")
	case m.Status == StatusRevoked:
		d.op(Op{Action: ActionRestore, MemberID: m.ID, Email: m.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "active in directory"})
	}
}

// newUsers links the unmatched users whose email a member without an
// external id has, notes those whose email a member holds under another
// external id, and invites the rest unless disabled.
func (d *differ) newUsers(unmatched []int32, unlinkedByEmail map[string]int32) {
	members, users := d.have.Members, d.want.Users
	// taken maps the emails of the unmatched users to the last member with
	// an external id that holds them.
	taken := map[string]int32{}
	for _, ui := range unmatched {
		if _, ok := unlinkedByEmail[users[ui].Email]; !ok {
			taken[users[ui].Email] = -1
		}
	}
	if len(taken) > 0 {
		for i := range members {
			if members[i].ExternalID == "" {
				continue
			}
			email := strings.ToLower(members[i].Email)
			if _, ok := taken[email]; ok {
				taken[email] = int32(i)
			}
		}
	}
	for _, ui := range unmatched {
		u := &users[ui]
		if mi, ok := unlinkedByEmail[u.Email]; ok {
			delete(unlinkedByEmail, u.Email)
			m := &members[mi]
			d.op(Op{Action: ActionLink, MemberID: m.ID, Email: u.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "matched by email"})
			d.linked[mi] = u.ExternalID
			d.userMember[ui] = mi
			d.status(u, mi)
			continue
		}
		if mi := taken[u.Email]; mi >= 0 {
			d.note("email_conflict", u.Email, fmt.Sprintf("directory user %s has this email, but the member holds external id %q; left alone", u.ExternalID, members[mi].ExternalID))
			d.userMember[ui] = -2
			continue
		}
		if u.Disabled {
			d.userMember[ui] = -2
			continue
		}
		d.op(Op{Action: ActionInvite, Email: u.Email, ExternalID: u.ExternalID, Name: u.Name, Reason: "new in directory"})
		d.userMember[ui] = -1
	}
}

// owned reports whether dirbridge manages member mi, whose external id is
// ext (see Options.Ledger).
func (d *differ) owned(ext string, mi int32) bool {
	return d.opt.AdoptForeign || d.matched[mi] || d.opt.Ledger.ownsMember(ext)
}

// absent plans for the members with an external id that no user matched:
// gone from the directory. Duplicates (dupIDs) only keep their groups.
func (d *differ) absent(dupIDs []int32) {
	members := d.have.Members
	var absent []int32
	emails := map[string]bool{} // their emails: does a directory user have one?
	for ext, mi := range d.memberByExt {
		_ = ext
		if !d.matched[mi] {
			absent = append(absent, mi)
			emails[strings.ToLower(members[mi].Email)] = false
		}
	}
	slices.Sort(absent)
	if len(absent) > 0 {
		for _, u := range d.want.Users {
			if _, ok := emails[u.Email]; ok {
				emails[u.Email] = true
			}
		}
	}
	held := make(map[string]bool, len(d.want.Held))
	for _, id := range d.want.Held {
		held[id] = true
	}
	for _, mi := range dupIDs {
		d.keepMember(mi)
	}
	for _, mi := range absent {
		m := &members[mi]
		d.keepMember(mi)
		switch {
		case held[m.ExternalID]:
			// The directory holds this person but could not use the record.
		case emails[strings.ToLower(m.Email)]:
			// Noted as a conflict: the person is in the directory under
			// another external id. Never take access away for that.
		case !d.owned(m.ExternalID, mi):
			d.note("foreign", m.Email, fmt.Sprintf("external id %q is not one dirbridge manages (another tool's, or from before it); "+
				"left alone (set sync.adopt_foreign: true to manage it)", m.ExternalID))
		default:
			d.gone(mi, m.ExternalID, "not in directory")
		}
	}
}

func (d *differ) keepMember(mi int32) {
	d.keep[mi] = true
	d.keepIDs[d.have.Members[mi].ID] = mi
}

// ext returns the external id member mi has after the plan.
func (d *differ) ext(mi int32) string {
	if ext, ok := d.linked[mi]; ok {
		return ext
	}
	return d.have.Members[mi].ExternalID
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
