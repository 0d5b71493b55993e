package sync

import (
	"fmt"
	"strings"
)

// Action is the kind of one operation. Each maps onto exactly one Bitwarden
// Public API call, so a plan reads as what will happen.
type Action int

// The actions, in the order a plan carries them out: links first so that
// members are known by external id, then everything that adds, then
// membership, and the destructive actions last.
const (
	ActionLink            Action = iota + 1 // PUT /public/members/{id} with the external id set
	ActionRestore                           // POST /public/members/{id}/restore
	ActionInvite                            // POST /public/members
	ActionCreateGroup                       // POST /public/groups
	ActionUpdateGroup                       // PUT /public/groups/{id} (rename)
	ActionSetGroupMembers                   // PUT /public/groups/{id}/member-ids
	ActionRevoke                            // POST /public/members/{id}/revoke
	ActionRemove                            // DELETE /public/members/{id}
	ActionDeleteGroup                       // DELETE /public/groups/{id}
)

// Actions lists every action in plan order.
var Actions = []Action{
	ActionInvite, ActionLink, ActionRevoke, ActionRestore, ActionRemove,
	ActionCreateGroup, ActionUpdateGroup, ActionDeleteGroup, ActionSetGroupMembers,
}

var actionNames = map[Action]string{
	ActionInvite:          "invite",
	ActionLink:            "link",
	ActionRevoke:          "revoke",
	ActionRestore:         "restore",
	ActionRemove:          "remove",
	ActionCreateGroup:     "create_group",
	ActionUpdateGroup:     "update_group",
	ActionDeleteGroup:     "delete_group",
	ActionSetGroupMembers: "set_group_members",
}

// String returns the action's name as it appears in plans and metrics.
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// ParseAction returns the action with the given name.
func ParseAction(s string) (Action, error) {
	for a, name := range actionNames {
		if name == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown action %q", s)
}

// IsGroup reports whether the action changes a group rather than a member.
func (a Action) IsGroup() bool {
	switch a {
	case ActionCreateGroup, ActionUpdateGroup, ActionDeleteGroup, ActionSetGroupMembers:
		return true
	}
	return false
}

// Destructive reports whether the action takes access away: it is what the
// safety guards hold back.
func (a Action) Destructive() bool {
	switch a {
	case ActionRevoke, ActionRemove, ActionDeleteGroup:
		return true
	}
	return false
}

// Op is one operation of a plan.
type Op struct {
	Action Action
	// MemberID is the organization-user id of the member a link, revoke,
	// restore or remove acts on. Empty for an invite.
	MemberID string
	// Email is the member's email (member actions only).
	Email string
	// ExternalID is the member's external id for member actions, the
	// group's for group actions.
	ExternalID string
	// Name is the user's display name for member actions; for group
	// actions, the group's name (the new one, for an update).
	Name string
	// OldName is a renamed group's current name.
	OldName string
	// GroupID is the organization's id of the group; empty for a group
	// created in the same plan, which the sink finds by external id.
	GroupID string
	// Members is, for set_group_members, the external ids of every user the
	// group must hold afterwards, sorted.
	Members []string
	// Added and Removed are, for set_group_members, the emails of the members
	// the change adds and takes out, sorted. They are for reports and guards.
	Added   []string
	Removed []string
	// RemovedIDs are the organization ids of the members the change takes
	// out of the group (set_group_members).
	RemovedIDs []string
	// KeepIDs are organization member ids the group keeps whatever Members
	// says: set when a guard holds a membership change's removals back.
	KeepIDs []string
	// Reason says why the operation is planned, in a few words.
	Reason string
	// Bulk is true when the operation goes through the organization import
	// endpoint in a batch rather than its own request (see MarkBulk).
	Bulk bool
}

// Subject names what the operation acts on: the email for a member, the
// group's name for a group.
func (op Op) Subject() string {
	if op.Action.IsGroup() {
		return op.Name
	}
	return op.Email
}

// Note records something the plan leaves alone on purpose, and why: a
// protected role, a conflict, a record the source could not use.
type Note struct {
	// Kind is a short machine-readable tag, such as "protected" or
	// "email_conflict".
	Kind string
	// Subject names the member, group or directory entry concerned.
	Subject string
	// Message explains, for a person.
	Message string
}

func (n Note) String() string {
	return n.Subject + ": " + n.Message
}

// Plan is the ordered list of operations that brings the organization in
// step with the directory, plus what the diff left alone and the figures the
// guards need.
type Plan struct {
	Ops   []Op
	Notes []Note
	// SourceUsers is the number of users in the (normalized) snapshot.
	SourceUsers int
	// SourceGroups is the number of groups in the snapshot.
	SourceGroups int
	// ManagedMembers is the number of organization members the diff
	// considers its own: members with an external id it may change.
	ManagedMembers int
	// ManagedGroups is the number of organization groups it considers its own.
	ManagedGroups int
	// ManagedMemberships is the number of memberships in those groups.
	ManagedMemberships int
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Ops) == 0 }

// Counts returns the number of operations for every action, zeros included.
func (p Plan) Counts() map[Action]int {
	c := make(map[Action]int, len(Actions))
	for _, a := range Actions {
		c[a] = 0
	}
	for _, op := range p.Ops {
		c[op.Action]++
	}
	return c
}

// Summary is the one-line count of a plan: "invite 3, revoke 1" or "no changes".
func (p Plan) Summary() string {
	if p.Empty() {
		return "no changes"
	}
	counts := p.Counts()
	var parts []string
	for _, a := range Actions {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, counts[a]))
		}
	}
	return strings.Join(parts, ", ")
}
