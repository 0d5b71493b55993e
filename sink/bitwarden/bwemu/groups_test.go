package bwemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroups_ListAndGet(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	want := `{"object":"list","data":[` +
		`{"object":"group","id":"` + engID + `","name":"Engineering","externalId":"g1","collections":[]},` +
		`{"object":"group","id":"` + handGroup + `","name":"Hand Made","externalId":null,` +
		`"collections":[{"id":"` + coll1 + `","readOnly":true,"hidePasswords":false,"manage":false}]}]}`
	if resp := h.call(http.MethodGet, groupsURL, nil); resp.body != want {
		t.Errorf("list = %s\nwant %s", resp.body, want)
	}
	tests := []struct {
		name, path string
		wantStatus int
		wantBody   string
	}{
		{"Group", groupsURL + "/" + engID, 200, `{"object":"group","id":"` + engID + `","name":"Engineering","externalId":"g1","collections":[]}`},
		{"Unknown", groupsURL + "/" + unknownID, 404, ""},
		{"MemberIDs", groupsURL + "/" + engID + "/member-ids", 200, `["` + aliceID + `"]`},
		{"MemberIDsEmpty", groupsURL + "/" + handGroup + "/member-ids", 200, `[]`},
		{"MemberIDsUnknown", groupsURL + "/" + unknownID + "/member-ids", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.call(http.MethodGet, tt.path, nil)
			if resp.status != tt.wantStatus || resp.body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestGroups_CreateAndUpdateErrors(t *testing.T) {
	long := strings.Repeat("n", 101)
	tests := []struct {
		name       string
		opt        Options
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"NameMissing", Options{}, "POST", groupsURL, `{}`, 400, modelBody(`{"Name":["The Name field is required."]}`)},
		{"NameTooLong", Options{}, "POST", groupsURL, `{"name":"` + long + `"}`, 400,
			modelBody(`{"Name":["The field Name must be a string with a maximum length of 100."]}`)},
		{"ExternalIDTooLong", Options{}, "POST", groupsURL, `{"name":"x","externalId":"` + strings.Repeat("e", 301) + `"}`, 400,
			modelBody(`{"ExternalId":["The field ExternalId must be a string with a maximum length of 300."]}`)},
		{"NoGroupsFeature", Options{UseGroups: ptr(false)}, "POST", groupsURL, `{"name":"x"}`, 400, errBody(msgCannotUseGroups)},
		{"ForeignCollection", Options{}, "POST", groupsURL, `{"name":"x","collections":[{"id":"` + unknownID + `","readOnly":true}]}`, 404, errBody(msgResourceNotFound)},
		{"UpdateUnknown", Options{}, "PUT", groupsURL + "/" + unknownID, `{"name":"x"}`, 404, ""},
		{"UpdateNameMissing", Options{}, "PUT", groupsURL + "/" + engID, `{"externalId":"g1"}`, 400, modelBody(`{"Name":["The Name field is required."]}`)},
		{"UpdateNoGroupsFeature", Options{UseGroups: ptr(false)}, "PUT", groupsURL + "/" + engID, `{"name":"x"}`, 400, errBody(msgCannotUseGroups)},
		{"DeleteUnknown", Options{}, "DELETE", groupsURL + "/" + unknownID, ``, 404, ""},
		{"MemberIDsUnknownGroup", Options{}, "PUT", groupsURL + "/" + unknownID + "/member-ids", `{"memberIds":[]}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			h := newHarness(t, tt.opt, &org)
			before := h.emu.Dump()
			var body any
			if tt.body != "" {
				body = tt.body
			}
			resp := h.call(tt.method, tt.path, body)
			if resp.status != tt.wantStatus || resp.body != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
			if diff := cmp.Diff(before, h.emu.Dump()); diff != "" {
				t.Errorf("state changed:\n%s", diff)
			}
		})
	}
}

func TestGroups_CreateUpdateDelete(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	resp := h.call(http.MethodPost, groupsURL, `{"name":"Sales","externalId":"g2"}`)
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `"collections":null`) {
		t.Fatalf("create: %d %s", resp.status, resp.body)
	}
	var g groupResponse
	resp.decode(t, &g)
	if g.Name != "Sales" || g.ExternalID == nil || *g.ExternalID != "g2" {
		t.Errorf("created %+v", g)
	}

	// PUT with null collections keeps access; a null externalId clears it.
	resp = h.call(http.MethodPut, groupsURL+"/"+handGroup, `{"name":"Renamed"}`)
	if resp.status != http.StatusOK {
		t.Fatalf("update: %d %s", resp.status, resp.body)
	}
	stored := h.group(handGroup)
	if stored.Name != "Renamed" || !cmp.Equal(stored.Collections, []CollectionAccess{{ID: coll1, ReadOnly: true}}) {
		t.Errorf("after PUT without collections: %+v, want name changed and access kept", stored)
	}
	h.call(http.MethodPut, groupsURL+"/"+engID, `{"name":"Engineering","collections":[]}`)
	if stored := h.group(engID); stored.ExternalID != "" || len(stored.Collections) != 0 {
		t.Errorf("after PUT without externalId: %+v, want externalId cleared", stored)
	}

	if resp := h.call(http.MethodDelete, groupsURL+"/"+engID, nil); resp.status != 200 || resp.body != "" {
		t.Errorf("delete: %d %q", resp.status, resp.body)
	}
	if got := h.member(aliceID).Groups; got != nil {
		t.Errorf("alice's groups after delete = %v", got)
	}
}

func TestGroups_PutMemberIDsDropsForeignIDs(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	resp := h.call(http.MethodPut, groupsURL+"/"+engID+"/member-ids", `{"memberIds":["`+bobID+`","`+unknownID+`","`+strings.ToUpper(handID)+`"]}`)
	if resp.status != 200 || resp.body != "" {
		t.Fatalf("got %d %q", resp.status, resp.body)
	}
	if got, want := h.group(engID).MemberIDs, sortedIDs(bobID, handID); !cmp.Equal(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
	resp = h.call(http.MethodPut, groupsURL+"/"+engID+"/member-ids", `{"memberIds":["not-a-guid"]}`)
	if resp.status != 400 || !strings.Contains(resp.body, `"$.memberIds[0]"`) {
		t.Errorf("bad GUID: %d %s, want a $.memberIds[0] conversion error", resp.status, resp.body)
	}
}
