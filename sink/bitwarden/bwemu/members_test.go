package bwemu

import (
	"fmt"
	"net/http"
	"strings"
	stdsync "sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMembers_ListWritesEveryField(t *testing.T) {
	org := testOrg()
	org.Members = org.Members[:1]
	org.Members[0].UserID = "d0000000-0000-4000-8000-000000000001"
	org.Members[0].Collections = []CollectionAccess{{ID: coll1, ReadOnly: true}}
	org.Groups = nil
	h := newHarness(t, Options{}, &org)
	resp := h.call(http.MethodGet, membersURL, nil)
	want := `{"object":"list","data":[{"object":"member","id":"` + ownerID + `","userId":"d0000000-0000-4000-8000-000000000001",` +
		`"name":"Owner","email":"owner@example.com","twoFactorEnabled":false,"status":2,` +
		`"collections":[{"id":"` + coll1 + `","readOnly":true,"hidePasswords":false,"manage":false}],` +
		`"resetPasswordEnrolled":false,"ssoExternalId":null,"type":0,"externalId":null,"permissions":null}]}`
	if resp.status != http.StatusOK || resp.body != want {
		t.Errorf("got %d\n%s\nwant\n%s", resp.status, resp.body, want)
	}
}

func TestMembers_ListIncludesEveryStatus(t *testing.T) {
	org := testOrg()
	org.Members = append(org.Members, Member{Email: "staged@example.com", Status: StatusStaged, Type: TypeUser, ExternalID: "s1"})
	h := newHarness(t, Options{}, &org)
	var list struct {
		Data []memberResponse `json:"data"`
	}
	h.call(http.MethodGet, membersURL, nil).decode(t, &list)
	var got []int
	for _, m := range list.Data {
		got = append(got, m.Status)
	}
	if want := []int{2, 2, 2, 0, -1, 2, 3}; !cmp.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if list.Data[1].UserID == nil || list.Data[3].UserID != nil || list.Data[6].UserID != nil {
		t.Errorf("userId must be set for confirmed and null for invited/staged: %+v", list.Data)
	}
}

func TestMembers_LegacyListCarriesContinuationToken(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Legacy: true}, &org)
	for _, path := range []string{membersURL, groupsURL} {
		resp := h.call(http.MethodGet, path, nil)
		if !strings.HasSuffix(resp.body, `,"continuationToken":null}`) {
			t.Errorf("%s: body %s lacks continuationToken null", path, resp.body)
		}
	}
}

func TestMembers_GetAndGroupIDs(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	tests := []struct {
		name, path string
		wantStatus int
		wantBody   string
	}{
		{"Member", membersURL + "/" + aliceID, 200, ""},
		{"MemberUppercaseID", membersURL + "/" + strings.ToUpper(aliceID), 200, ""},
		{"MemberTrailingSlash", membersURL + "/" + aliceID + "/", 200, ""},
		{"UnknownMember", membersURL + "/" + unknownID, 404, ""},
		{"MalformedID", membersURL + "/nope", 400, modelBody(`{"id":["The value 'nope' is not valid."]}`)},
		{"GroupIDs", membersURL + "/" + aliceID + "/group-ids", 200, `["` + engID + `"]`},
		{"GroupIDsNone", membersURL + "/" + bobID + "/group-ids", 200, `[]`},
		{"GroupIDsUnknown", membersURL + "/" + unknownID + "/group-ids", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.call(http.MethodGet, tt.path, nil)
			if resp.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			if tt.wantBody != "" && resp.body != tt.wantBody {
				t.Errorf("body = %s, want %s", resp.body, tt.wantBody)
			}
			if tt.wantStatus == 404 && resp.body != "" {
				t.Errorf("404 body = %q, want empty", resp.body)
			}
		})
	}
}

