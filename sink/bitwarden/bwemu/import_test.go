package bwemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// imp builds an import body.
type imp struct {
	Groups                       []impGroup  `json:"groups"`
	Members                      []impMember `json:"members"`
	OverwriteExisting            bool        `json:"overwriteExisting"`
	LargeImport                  bool        `json:"largeImport,omitempty"`
	InviteUsersAfterProvisioning *bool       `json:"inviteUsersAfterProvisioning,omitempty"`
}

type impGroup struct {
	Name              string   `json:"name"`
	ExternalID        string   `json:"externalId"`
	MemberExternalIDs []string `json:"memberExternalIds"`
}

type impMember struct {
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"externalId"`
	Deleted    bool   `json:"deleted,omitempty"`
}

// current lists the testOrg members that are external, as import entries.
func current() []impMember {
	return []impMember{
		{Email: "alice@example.com", ExternalID: "u1"},
		{Email: "bob@example.com", ExternalID: "u2"},
		{Email: "rita@example.com", ExternalID: "u3"},
	}
}

func (h *harness) importOK(body any) {
	h.t.Helper()
	if resp := h.call(http.MethodPost, importURL, body); resp.status != http.StatusOK || resp.body != "" {
		h.t.Fatalf("import: got %d %s, want 200 empty", resp.status, resp.body)
	}
}

func (h *harness) importFails(body any, wantStatus int, wantBody string) {
	h.t.Helper()
	resp := h.call(http.MethodPost, importURL, body)
	if resp.status != wantStatus || resp.body != wantBody {
		h.t.Fatalf("import: got %d %s\nwant %d %s", resp.status, resp.body, wantStatus, wantBody)
	}
}

func (h *harness) has(id string) bool {
	for _, m := range h.emu.Dump().Members {
		if m.ID == id {
			return true
		}
	}
	return false
}

func TestImport_Validation(t *testing.T) {
	tests := []struct {
		name, body, wantErrors string
	}{
		{"OverwriteMissing", `{"groups":[],"members":[]}`, `{"OverwriteExisting":["The OverwriteExisting field is required."]}`},
		{"GroupFields", `{"groups":[{"memberExternalIds":[]}],"members":[],"overwriteExisting":false}`,
			`{"Groups[0].ExternalId":["The ExternalId field is required."],"Groups[0].Name":["The Name field is required."]}`},
		{"GroupNameTooLong", `{"groups":[{"name":"` + strings.Repeat("g", 101) + `","externalId":"g","memberExternalIds":[]}],"members":[],"overwriteExisting":false}`,
			`{"Groups[0].Name":["The field Name must be a string with a maximum length of 100."]}`},
		{"MemberEmailRequiredWhenEnabled", `{"groups":[],"members":[{"externalId":"x"}],"overwriteExisting":false}`,
			`{"Members[0].Email":["Email is required for enabled members."]}`},
		{"MemberEmailInvalid", `{"groups":[],"members":[{"externalId":"x","email":"nope"}],"overwriteExisting":false}`,
			`{"Members[0].Email":["The Email field is not a valid e-mail address."]}`},
		{"MemberExternalIDMissing", `{"groups":[],"members":[{"email":"a@b.c"},{"email":"x@y.z","externalId":" "}],"overwriteExisting":false}`,
			`{"Members[0].ExternalId":["The ExternalId field is required."],"Members[1].ExternalId":["The ExternalId field is required."]}`},
		{"MemberExternalIDTooLong", `{"groups":[],"members":[{"email":"a@b.c","externalId":"` + strings.Repeat("e", 301) + `"}],"overwriteExisting":false}`,
			`{"Members[0].ExternalId":["The field ExternalId must be a string with a maximum length of 300."]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, Options{}, &org)
			h.importFails(tt.body, 400, modelBody(tt.wantErrors))
		})
	}
}

