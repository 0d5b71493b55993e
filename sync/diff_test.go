package sync_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dirbridge/dirbridge/sync"
)

func user(ext, email string) sync.User { return sync.User{ExternalID: ext, Email: email} }

func disabled(ext, email string) sync.User {
	return sync.User{ExternalID: ext, Email: email, Disabled: true}
}

func member(id, email, ext string, status sync.MemberStatus, typ sync.MemberType) sync.Member {
	return sync.Member{ID: id, Email: email, ExternalID: ext, Status: status, Type: typ}
}

func confirmed(id, email, ext string) sync.Member {
	return member(id, email, ext, sync.StatusConfirmed, sync.TypeUser)
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name      string
		want      sync.Snapshot
		have      sync.OrgState
		opt       sync.Options
		wantOps   []sync.Op
		wantNotes []string // note kinds
	}{
		{
			name: "InvitesNewUser",
			want: sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "alice@example.com", Name: "Alice"}}},
			wantOps: []sync.Op{
				{Action: sync.ActionInvite, Email: "alice@example.com", ExternalID: "u1", Name: "Alice", Reason: "new in directory"},
			},
		},
		{
			name: "DoesNotInviteDisabledUser",
			want: sync.Snapshot{Users: []sync.User{disabled("u1", "alice@example.com")}},
		},
		{
			name: "LinksMemberWithoutExternalIDByEmail",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{member("m1", "Alice@Example.com", "", sync.StatusInvited, sync.TypeUser)}},
			wantOps: []sync.Op{
				{Action: sync.ActionLink, MemberID: "m1", Email: "alice@example.com", ExternalID: "u1", Reason: "matched by email"},
			},
		},
		{
			name: "LinksAndRevokesDisabledUserFoundByEmail",
			want: sync.Snapshot{Users: []sync.User{disabled("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "")}},
			wantOps: []sync.Op{
				{Action: sync.ActionLink, MemberID: "m1", Email: "alice@example.com", ExternalID: "u1", Reason: "matched by email"},
				{Action: sync.ActionRevoke, MemberID: "m1", Email: "alice@example.com", ExternalID: "u1", Reason: "disabled in directory"},
			},
		},
		{
			name: "LinksProtectedRoleButNeverRevokesIt",
			want: sync.Snapshot{Users: []sync.User{disabled("u1", "boss@example.com")}},
			have: sync.OrgState{Members: []sync.Member{member("m1", "boss@example.com", "", sync.StatusConfirmed, sync.TypeOwner)}},
			wantOps: []sync.Op{
				{Action: sync.ActionLink, MemberID: "m1", Email: "boss@example.com", ExternalID: "u1", Reason: "matched by email"},
			},
			wantNotes: []string{"protected"},
		},
		{
			name: "RevokesUserDisabledInDirectory",
			want: sync.Snapshot{Users: []sync.User{disabled("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1")}},
			wantOps: []sync.Op{
				{Action: sync.ActionRevoke, MemberID: "m1", Email: "alice@example.com", ExternalID: "u1", Reason: "disabled in directory"},
			},
		},
		{
			name: "RevokesMemberGoneFromDirectory",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2")}},
			wantOps: []sync.Op{
				{Action: sync.ActionRevoke, MemberID: "m2", Email: "bob@example.com", ExternalID: "u2", Reason: "not in directory"},
			},
		},
		{
			name: "LeavesAlreadyRevokedMemberAlone",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), member("m2", "bob@example.com", "u2", sync.StatusRevoked, sync.TypeUser)}},
		},
		{
			name: "RestoresUserWhoCameBack",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{member("m1", "alice@example.com", "u1", sync.StatusRevoked, sync.TypeUser)}},
			wantOps: []sync.Op{
				{Action: sync.ActionRestore, MemberID: "m1", Email: "alice@example.com", ExternalID: "u1", Reason: "active in directory"},
			},
		},
		{
			name: "RemovesWithOnMissingRemove",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com"), disabled("u3", "carol@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2"), confirmed("m3", "carol@example.com", "u3")}},
			opt:  sync.Options{OnMissing: sync.MissingRemove},
			wantOps: []sync.Op{
				{Action: sync.ActionRemove, MemberID: "m2", Email: "bob@example.com", ExternalID: "u2", Reason: "not in directory"},
				{Action: sync.ActionRemove, MemberID: "m3", Email: "carol@example.com", ExternalID: "u3", Reason: "disabled in directory"},
			},
		},
		{
			name: "IgnoresMissingAndDisabledWithOnMissingIgnore",
			want: sync.Snapshot{Users: []sync.User{disabled("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2")}},
			opt:  sync.Options{OnMissing: sync.MissingIgnore},
		},
		{
			name: "NeverRevokesOrRemovesOwnersAdminsOrCustom",
			want: sync.Snapshot{Users: []sync.User{user("u9", "someone@example.com")}},
			have: sync.OrgState{Members: []sync.Member{
				member("m0", "someone@example.com", "u9", sync.StatusConfirmed, sync.TypeUser),
				member("m1", "owner@example.com", "u1", sync.StatusConfirmed, sync.TypeOwner),
				member("m2", "admin@example.com", "u2", sync.StatusConfirmed, sync.TypeAdmin),
				member("m3", "custom@example.com", "u3", sync.StatusConfirmed, sync.TypeCustom),
			}},
			opt:       sync.Options{OnMissing: sync.MissingRemove},
			wantNotes: []string{"protected", "protected", "protected"},
		},
		{
			name: "NeverTouchesProtectedEmails",
			want: sync.Snapshot{Users: []sync.User{user("u9", "someone@example.com")}},
			have: sync.OrgState{Members: []sync.Member{
				confirmed("m0", "someone@example.com", "u9"),
				confirmed("m1", "ceo@example.com", "u1"),
			}},
			opt:       sync.Options{ProtectedEmails: []string{"CEO@example.com"}},
			wantNotes: []string{"protected"},
		},
		{
			name: "NeverChangesHandAddedMembersThatMatchNobody",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{Members: []sync.Member{
				confirmed("m1", "alice@example.com", "u1"),
				confirmed("m2", "contractor@example.com", ""),
			}},
		},
		{
			name:      "ReportsAnEmailTheAPICannotChange",
			want:      sync.Snapshot{Users: []sync.User{user("u1", "alice.new@example.com")}},
			have:      sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1")}},
			wantNotes: []string{"email_changed"},
		},
		{
			name:      "LeavesEmailConflictAlone",
			want:      sync.Snapshot{Users: []sync.User{user("new-id", "alice@example.com")}},
			have:      sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "old-id")}},
			wantNotes: []string{"email_conflict"},
		},
		{
			name: "DoesNotRevokeHeldUsers",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}, Held: []string{"u2"}},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2")}},
		},
		{
			name: "CreatesGroupWithMembersIncludingNewInvites",
			want: sync.Snapshot{
				Users:  []sync.User{user("u1", "alice@example.com"), user("u2", "bob@example.com"), disabled("u3", "carol@example.com")},
				Groups: []sync.Group{{ExternalID: "g1", Name: "Engineering", Members: []string{"u2", "u1", "u3"}}},
			},
			have: sync.OrgState{Members: []sync.Member{confirmed("m1", "alice@example.com", "u1")}},
			wantOps: []sync.Op{
				{Action: sync.ActionInvite, Email: "bob@example.com", ExternalID: "u2", Reason: "new in directory"},
				{Action: sync.ActionCreateGroup, ExternalID: "g1", Name: "Engineering", Reason: "new in directory"},
				{Action: sync.ActionSetGroupMembers, ExternalID: "g1", Name: "Engineering", Members: []string{"u1", "u2"},
					Added: []string{"alice@example.com", "bob@example.com"}, Reason: "new group"},
			},
		},
		{
			name: "CreatesEmptyGroupWithoutMembershipOp",
			want: sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1", Name: "Empty"}}},
			wantOps: []sync.Op{
				{Action: sync.ActionCreateGroup, ExternalID: "g1", Name: "Empty", Reason: "new in directory"},
			},
		},
		{
			name: "RenamesGroup",
			want: sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1", Name: "Platform"}}},
			have: sync.OrgState{Groups: []sync.OrgGroup{{ID: "G1", Name: "Infrastructure", ExternalID: "g1"}}},
			wantOps: []sync.Op{
				{Action: sync.ActionUpdateGroup, GroupID: "G1", ExternalID: "g1", Name: "Platform", OldName: "Infrastructure", Reason: "renamed in directory"},
			},
		},
		{
			name: "SetsGroupMembersWhenTheyDiffer",
			want: sync.Snapshot{
				Users:  []sync.User{user("u1", "alice@example.com"), user("u2", "bob@example.com")},
				Groups: []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u2"}}},
			},
			have: sync.OrgState{
				Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2"), confirmed("m3", "hand@example.com", "")},
				Groups:  []sync.OrgGroup{{ID: "G1", Name: "Eng", ExternalID: "g1", MemberIDs: []string{"m1", "m3"}}},
			},
			wantOps: []sync.Op{
				{Action: sync.ActionSetGroupMembers, GroupID: "G1", ExternalID: "g1", Name: "Eng", Members: []string{"u2"},
					Added: []string{"bob@example.com"}, Removed: []string{"alice@example.com", "hand@example.com"}, RemovedIDs: []string{"m1", "m3"}, Reason: "membership changed"},
			},
		},
		{
			name: "KeepsRevokedMembersInTheirGroups",
			want: sync.Snapshot{
				Users:  []sync.User{user("u1", "alice@example.com")},
				Groups: []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u1"}}},
			},
			have: sync.OrgState{
				Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), confirmed("m2", "bob@example.com", "u2")},
				Groups:  []sync.OrgGroup{{ID: "G1", Name: "Eng", ExternalID: "g1", MemberIDs: []string{"m1", "m2"}}},
			},
			wantOps: []sync.Op{
				{Action: sync.ActionRevoke, MemberID: "m2", Email: "bob@example.com", ExternalID: "u2", Reason: "not in directory"},
			},
		},
		{
			name: "DeletesManagedGroupGoneFromDirectory",
			want: sync.Snapshot{Users: []sync.User{user("u1", "alice@example.com")}},
			have: sync.OrgState{
				Members: []sync.Member{confirmed("m1", "alice@example.com", "u1")},
				Groups:  []sync.OrgGroup{{ID: "G1", Name: "Old", ExternalID: "g-old"}, {ID: "G2", Name: "Hand Made"}},
			},
			wantOps: []sync.Op{
				{Action: sync.ActionDeleteGroup, GroupID: "G1", ExternalID: "g-old", Name: "Old", Reason: "not in directory"},
			},
		},
		{
			name: "NothingToDoWhenInStep",
			want: sync.Snapshot{
				Users:  []sync.User{user("u1", "alice@example.com"), disabled("u2", "bob@example.com")},
				Groups: []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u1", "u2"}}},
			},
			have: sync.OrgState{
				Members: []sync.Member{confirmed("m1", "alice@example.com", "u1"), member("m2", "bob@example.com", "u2", sync.StatusRevoked, sync.TypeUser)},
				Groups:  []sync.OrgGroup{{ID: "G1", Name: "Eng", ExternalID: "g1", MemberIDs: []string{"m2", "m1"}}},
			},
		},
		{
			name: "OrdersOperationsByActionThenSubject",
			want: sync.Snapshot{
				Users:  []sync.User{user("u3", "zed@example.com"), user("u1", "amy@example.com"), user("u2", "erin@example.com")},
				Groups: []sync.Group{{ExternalID: "g2", Name: "B"}, {ExternalID: "g1", Name: "A"}},
			},
			have: sync.OrgState{
				Members: []sync.Member{member("m2", "erin@example.com", "", sync.StatusInvited, sync.TypeUser), confirmed("m9", "gone@example.com", "u9")},
				Groups:  []sync.OrgGroup{{ID: "G9", Name: "Gone", ExternalID: "g9"}},
			},
			wantOps: []sync.Op{
				{Action: sync.ActionLink, MemberID: "m2", Email: "erin@example.com", ExternalID: "u2", Reason: "matched by email"},
				{Action: sync.ActionInvite, Email: "amy@example.com", ExternalID: "u1", Reason: "new in directory"},
				{Action: sync.ActionInvite, Email: "zed@example.com", ExternalID: "u3", Reason: "new in directory"},
				{Action: sync.ActionCreateGroup, ExternalID: "g1", Name: "A", Reason: "new in directory"},
				{Action: sync.ActionCreateGroup, ExternalID: "g2", Name: "B", Reason: "new in directory"},
				{Action: sync.ActionRevoke, MemberID: "m9", Email: "gone@example.com", ExternalID: "u9", Reason: "not in directory"},
				{Action: sync.ActionDeleteGroup, GroupID: "G9", ExternalID: "g9", Name: "Gone", Reason: "not in directory"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := sync.Diff(tt.want, tt.have, tt.opt)
			if diff := cmp.Diff(tt.wantOps, plan.Ops, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ops (-want +got):\n%s", diff)
			}
			var kinds []string
			for _, n := range plan.Notes {
				kinds = append(kinds, n.Kind)
			}
			if diff := cmp.Diff(tt.wantNotes, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("note kinds (-want +got):\n%s\nnotes: %v", diff, plan.Notes)
			}
			// Diff is pure: the same inputs give the same plan.
			if again := sync.Diff(tt.want, tt.have, tt.opt); !cmp.Equal(plan, again, cmpopts.EquateEmpty()) {
				t.Errorf("a second Diff of the same inputs differs:\n%s", cmp.Diff(plan, again))
			}
		})
	}
}

func TestDiff_CountsManagedMembers(t *testing.T) {
	have := sync.OrgState{Members: []sync.Member{
		confirmed("m1", "a@example.com", "u1"),
		confirmed("m2", "b@example.com", "u2"),
		confirmed("m3", "c@example.com", ""),
		member("m4", "d@example.com", "u4", sync.StatusConfirmed, sync.TypeOwner),
	}}
	plan := sync.Diff(sync.Snapshot{}, have, sync.Options{})
	if plan.ManagedMembers != 2 {
		t.Errorf("ManagedMembers = %d, want 2", plan.ManagedMembers)
	}
}