func TestMembers_CreateErrors(t *testing.T) {
	tests := []struct {
		name       string
		opt        Options
		body       string
		wantStatus int
		wantBody   string
	}{
		{"EmailMissing", Options{}, `{"type":2}`, 400, modelBody(`{"Email":["The Email field is required."]}`)},
		{"EmailBlank", Options{}, `{"email":"  ","type":2}`, 400, modelBody(`{"Email":["The Email field is required."]}`)},
		{"EmailNotStrict", Options{}, `{"email":"Alice <a@example.com>","type":2}`, 400,
			modelBody(`{"Email":["The Email field is not a supported e-mail address format."]}`)},
		{"EmailNoTLD", Options{}, `{"email":"a@localhost","type":2}`, 400,
			modelBody(`{"Email":["The Email field is not a supported e-mail address format."]}`)},
		{"EmailTooLong", Options{}, `{"email":"` + strings.Repeat("a", 251) + `@x.com","type":2}`, 400,
			modelBody(`{"Email":["The field Email must be a string with a maximum length of 256."]}`)},
		{"TypeMissing", Options{}, `{"email":"n@example.com"}`, 400, modelBody(`{"Type":["The Type field is required."]}`)},
		{"TypeManager", Options{}, `{"email":"n@example.com","type":3}`, 400, modelBody(`{"Type":["The field Type is invalid."]}`)},
		{"ExternalIDTooLong", Options{}, `{"email":"n@example.com","type":2,"externalId":"` + strings.Repeat("x", 301) + `"}`, 400,
			modelBody(`{"ExternalId":["The field ExternalId must be a string with a maximum length of 300."]}`)},
		{"CollectionFieldsRequired", Options{}, `{"email":"n@example.com","type":2,"collections":[{}]}`, 400,
			modelBody(`{"Collections[0].Id":["The Id field is required."],"Collections[0].ReadOnly":["The ReadOnly field is required."]}`)},
		{"SeveralErrors", Options{}, `{"type":7}`, 400,
			modelBody(`{"Email":["The Email field is required."],"Type":["The field Type is invalid."]}`)},
		{"BodyEmpty", Options{}, ``, 400, modelBody(`{"":["Body is empty."]}`)},
		{"BodyNull", Options{}, `null`, 400, modelBody(`{"":["Body is empty."]}`)},
		{"TypeWrongJSONType", Options{}, `{"email":"n@example.com","type":"two"}`, 400,
			modelBody(`{"":["Body is empty."],"$.type":["The JSON value could not be converted to System.Nullable` + "`" +
				`1[Bit.Core.Enums.OrganizationUserType]. Path: $.type | LineNumber: 0 | BytePositionInLine: 0."]}`)},
		{"AlreadyInvited", Options{}, `{"email":"Bob@Example.com","type":2}`, 400, errBody(msgAlreadyInvited)},
		{"AlreadyMemberRevoked", Options{}, `{"email":"RITA@example.com","type":2}`, 400, errBody(msgAlreadyInvited)},
		{"PermissionsNotCustom", Options{}, `{"email":"n@example.com","type":2,"permissions":{"manageUsers":true}}`, 400, errBody(msgCustomOnly)},
		{"UnknownCollection", Options{}, `{"email":"n@example.com","type":2,"collections":[{"id":"` + unknownID + `","readOnly":false}]}`, 404, errBody(msgResourceNotFound)},
		{"UnknownGroup", Options{}, `{"email":"n@example.com","type":2,"groups":["` + unknownID + `"]}`, 404, errBody(msgResourceNotFound)},
		{"ManageExclusive", Options{}, `{"email":"n@example.com","type":2,"collections":[{"id":"` + coll1 + `","readOnly":true,"manage":true}]}`, 400, errBody(msgManageExcl)},
		{"SelfHostedFull", Options{SelfHosted: true, Seats: ptr(4)}, `{"email":"n@example.com","type":2}`, 400, errBody(msgSelfHostedScale)},
		{"CloudOverMaxAutoscale", Options{Seats: ptr(4), MaxAutoscaleSeats: ptr(4)}, `{"email":"n@example.com","type":2}`, 400, errBody(msgSeatLimit)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			before := len(h.emu.Dump().Members)
			resp := h.call(http.MethodPost, membersURL, tt.body)
			if resp.status != tt.wantStatus || resp.body != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
			if after := len(h.emu.Dump().Members); after != before {
				t.Errorf("members = %d, want %d (nothing created)", after, before)
			}
		})
	}
}