func TestImport_AcceptsDeletedWithoutEmailAndNumericIDs(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.importOK(`{"groups":[{"name":"N","externalId":42,"memberExternalIds":[7]}],` +
		`"members":[{"externalId":"u2","deleted":true},{"email":"seven@example.com","externalId":7}],"overwriteExisting":false}`)
	if h.has(bobID) {
		t.Error("bob (u2, deleted) is still a member")
	}
	m, ok := h.memberByEmail("seven@example.com")
	if !ok || m.ExternalID != "7" {
		t.Fatalf("member seven = %+v, %v", m, ok)
	}
	for _, g := range h.emu.Dump().Groups {
		if g.ExternalID == "42" && !cmp.Equal(g.MemberIDs, []string{m.ID}) {
			t.Errorf("group 42 members = %v, want [%s]", g.MemberIDs, m.ID)
		}
	}
}

func TestImport_UnhandledErrors(t *testing.T) {
	dupStoredMember := testOrg()
	dupStoredMember.Members[5].ExternalID = "u1"
	dupStoredGroup := testOrg()
	dupStoredGroup.Groups[1].ExternalID = "g1"
	dupHandEmails := testOrg()
	dupHandEmails.Members = append(dupHandEmails.Members, Member{Email: "hand@example.com", Status: StatusInvited, Type: TypeUser})
	tests := []struct {
		name string
		org  Org
		body string
	}{
		{"NullGroups", testOrg(), `{"groups":null,"members":[],"overwriteExisting":false}`},
		{"MissingMembers", testOrg(), `{"groups":[],"overwriteExisting":false}`},
		{"NullMemberExternalIDs", testOrg(), `{"groups":[{"name":"n","externalId":"g"}],"members":[],"overwriteExisting":false}`},
		{"DuplicateEmails", testOrg(), `{"groups":[],"members":[{"email":"x@example.com","externalId":"a"},{"email":"X@example.com","externalId":"b"}],"overwriteExisting":false}`},
		{"DuplicateGroupExternalIDs", testOrg(), `{"groups":[{"name":"a","externalId":"g","memberExternalIds":[]},{"name":"b","externalId":"g","memberExternalIds":[]}],"members":[],"overwriteExisting":false}`},
		{"DuplicateStoredMemberExternalIDs", dupStoredMember, `{"groups":[],"members":[],"overwriteExisting":false}`},
		{"DuplicateStoredGroupExternalIDs", dupStoredGroup, `{"groups":[{"name":"a","externalId":"g1","memberExternalIds":[]}],"members":[],"overwriteExisting":false}`},
		{"DuplicateStoredHandEmails", dupHandEmails, `{"groups":[],"members":[{"email":"new@example.com","externalId":"n"}],"overwriteExisting":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{}, &tt.org)
			h.importFails(tt.body, 500, errBody(msgUnhandled))
		})
	}
}

func TestImport_Refusals(t *testing.T) {
	many := func(n int, deleted bool) []impMember {
		out := make([]impMember, n)
		for i := range out {
			out[i] = impMember{Email: fmt.Sprintf("m%d@example.com", i), ExternalID: fmt.Sprintf("m%d", i), Deleted: deleted}
		}
		return out
	}
	groups := []impGroup{{Name: "G", ExternalID: "gx", MemberExternalIDs: []string{}}}
	tests := []struct {
		name     string
		opt      Options
		body     imp
		wantBody string
	}{
		{"TooManyMembers", Options{}, imp{Groups: []impGroup{}, Members: many(2001, false)}, errBody(msgTooMuchData)},
		{"TooManyGroups", Options{}, imp{Groups: make([]impGroup, 2001), Members: []impMember{}}, errBody(msgTooMuchData)},
		{"NoDirectory", Options{UseDirectory: ptr(false)}, imp{Groups: []impGroup{}, Members: []impMember{}}, errBody(msgNoDirectory)},
		{"NoGroups", Options{UseGroups: ptr(false)}, imp{Groups: groups, Members: []impMember{{ExternalID: "u1", Deleted: true}}}, errBody(msgImportNoGroups)},
	}
	for i := range tests[1].body.Groups {
		tests[1].body.Groups[i] = impGroup{Name: "g", ExternalID: fmt.Sprint(i), MemberExternalIDs: []string{}}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			h.importFails(tt.body, 400, tt.wantBody)
			// The groups feature is checked after the members' steps, which
			// stay committed.
			if gone := !h.has(aliceID); gone != (tt.name == "NoGroups") {
				t.Errorf("alice removed = %v", gone)
			}
		})
	}
	allowed := []struct {
		name string
		opt  Options
		body imp
	}{
		{"LargeImport", Options{}, imp{Groups: []impGroup{}, Members: many(2001, false), LargeImport: true}},
		{"SelfHostedHasNoCap", Options{SelfHosted: true}, imp{Groups: []impGroup{}, Members: many(2001, false)}},
		{"DeletedDoNotCount", Options{}, imp{Groups: []impGroup{}, Members: many(2001, true)}},
		{"NoGroupsFeatureWithoutGroups", Options{UseGroups: ptr(false)}, imp{Groups: []impGroup{}, Members: []impMember{}}},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			h.importOK(tt.body)
		})
	}
}

func TestImport_DeletedEntriesRemoveNonOwners(t *testing.T) {
	org := testOrg()
	org.Members[0].ExternalID = "owner-ext"
	h := newHarness(t, Options{}, &org)
	h.importOK(imp{Groups: []impGroup{}, Members: []impMember{
		{ExternalID: "u1", Deleted: true},
		{ExternalID: "u3", Deleted: true},        // revoked members are deleted too
		{ExternalID: "owner-ext", Deleted: true}, // owners are kept
		{ExternalID: "u2", Deleted: true},        // also listed as not deleted: kept
		{Email: "bob@example.com", ExternalID: "u2"},
		{ExternalID: "nobody", Deleted: true},
	}})
	for id, want := range map[string]bool{aliceID: false, revokedID: false, ownerID: true, bobID: true, handID: true} {
		if got := h.has(id); got != want {
			t.Errorf("member %s present = %v, want %v", id, got, want)
		}
	}
}

func TestImport_OverwriteRemovesUnlistedExternalMembers(t *testing.T) {
	org := testOrg()
	org.Members[1].ExternalID = "admin-ext" // an external admin with a master password: removable
	h := newHarness(t, Options{}, &org)
	h.importOK(imp{Groups: []impGroup{}, Members: []impMember{{Email: "bob@example.com", ExternalID: "u2"}}, OverwriteExisting: true})
	for id, want := range map[string]bool{ownerID: true, handID: true, bobID: true, aliceID: false, revokedID: false, adminID: false} {
		if got := h.has(id); got != want {
			t.Errorf("member %s present = %v, want %v", id, got, want)
		}
	}
	if g := h.group(engID); len(g.MemberIDs) != 0 {
		t.Errorf("groups are never deleted, but removed members leave them: %v", g.MemberIDs)
	}
}

func TestImport_OverwriteMasterPasswordGuard(t *testing.T) {
	noMP := testOrg()
	noMP.Members[2].HasMasterPassword = ptr(false)
	tests := []struct {
		name     string
		org      Org
		members  []impMember
		wantGone []string // removed by step 2 before the guard failed
	}{
		// bob is Invited: no master password.
		{"InvitedMember", testOrg(), []impMember{{Email: "alice@example.com", ExternalID: "u1"}, {Email: "rita@example.com", ExternalID: "u3"}}, nil},
		{"ConfirmedWithoutMasterPassword", noMP, []impMember{{Email: "bob@example.com", ExternalID: "u2"}, {Email: "rita@example.com", ExternalID: "u3"}}, nil},
		// Step 2 removes bob, then step 3's snapshot still sees him: the
		// guard fails after the deletion was committed.
		{"DeletedInvitedSeenAgain", testOrg(), append(current()[:1:1], impMember{ExternalID: "u2", Deleted: true}, impMember{Email: "rita@example.com", ExternalID: "u3"}), []string{bobID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{}, &tt.org)
			h.importFails(imp{Groups: []impGroup{}, Members: tt.members, OverwriteExisting: true}, 400, errBody(msgMasterPassGuard))
			gone := map[string]bool{}
			for _, id := range tt.wantGone {
				gone[id] = true
			}
			for _, id := range []string{aliceID, bobID, revokedID} {
				if h.has(id) == gone[id] {
					t.Errorf("member %s present = %v, want %v", id, h.has(id), !gone[id])
				}
			}
		})
	}
}

func TestImport_LinksByExactEmail(t *testing.T) {
	org := testOrg()
	org.Members = append(org.Members, Member{Email: "Mixed@Example.com", Status: StatusConfirmed, Type: TypeUser})
	h := newHarness(t, Options{}, &org)
	before := len(h.emu.Dump().Members)
	h.importOK(imp{Groups: []impGroup{}, Members: append(current(),
		impMember{Email: "HAND@example.com", ExternalID: "u7"},
		impMember{Email: "mixed@example.com", ExternalID: "u8"})})
	if got := h.member(handID).ExternalID; got != "u7" {
		t.Errorf("hand's externalId = %q, want u7 (linked)", got)
	}
	m, _ := h.memberByEmail("Mixed@Example.com")
	if m.ExternalID != "" {
		t.Errorf("Mixed@ was linked to %q; the dictionary match is exact", m.ExternalID)
	}
	if after := len(h.emu.Dump().Members); after != before {
		t.Errorf("members = %d, want %d: the unlinked email is known, so it is skipped", after, before)
	}
}

func TestImport_NewMembers(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.importOK(imp{Groups: []impGroup{}, Members: append(current()[1:],
		impMember{Email: "New@Example.com", ExternalID: "u10"},
		impMember{Email: "alice@example.com", ExternalID: "u11"},  // email known under u1: skipped
		impMember{Email: "renamed@example.com", ExternalID: "u2"}, // email changes are not propagated
	)})
	m, ok := h.memberByEmail("new@example.com")
	if !ok {
		t.Fatal("new@example.com was not invited")
	}
	want := Member{ID: m.ID, Email: "new@example.com", Status: StatusInvited, Type: TypeUser, ExternalID: "u10",
		HasMasterPassword: ptr(false), Invitations: 1, RevisionDate: m.RevisionDate}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("new member (-want +got):\n%s", diff)
	}
	if got := h.member(aliceID).ExternalID; got != "u1" {
		t.Errorf("alice's externalId = %q, want u1", got)
	}
	if got := h.member(bobID).Email; got != "bob@example.com" {
		t.Errorf("bob's email = %q, want unchanged", got)
	}
	if len(h.emu.Dump().Members) != len(org.Members)+1 {
		t.Errorf("members = %d, want one more", len(h.emu.Dump().Members))
	}
}

func TestImport_StagedMembers(t *testing.T) {
	tests := []struct {
		name       string
		flag       bool
		invite     *bool
		wantStatus int
	}{
		{"DefaultInvites", true, nil, StatusInvited},
		{"TrueInvites", true, ptr(true), StatusInvited},
		{"FalseWithFlagStages", true, ptr(false), StatusStaged},
		{"FalseWithoutFlagInvites", false, ptr(false), StatusInvited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, Options{StagedFlag: tt.flag, SelfHosted: true, Seats: ptr(5)}, &org)
			body := imp{Groups: []impGroup{}, Members: []impMember{{Email: "n@example.com", ExternalID: "n"}}, InviteUsersAfterProvisioning: tt.invite}
			if tt.wantStatus == StatusInvited {
				// Five seats are taken: an invite needs a sixth.
				h.importFails(body, 400, errBody(msgSelfHostedScale))
				return
			}
			h.importOK(body)
			if m, _ := h.memberByEmail("n@example.com"); m.Status != StatusStaged || m.Invitations != 0 {
				t.Errorf("member = %+v, want Staged without invitation", m)
			}
		})
	}
}

func TestImport_Seats(t *testing.T) {
	two := []impMember{{Email: "n1@example.com", ExternalID: "n1"}, {Email: "n2@example.com", ExternalID: "n2"},
		{Email: "alice@example.com", ExternalID: "dup"}} // known email: needs no seat
	tests := []struct {
		name      string
		opt       Options
		wantBody  string
		wantSeats *int
	}{
		{"Fits", Options{Seats: ptr(7), SelfHosted: true}, "", ptr(7)},
		{"SelfHostedShort", Options{Seats: ptr(6), SelfHosted: true}, errBody(msgSelfHostedScale), ptr(6)},
		{"CloudAutoscales", Options{Seats: ptr(5)}, "", ptr(7)},
		{"CloudCapped", Options{Seats: ptr(5), MaxAutoscaleSeats: ptr(6)}, errBody(msgSeatLimit), ptr(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			// alice is deleted by step 2 first, freeing a seat that the
			// refusal does not give back.
			members := append([]impMember{{ExternalID: "u3", Deleted: true}}, two...)
			resp := h.call(http.MethodPost, importURL, imp{Groups: []impGroup{}, Members: members})
			if resp.body != tt.wantBody {
				t.Errorf("got %d %s, want %s", resp.status, resp.body, tt.wantBody)
			}
			if h.has(revokedID) {
				t.Error("step 2 deletion was not committed")
			}
			if got := h.emu.Dump().Organization.Seats; !cmp.Equal(got, tt.wantSeats) {
				t.Errorf("seats = %v, want %v", deref2(got), deref2(tt.wantSeats))
			}
		})
	}
}

func TestImport_NeedsConfirmedOwnerForInvites(t *testing.T) {
	org := testOrg()
	org.Members[0].Status = StatusAccepted
	h := newHarness(t, Options{}, &org)
	h.importFails(imp{Groups: []impGroup{}, Members: []impMember{{Email: "n@example.com", ExternalID: "n"}}}, 400, errBody(msgNeedOwner))
	h.importOK(imp{Groups: []impGroup{}, Members: current()}) // nothing to invite
}

func TestImport_Groups(t *testing.T) {
	org := testOrg()
	org.Groups[0].MemberIDs = []string{aliceID, handID} // hand has no externalId
	org.Groups = append(org.Groups, Group{ID: unknownID, Name: "Other", ExternalID: "g9"})
	h := newHarness(t, Options{}, &org)
	h.clock.Advance(time.Hour)
	h.importOK(imp{
		Members: append(current(), impMember{Email: "n@example.com", ExternalID: "n1"}),
		Groups: []impGroup{
			{Name: "Engineering 2", ExternalID: "g1", MemberExternalIDs: []string{"u1", "u3", "n1", "ghost"}},
			{Name: "Hand Made", ExternalID: "hm", MemberExternalIDs: []string{"u2"}}, // same name as the hand-made group
		},
	})
	newMember, _ := h.memberByEmail("n@example.com")
	eng := h.group(engID)
	if eng.Name != "Engineering 2" || !cmp.Equal(eng.MemberIDs, sortedIDs(aliceID, revokedID, newMember.ID)) {
		t.Errorf("g1 = %+v, want renamed with alice, rita (revoked) and the new member; hand dropped", eng)
	}
	groups := h.emu.Dump().Groups
	if len(groups) != 4 {
		t.Fatalf("groups = %d, want 4 (one created, none deleted)", len(groups))
	}
	if created := groups[3]; created.Name != "Hand Made" || created.ExternalID != "hm" || !cmp.Equal(created.MemberIDs, []string{bobID}) {
		t.Errorf("created group = %+v", created)
	}
	if hand := h.group(handGroup); hand.ExternalID != "" || hand.Name != "Hand Made" {
		t.Errorf("hand-made group touched: %+v", hand)
	}
}

func TestImport_UnchangedGroupIsNotWritten(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	body := imp{Members: current(), Groups: []impGroup{{Name: "Engineering", ExternalID: "g1", MemberExternalIDs: []string{"u1"}}}}
	before := h.group(engID).RevisionDate
	h.clock.Advance(time.Hour)
	h.importOK(body)
	if got := h.group(engID).RevisionDate; !got.Equal(before) {
		t.Errorf("revision date moved from %v to %v on an unchanged import", before, got)
	}
	body.Groups[0].MemberExternalIDs = []string{"u1", "u2"}
	h.importOK(body)
	if got := h.group(engID).RevisionDate; got.Equal(before) {
		t.Error("revision date did not move when membership changed")
	}
}

func TestImport_IsIdempotent(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	body := imp{Members: append(current(), impMember{Email: "n@example.com", ExternalID: "n1"}),
		Groups: []impGroup{{Name: "New", ExternalID: "g2", MemberExternalIDs: []string{"n1", "u1"}}}}
	h.importOK(body)
	first := h.emu.Dump()
	h.clock.Advance(30 * time.Minute)
	h.importOK(body)
	if diff := cmp.Diff(first, h.emu.Dump()); diff != "" {
		t.Errorf("second identical import changed the state:\n%s", diff)
	}
}

func TestImport_Vaultwarden(t *testing.T) {
	org := testOrg()
	org.Members[0].ExternalID = "owner-ext"
	h := newHarness(t, Options{Vaultwarden: true}, &org)
	h.login()
	// Vaultwarden needs every field, "deleted" included.
	type vwMember struct {
		Email      string `json:"email"`
		ExternalID string `json:"externalId"`
		Deleted    bool   `json:"deleted"`
	}
	body, _ := json.Marshal(map[string]any{
		"overwriteExisting": true,
		"groups":            []impGroup{{Name: "Engineering 2", ExternalID: "g1", MemberExternalIDs: []string{"u2"}}},
		"members": []vwMember{
			{Email: "ALICE@example.com", ExternalID: "alice-new"}, // matched by email, externalId overwritten
			{Email: "bob@example.com", ExternalID: "u2", Deleted: true},
			{Email: "rita@example.com", ExternalID: "u3"}, // revoked and listed: restored
			{Email: "new@example.com", ExternalID: "n1"},
			{Email: "owner@example.com", ExternalID: "owner-ext", Deleted: true}, // last owner: not revoked
			{Email: "hand@example.com", ExternalID: "h1"},
		},
	})
	resp := h.raw(http.MethodPost, importURL, "application/json", string(body), "Bearer "+h.token)
	if resp.status != 200 || resp.body != "" {
		t.Fatalf("import: %d %s", resp.status, resp.body)
	}
	if m := h.member(aliceID); m.ExternalID != "alice-new" {
		t.Errorf("alice = %+v, want externalId alice-new", m)
	}
	if m := h.member(bobID); m.Status != StatusRevoked {
		t.Errorf("bob status = %d, want revoked", m.Status)
	}
	if m := h.member(revokedID); m.Status != StatusConfirmed {
		t.Errorf("rita status = %d, want restored to confirmed", m.Status)
	}
	if m := h.member(ownerID); m.Status != StatusConfirmed {
		t.Errorf("owner status = %d, want kept", m.Status)
	}
	if m, ok := h.memberByEmail("new@example.com"); !ok || m.Status != StatusInvited {
		t.Errorf("new member = %+v, %v", m, ok)
	}
	if g := h.group(engID); g.Name != "Engineering" || len(g.MemberIDs) != 1 {
		t.Errorf("groups are ignored without VaultwardenGroups: %+v", g)
	}
}

func TestImport_VaultwardenGroupsAndOverwrite(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Vaultwarden: true, VaultwardenGroups: true}, &org)
	h.clock.Advance(time.Hour)
	h.importOK(`{"overwriteExisting":true,"groups":[{"name":"Renamed","externalId":"g1","memberExternalIds":["u1"]},` +
		`{"name":"New","externalId":"g2","memberExternalIds":["u1","zz"]}],` +
		`"members":[{"email":"alice@example.com","externalId":"u1","deleted":false},{"email":"x@example.com","externalId":"u2","deleted":true}]}`)
	eng := h.group(engID)
	if eng.Name != "Engineering" || !cmp.Equal(eng.MemberIDs, []string{aliceID}) || !eng.RevisionDate.After(newFakeClock().Now()) {
		t.Errorf("g1 = %+v, want name kept, membership rewritten", eng)
	}
	if len(h.emu.Dump().Groups) != 3 {
		t.Errorf("groups = %d, want g2 created", len(h.emu.Dump().Groups))
	}
	// Overwrite: u2 is listed (deleted entries count), u3 is not: removed.
	if !h.has(bobID) || h.has(revokedID) || !h.has(handID) {
		t.Errorf("after overwrite: bob %v rita %v hand %v, want true false true", h.has(bobID), h.has(revokedID), h.has(handID))
	}
}

func TestImport_VaultwardenStrictParsing(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Vaultwarden: true}, &org)
	for _, body := range []string{
		`{"groups":[],"members":[]}`,
		`{"groups":[],"members":[{"externalId":"x","deleted":true}],"overwriteExisting":false}`,
		`{"groups":[],"members":[{"email":"a@b.c","externalId":7,"deleted":false}],"overwriteExisting":false}`,
		`{"Groups":[],"members":[],"overwriteExisting":false}`,
	} {
		if resp := h.call(http.MethodPost, importURL, body); resp.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status = %d, want 422", body, resp.status)
		}
	}
}
