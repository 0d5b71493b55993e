package bwemu

import "time"

// The member statuses on the wire (OrganizationUserStatusType).
const (
	StatusRevoked   = -1
	StatusInvited   = 0
	StatusAccepted  = 1
	StatusConfirmed = 2
	StatusStaged    = 3
)

// The member types on the wire (OrganizationUserType); 3 no longer exists.
const (
	TypeOwner  = 0
	TypeAdmin  = 1
	TypeUser   = 2
	TypeCustom = 4
)

// Org is the whole state of the emulated organization, and the JSON format of
// seeds and dumps. Seed replaces the state with it; Dump returns a deep copy.
type Org struct {
	// Organization holds the organization's settings. In a seed every field
	// is optional; a field left out keeps its current value.
	Organization OrgInfo `json:"organization"`
	// Collections lists the collections members and groups may be given.
	Collections []Collection `json:"collections"`
	// Members lists the memberships in listing order.
	Members []Member `json:"members"`
	// Groups lists the groups in listing order.
	Groups []Group `json:"groups"`
}

// OrgInfo is the organization's settings. Nil pointers (and empty strings) in
// a seed keep the server's current value, which starts from Options.
type OrgInfo struct {
	// ID is the organization GUID.
	ID string `json:"id,omitempty"`
	// Name is the organization's name.
	Name string `json:"name,omitempty"`
	// Seats is the seat count; null in a dump means unlimited.
	Seats *int `json:"seats"`
	// MaxAutoscaleSeats caps autoscaling on cloud; null means no cap.
	MaxAutoscaleSeats *int `json:"maxAutoscaleSeats"`
	// Storage is the storage in GB reported by the subscription endpoint.
	Storage *int `json:"storage,omitempty"`
	// SelfHosted switches self-hosted behaviour (no autoscale, no import
	// cap, no subscription endpoint, no rate limits).
	SelfHosted *bool `json:"selfHosted,omitempty"`
	// UseGroups is the plan's groups feature.
	UseGroups *bool `json:"useGroups,omitempty"`
	// UseDirectory is the plan's directory-sync feature.
	UseDirectory *bool `json:"useDirectory,omitempty"`
}

// Collection is one collection of the organization.
type Collection struct {
	ID string `json:"id"`
}

// CollectionAccess is one collection a member or group can reach, as the API
// writes it.
type CollectionAccess struct {
	ID            string `json:"id"`
	ReadOnly      bool   `json:"readOnly"`
	HidePasswords bool   `json:"hidePasswords"`
	Manage        bool   `json:"manage"`
}

// Permissions is a Custom member's permissions (PermissionsModel).
type Permissions struct {
	AccessEventLogs      bool `json:"accessEventLogs"`
	AccessImportExport   bool `json:"accessImportExport"`
	AccessReports        bool `json:"accessReports"`
	CreateNewCollections bool `json:"createNewCollections"`
	EditAnyCollection    bool `json:"editAnyCollection"`
	DeleteAnyCollection  bool `json:"deleteAnyCollection"`
	ManageGroups         bool `json:"manageGroups"`
	ManagePolicies       bool `json:"managePolicies"`
	ManageSso            bool `json:"manageSso"`
	ManageUsers          bool `json:"manageUsers"`
	ManageResetPassword  bool `json:"manageResetPassword"`
	ManageScim           bool `json:"manageScim"`
	ManageAccessRules    bool `json:"manageAccessRules"`
}

// Member is one membership. In a seed, ID is generated when empty, UserID is
// generated for members that have a user account (Accepted, Confirmed, or
// Revoked from one of those) and forced empty for Invited and Staged ones,
// and HasMasterPassword defaults to true for members with a user account.
type Member struct {
	ID     string `json:"id"`
	UserID string `json:"userId,omitempty"`
	Email  string `json:"email"`
	Name   string `json:"name,omitempty"`
	// Status is one of the Status constants.
	Status int `json:"status"`
	// Type is one of the Type constants.
	Type       int    `json:"type"`
	ExternalID string `json:"externalId,omitempty"`
	// Collections are the member's own collection grants.
	Collections []CollectionAccess `json:"collections,omitempty"`
	// Groups holds ids of groups the member belongs to; it is merged with
	// Group.MemberIDs.
	Groups                []string     `json:"groups,omitempty"`
	Permissions           *Permissions `json:"permissions,omitempty"`
	TwoFactorEnabled      bool         `json:"twoFactorEnabled,omitempty"`
	ResetPasswordEnrolled bool         `json:"resetPasswordEnrolled,omitempty"`
	SSOExternalID         string       `json:"ssoExternalId,omitempty"`
	// HasMasterPassword says whether the member's user has a master
	// password; the import's overwrite guard reads it. Invited and Staged
	// members never have one.
	HasMasterPassword *bool `json:"hasMasterPassword,omitempty"`
	// PreviousStatus is the status a Revoked member is restored to. When
	// empty it is Confirmed for members with a user account, else Invited.
	PreviousStatus *int `json:"previousStatus,omitempty"`
	// Invitations counts invitation emails sent to the member (invite and
	// reinvite). Dump only.
	Invitations int `json:"invitations,omitempty"`
	// RevisionDate is the time of the last write to the member. Dump only.
	RevisionDate time.Time `json:"revisionDate,omitzero"`
}

// Group is one group.
type Group struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	ExternalID  string             `json:"externalId,omitempty"`
	Collections []CollectionAccess `json:"collections,omitempty"`
	// MemberIDs holds the member ids in the group, merged with
	// Member.Groups.
	MemberIDs []string `json:"memberIds,omitempty"`
	// RevisionDate is the time of the last write to the group's name or
	// membership. Dump only; an import that changes nothing leaves it.
	RevisionDate time.Time `json:"revisionDate,omitzero"`
}