func TestMembers_CreateWithoutJSONContentTypeIs415(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.login()
	resp := h.raw(http.MethodPost, membersURL, "text/plain", `{"email":"n@example.com","type":2}`, "Bearer "+h.token)
	if resp.status != http.StatusUnsupportedMediaType {
		t.Errorf("status = %d, want 415", resp.status)
	}
}

func TestMembers_CreateInvites(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	body := `{"Email":"New.Person@Example.com","type":"2","externalId":"u9","collections":[{"id":"` +
		strings.ToUpper(coll1) + `","readOnly":true}],"groups":["` + engID + `"],"unknownField":1}`
	resp := h.call(http.MethodPost, membersURL, body)
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.status, resp.body)
	}
	var got memberResponse
	resp.decode(t, &got)
	want := memberResponse{
		Object: "member", ID: got.ID, Email: "new.person@example.com", Status: StatusInvited, Type: TypeUser,
		ExternalID: ptr("u9"), Collections: []CollectionAccess{{ID: coll1, ReadOnly: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if _, ok := parseGUID(got.ID); !ok || got.ID != strings.ToLower(got.ID) {
		t.Errorf("id %q is not a lowercase GUID", got.ID)
	}
	if g := h.group(engID); !cmp.Equal(g.MemberIDs, sortedIDs(aliceID, got.ID)) {
		t.Errorf("group members = %v, want alice and the new member", g.MemberIDs)
	}
	if m := h.member(got.ID); m.Invitations != 1 || m.UserID != "" {
		t.Errorf("stored member = %+v, want one invitation and no user", m)
	}
	if h.emu.Stats().Invitations != 1 {
		t.Errorf("stats invitations = %d, want 1", h.emu.Stats().Invitations)
	}
}

func TestMembers_CreateNullCollectionsEchoesNull(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	resp := h.call(http.MethodPost, membersURL, `{"email":"n@example.com","type":4,"permissions":{"manageGroups":true}}`)
	if !strings.Contains(resp.body, `"collections":null`) || !strings.Contains(resp.body, `"manageGroups":true`) {
		t.Errorf("body = %s, want null collections and the permissions", resp.body)
	}
	var got memberResponse
	resp.decode(t, &got)
	if resp := h.call(http.MethodGet, membersURL+"/"+got.ID, nil); !strings.Contains(resp.body, `"collections":[]`) {
		t.Errorf("GET body = %s, want collections []", resp.body)
	}
}

func TestMembers_CreateNeedsConfirmedOwner(t *testing.T) {
	org := testOrg()
	org.Members[0].Status = StatusInvited
	h := newHarness(t, Options{}, &org)
	if resp := h.call(http.MethodPost, membersURL, `{"email":"n@example.com","type":2}`); resp.body != errBody(msgNeedOwner) {
		t.Errorf("user invite: got %d %s", resp.status, resp.body)
	}
	if resp := h.call(http.MethodPost, membersURL, `{"email":"o2@example.com","type":0}`); resp.status != http.StatusOK {
		t.Errorf("owner invite: got %d %s, want 200", resp.status, resp.body)
	}
}

func TestMembers_CreateSeats(t *testing.T) {
	// testOrg occupies 5 seats: owner, admin, alice, bob (invited), hand.
	tests := []struct {
		name      string
		opt       Options
		wantStat  int
		wantSeats *int
	}{
		{"Unlimited", Options{}, 200, nil},
		{"FreeSeat", Options{Seats: ptr(6)}, 200, ptr(6)},
		{"CloudAutoscales", Options{Seats: ptr(5)}, 200, ptr(6)},
		{"CloudAutoscalesUpToMax", Options{Seats: ptr(5), MaxAutoscaleSeats: ptr(6)}, 200, ptr(6)},
		{"CloudMaxReached", Options{Seats: ptr(5), MaxAutoscaleSeats: ptr(5)}, 400, ptr(5)},
		{"SelfHostedFull", Options{Seats: ptr(5), SelfHosted: true}, 400, ptr(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			resp := h.call(http.MethodPost, membersURL, `{"email":"n@example.com","type":2}`)
			if resp.status != tt.wantStat {
				t.Errorf("status = %d, want %d; body %s", resp.status, tt.wantStat, resp.body)
			}
			if got := h.emu.Dump().Organization.Seats; !cmp.Equal(got, tt.wantSeats) {
				t.Errorf("seats = %v, want %v", deref2(got), deref2(tt.wantSeats))
			}
		})
	}
}

func TestMembers_UpdateReplacesRecord(t *testing.T) {
	org := testOrg()
	org.Members[2].Collections = []CollectionAccess{{ID: coll1}}
	org.Members[2].Permissions = &Permissions{ManageUsers: true}
	h := newHarness(t, Options{}, &org)

	// null collections wipes access, missing groups keeps them, missing externalId clears it.
	resp := h.call(http.MethodPut, membersURL+"/"+aliceID, `{"type":2}`)
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `"collections":null`) || !strings.Contains(resp.body, `"externalId":null`) {
		t.Fatalf("got %d %s", resp.status, resp.body)
	}
	m := h.member(aliceID)
	if m.ExternalID != "" || m.Collections != nil || !cmp.Equal(m.Groups, []string{engID}) {
		t.Errorf("after PUT {type}: %+v, want no externalId, no collections, groups kept", m)
	}

	// [] groups clears; type 4 shows the stored permissions (null keeps them).
	resp = h.call(http.MethodPut, membersURL+"/"+aliceID, `{"type":4,"externalId":"u1","groups":[]}`)
	if !strings.Contains(resp.body, `"manageUsers":true`) {
		t.Errorf("custom member body = %s, want stored permissions", resp.body)
	}
	if m := h.member(aliceID); m.ExternalID != "u1" || m.Groups != nil || m.Type != TypeCustom {
		t.Errorf("after second PUT: %+v", m)
	}
}

func TestMembers_UpdateErrors(t *testing.T) {
	tests := []struct {
		name, id, body string
		wantStatus     int
		wantBody       string
	}{
		{"Unknown", unknownID, `{"type":2}`, 404, ""},
		{"ValidationBeforeLookup", unknownID, `{}`, 400, modelBody(`{"Type":["The Type field is required."]}`)},
		{"TypeManager", aliceID, `{"type":3}`, 400, modelBody(`{"Type":["The field Type is invalid."]}`)},
		{"PermissionsNotCustom", aliceID, `{"type":1,"permissions":{}}`, 400, errBody(msgCustomOnly)},
		{"UnknownCollection", aliceID, `{"type":2,"collections":[{"id":"` + unknownID + `","readOnly":true}]}`, 404, errBody(msgResourceNotFound)},
		{"UnknownGroup", aliceID, `{"type":2,"groups":["` + unknownID + `"]}`, 404, errBody(msgResourceNotFound)},
		{"LastOwnerDemoted", ownerID, `{"type":1}`, 400, errBody(msgNeedOwner)},
		{"MalformedJSON", aliceID, `{"type":2,}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, Options{}, &org)
			before := h.emu.Dump()
			resp := h.call(http.MethodPut, membersURL+"/"+tt.id, tt.body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			if tt.name == "MalformedJSON" {
				if !strings.Contains(resp.body, `"$":[`) || !strings.Contains(resp.body, `"":["Body is empty."]`) {
					t.Errorf("body = %s, want $ and Body is empty.", resp.body)
				}
			} else if resp.body != tt.wantBody {
				t.Errorf("body = %s, want %s", resp.body, tt.wantBody)
			}
			if diff := cmp.Diff(before, h.emu.Dump()); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestMembers_OwnerCanBeDemotedWithAnotherConfirmedOwner(t *testing.T) {
	org := testOrg()
	org.Members[1].Type = TypeOwner
	h := newHarness(t, Options{}, &org)
	if resp := h.call(http.MethodPut, membersURL+"/"+ownerID, `{"type":1}`); resp.status != http.StatusOK {
		t.Errorf("status = %d, want 200; body %s", resp.status, resp.body)
	}
}

func TestMembers_PutGroupIDsDropsForeignIDs(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	resp := h.call(http.MethodPut, membersURL+"/"+bobID+"/group-ids", `{"groupIds":["`+handGroup+`","`+unknownID+`"]}`)
	if resp.status != http.StatusOK || resp.body != "" {
		t.Fatalf("got %d %q, want 200 empty", resp.status, resp.body)
	}
	if got := h.member(bobID).Groups; !cmp.Equal(got, []string{handGroup}) {
		t.Errorf("groups = %v, want [%s]", got, handGroup)
	}
	if resp := h.call(http.MethodPut, membersURL+"/"+unknownID+"/group-ids", `{"groupIds":[]}`); resp.status != 404 || resp.body != "" {
		t.Errorf("unknown member: got %d %q", resp.status, resp.body)
	}
}

func TestMembers_Delete(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	if resp := h.call(http.MethodDelete, membersURL+"/"+aliceID, nil); resp.status != 200 || resp.body != "" {
		t.Fatalf("delete: got %d %q", resp.status, resp.body)
	}
	if resp := h.call(http.MethodGet, membersURL+"/"+aliceID, nil); resp.status != 404 {
		t.Errorf("get after delete: %d, want 404", resp.status)
	}
	if g := h.group(engID); len(g.MemberIDs) != 0 {
		t.Errorf("group still holds %v", g.MemberIDs)
	}
	if resp := h.call(http.MethodDelete, membersURL+"/"+aliceID, nil); resp.status != 404 || resp.body != "" {
		t.Errorf("second delete: got %d %q", resp.status, resp.body)
	}
	if resp := h.call(http.MethodDelete, membersURL+"/"+ownerID, nil); resp.body != errBody(msgNeedOwner) {
		t.Errorf("last owner: got %d %s", resp.status, resp.body)
	}
}

func TestMembers_Reinvite(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	if resp := h.call(http.MethodPost, membersURL+"/"+bobID+"/reinvite", nil); resp.status != 200 || resp.body != "" {
		t.Errorf("invited: got %d %q", resp.status, resp.body)
	}
	if got := h.member(bobID).Invitations; got != 1 {
		t.Errorf("invitations = %d, want 1", got)
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+aliceID+"/reinvite", nil); resp.body != errBody(msgUserInvalid) {
		t.Errorf("confirmed: got %d %s", resp.status, resp.body)
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+unknownID+"/reinvite", nil); resp.status != 404 || resp.body != "" {
		t.Errorf("unknown: got %d %q", resp.status, resp.body)
	}
}

func TestMembers_RevokeAndRestore(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	for _, id := range []string{aliceID, bobID} {
		if resp := h.call(http.MethodPost, membersURL+"/"+id+"/revoke", nil); resp.status != 200 || resp.body != "" {
			t.Fatalf("revoke %s: got %d %q", id, resp.status, resp.body)
		}
		if m := h.member(id); m.Status != StatusRevoked {
			t.Errorf("status after revoke = %d", m.Status)
		}
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+aliceID+"/revoke", nil); resp.body != errBody(msgAlreadyRevoked) {
		t.Errorf("second revoke: %d %s", resp.status, resp.body)
	}
	for id, want := range map[string]int{aliceID: StatusConfirmed, bobID: StatusInvited, revokedID: StatusConfirmed} {
		if resp := h.call(http.MethodPost, membersURL+"/"+id+"/restore", nil); resp.status != 200 || resp.body != "" {
			t.Fatalf("restore %s: got %d %q", id, resp.status, resp.body)
		}
		if got := h.member(id).Status; got != want {
			t.Errorf("status of %s after restore = %d, want %d", id, got, want)
		}
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+aliceID+"/restore", nil); resp.body != errBody(msgAlreadyActive) {
		t.Errorf("second restore: %d %s", resp.status, resp.body)
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+ownerID+"/revoke", nil); resp.body != errBody(msgNeedOwner) {
		t.Errorf("last owner: %d %s", resp.status, resp.body)
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+unknownID+"/revoke", nil); resp.status != 404 || resp.body != "" {
		t.Errorf("unknown: %d %q", resp.status, resp.body)
	}
}

func TestMembers_RestoreStagedAndSeats(t *testing.T) {
	org := testOrg()
	org.Members = append(org.Members, Member{ID: unknownID, Email: "st@example.com", Status: StatusRevoked, Type: TypeUser, PreviousStatus: ptr(StatusStaged)})
	tests := []struct {
		name, id   string
		opt        Options
		wantStatus int
		wantBody   string
	}{
		{"SelfHostedFull", revokedID, Options{SelfHosted: true, Seats: ptr(5)}, 400, errBody(msgSelfHostedScale)},
		{"CloudAutoscales", revokedID, Options{Seats: ptr(5)}, 200, ""},
		{"StagedTakesNoSeat", unknownID, Options{SelfHosted: true, Seats: ptr(5)}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opt, &org)
			resp := h.call(http.MethodPost, membersURL+"/"+tt.id+"/restore", nil)
			if resp.status != tt.wantStatus || resp.body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestMembers_LegacyHasNoRevokeOrRestore(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Legacy: true}, &org)
	for _, op := range []string{"revoke", "restore"} {
		resp := h.call(http.MethodPost, membersURL+"/"+aliceID+"/"+op, nil)
		if resp.status != http.StatusNotFound || resp.body != "" {
			t.Errorf("%s: got %d %q, want 404 empty", op, resp.status, resp.body)
		}
	}
	if got := h.member(aliceID).Status; got != StatusConfirmed {
		t.Errorf("status = %d, want unchanged", got)
	}
}

func sortedIDs(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func deref2(p *int) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestRouting_UnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	resp := h.call(http.MethodGet, "/api/public/nothing", nil)
	if resp.status != 404 || resp.body != "" {
		t.Errorf("unknown path: %d %q, want 404 empty", resp.status, resp.body)
	}
	resp = h.call(http.MethodPatch, membersURL+"/"+aliceID, nil)
	if resp.status != 405 || resp.body != "" || resp.header.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("PATCH: %d %q Allow %q, want 405 empty", resp.status, resp.body, resp.header.Get("Allow"))
	}
	if got := h.emu.Stats().ByRoute["PATCH (unmatched)"]; got != 1 {
		t.Errorf("stats for the unmatched route = %d, want 1", got)
	}
}

func TestConcurrentInvitesAndReads(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.login()
	var wg stdsync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				h.call(http.MethodPost, membersURL, fmt.Sprintf(`{"email":"w%d-%d@example.com","type":2}`, w, i))
				h.call(http.MethodGet, membersURL, nil)
			}
		})
	}
	wg.Wait()
	if got := len(h.emu.Dump().Members); got != len(org.Members)+100 {
		t.Errorf("members = %d, want %d", got, len(org.Members)+100)
	}
}
