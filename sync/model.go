package sync

// User is one person as the directory describes them.
type User struct {
	// ExternalID is the directory's stable identifier for the person
	// (entryUUID, objectGUID, a JumpCloud or SCIM id). It is the join key.
	ExternalID string
	// Email is the address the person is invited with. Normalize trims and
	// lower-cases it.
	Email string
	// Name is the display name, used only in reports.
	Name string
	// Disabled is true when the directory keeps the person but has switched
	// them off (a locked, suspended or deactivated account).
	Disabled bool
	// Source names the directory entry the user came from (a DN, a record
	// number, an id) so that warnings can point at it. Optional.
	Source string
}

// Group is one directory group, with its members flattened: nested groups are
// resolved by the source, so Members holds user external ids only.
type Group struct {
	// ExternalID is the directory's stable identifier for the group.
	ExternalID string
	// Name is the group's name. Normalize shortens it to MaxGroupNameLen.
	Name string
	// Members holds the external ids of the users in the group.
	Members []string
	// Source names the directory entry the group came from. Optional.
	Source string
}

// Snapshot is everything a directory wants the organization to hold: every
// in-scope user and group, read completely.
type Snapshot struct {
	Users  []User
	Groups []Group
	// Held lists the external ids of users the directory holds but that
	// cannot be provisioned (no valid email, a duplicate email). Sources
	// may add entries they read but could not map. The diff never revokes
	// or removes the members these ids name: a record dirbridge could not
	// use is not a person who left.
	Held []string
}

// MemberStatus is a Bitwarden organization member's status, with the numbers
// the Public API uses on the wire.
type MemberStatus int

// The member statuses (OrganizationUserStatusType).
const (
	StatusRevoked   MemberStatus = -1
	StatusInvited   MemberStatus = 0
	StatusAccepted  MemberStatus = 1
	StatusConfirmed MemberStatus = 2
	StatusStaged    MemberStatus = 3
)

// String returns the status's name in lower case.
func (s MemberStatus) String() string {
	switch s {
	case StatusRevoked:
		return "revoked"
	case StatusInvited:
		return "invited"
	case StatusAccepted:
		return "accepted"
	case StatusConfirmed:
		return "confirmed"
	case StatusStaged:
		return "staged"
	}
	return "unknown"
}

// MemberType is a member's role in the organization, with the Public API's
// numbers.
type MemberType int

// The member roles (OrganizationUserType). 3 (Manager) no longer exists.
const (
	TypeOwner  MemberType = 0
	TypeAdmin  MemberType = 1
	TypeUser   MemberType = 2
	TypeCustom MemberType = 4
)

// String returns the role's name in lower case.
func (t MemberType) String() string {
	switch t {
	case TypeOwner:
		return "owner"
	case TypeAdmin:
		return "admin"
	case TypeUser:
		return "user"
	case TypeCustom:
		return "custom"
	}
	return "unknown"
}

// Member is one membership of the organization as the Public API reports it.
type Member struct {
	// ID is the organization-user id used in every member URL.
	ID string
	// Email is the account's email, or the invitation's while invited.
	Email string
	// Name is the account's name, empty while invited.
	Name string
	// ExternalID links the member to a directory entry; empty for members
	// added by hand.
	ExternalID string
	Status     MemberStatus
	Type       MemberType
}

// OrgGroup is one group of the organization.
type OrgGroup struct {
	ID         string
	Name       string
	ExternalID string
	// MemberIDs holds the organization-user ids in the group. Sinks fill it
	// for groups that have an external id; it is nil for the others.
	MemberIDs []string
}

// OrgState is what the organization holds now.
type OrgState struct {
	Members []Member
	Groups  []OrgGroup
}
