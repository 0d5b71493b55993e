package bwemu

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSeed_DumpRoundTrip(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Seats: ptr(20)}, &org)
	h.call(http.MethodPost, membersURL, `{"email":"n@example.com","type":4,"permissions":{"manageUsers":true},"groups":["`+handGroup+`"]}`)
	first := h.emu.Dump()

	b, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Org
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	other := New(Options{})
	if err := other.Seed(decoded); err != nil {
		t.Fatalf("seed from dump: %v", err)
	}
	if diff := cmp.Diff(first, other.Dump()); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
}

func TestSeed_Defaults(t *testing.T) {
	emu := New(Options{})
	err := emu.Seed(Org{Members: []Member{
		{Email: "c@example.com", Status: StatusConfirmed, Type: TypeOwner},
		{Email: "i@example.com", Status: StatusInvited, Type: TypeUser, UserID: "d0000000-0000-4000-8000-000000000001"},
		{Email: "r@example.com", Status: StatusRevoked, Type: TypeUser},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := emu.Dump().Members
	if got[0].ID == "" || got[0].UserID == "" || !*got[0].HasMasterPassword {
		t.Errorf("confirmed = %+v, want generated ids and a master password", got[0])
	}
	if got[1].UserID != "" || *got[1].HasMasterPassword {
		t.Errorf("invited = %+v, want no user and no master password", got[1])
	}
	if got[2].UserID != "" || *got[2].PreviousStatus != StatusInvited {
		t.Errorf("revoked without user = %+v, want previous status invited", got[2])
	}
	if info := emu.Dump().Organization; info.ID != DefaultOrgID || info.Seats != nil || !*info.UseGroups {
		t.Errorf("organization = %+v", info)
	}
}

func TestSeed_RejectsBadSeeds(t *testing.T) {
	tests := []struct {
		name string
		org  Org
		want string
	}{
		{"BadOrgID", Org{Organization: OrgInfo{ID: "x"}}, `organization: id "x" is not a GUID`},
		{"BadStatus", Org{Members: []Member{{Email: "a@b.c", Status: 5}}}, "status 5"},
		{"ManagerType", Org{Members: []Member{{Email: "a@b.c", Type: 3}}}, "type 3"},
		{"NoEmail", Org{Members: []Member{{Type: 2}}}, "email is required"},
		{"DuplicateID", Org{Members: []Member{{ID: ownerID, Email: "a@b.c"}, {ID: ownerID, Email: "b@b.c"}}}, "duplicate id"},
		{"UnknownGroup", Org{Members: []Member{{Email: "a@b.c", Groups: []string{unknownID}}}}, "unknown group"},
		{"UnknownMember", Org{Groups: []Group{{Name: "g", MemberIDs: []string{unknownID}}}}, "unknown member"},
		{"UnknownCollection", Org{Groups: []Group{{Name: "g", Collections: []CollectionAccess{{ID: coll1}}}}}, "unknown collection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg()
			emu := New(Options{})
			if err := emu.Seed(org); err != nil {
				t.Fatal(err)
			}
			before := emu.Dump()
			err := emu.Seed(tt.org)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if diff := cmp.Diff(before, emu.Dump()); diff != "" {
				t.Errorf("a bad seed changed the state:\n%s", diff)
			}
		})
	}
}

func TestSeed_OrgIDChangeInvalidatesTokens(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	if err := h.emu.Seed(Org{Organization: OrgInfo{ID: unknownID}}); err != nil {
		t.Fatal(err)
	}
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != 401 {
		t.Errorf("old token: status = %d, want 401", resp.status)
	}
	if h.emu.ClientID() != "organization."+unknownID {
		t.Errorf("client id = %s", h.emu.ClientID())
	}
}

func TestAdmin_StateEndpoints(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	b, _ := json.Marshal(testOrg())
	if resp := h.raw(http.MethodPost, "/_emu/state", "application/json", string(b), ""); resp.status != 200 {
		t.Fatalf("seed: %d %s", resp.status, resp.body)
	}
	resp := h.raw(http.MethodGet, "/_emu/state", "", "", "")
	var got Org
	resp.decode(t, &got)
	if len(got.Members) != 6 || len(got.Groups) != 2 {
		t.Errorf("dump has %d members and %d groups", len(got.Members), len(got.Groups))
	}
	if resp := h.raw(http.MethodPost, "/_emu/state", "application/json", `{"members":[{"status":9}]}`, ""); resp.status != 400 {
		t.Errorf("bad seed: status = %d, want 400", resp.status)
	}
	if resp := h.raw(http.MethodPost, "/_emu/state", "application/json", `{`, ""); resp.status != 400 {
		t.Errorf("bad JSON: status = %d, want 400", resp.status)
	}
}

func TestAdmin_RequestsAndStats(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.call(http.MethodGet, membersURL, nil)
	h.call(http.MethodPut, groupsURL+"/"+engID+"/member-ids", `{"memberIds":[]}`)
	h.call(http.MethodDelete, membersURL+"/"+unknownID, nil)
	h.raw(http.MethodGet, "/_emu/state", "", "", "") // not logged

	reqs := h.emu.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4 (token, GET, PUT, DELETE)", len(reqs))
	}
	put := reqs[2]
	if put.Method != "PUT" || put.Path != groupsURL+"/"+engID+"/member-ids" || put.Status != 200 ||
		put.Body != `{"memberIds":[]}` || put.Route != "PUT /api/public/groups/{id}/member-ids" {
		t.Errorf("logged PUT = %+v", put)
	}
	if reqs[1].Body != "" {
		t.Errorf("GET body logged: %q", reqs[1].Body)
	}
	st := h.emu.Stats()
	if st.Requests != 4 || st.Writes != 2 || st.ByRoute["DELETE /api/public/members/{id}"] != 1 ||
		st.ByRouteStatus["DELETE /api/public/members/{id}"][404] != 1 || st.ByStatus[200] != 3 {
		t.Errorf("stats = %+v", st)
	}
	var fromHTTP Stats
	h.raw(http.MethodGet, "/_emu/stats", "", "", "").decode(t, &fromHTTP)
	if fromHTTP.Writes != 2 {
		t.Errorf("/_emu/stats writes = %d, want 2", fromHTTP.Writes)
	}
	var logged []Request
	h.raw(http.MethodGet, "/_emu/requests", "", "", "").decode(t, &logged)
	if len(logged) != 4 {
		t.Errorf("/_emu/requests = %d entries, want 4", len(logged))
	}
	h.raw(http.MethodDelete, "/_emu/requests", "", "", "")
	if len(h.emu.Requests()) != 0 || h.emu.Stats().Requests != 0 {
		t.Error("DELETE /_emu/requests did not clear the log and stats")
	}
}

func TestAdmin_RequestLogIsCapped(t *testing.T) {
	h := newHarness(t, Options{RequestLogLimit: 3}, nil)
	for range 5 {
		h.call(http.MethodGet, groupsURL, nil)
	}
	if got := len(h.emu.Requests()); got != 3 {
		t.Errorf("log = %d entries, want 3", got)
	}
	if got := h.emu.Stats().Requests; got != 6 {
		t.Errorf("stats requests = %d, want 6", got)
	}
}

func TestSubscription(t *testing.T) {
	h := newHarness(t, Options{Seats: ptr(10), MaxAutoscaleSeats: ptr(20)}, nil)
	resp := h.call(http.MethodGet, "/api/public/organization/subscription", nil)
	want := `{"passwordManager":{"seats":10,"maxAutoScaleSeats":20,"storage":1},"secretsManager":null}`
	if resp.status != 200 || resp.body != want {
		t.Errorf("got %d %s, want %s", resp.status, resp.body, want)
	}
	h = newHarness(t, Options{SelfHosted: true}, nil)
	if resp := h.call(http.MethodGet, "/api/public/organization/subscription", nil); resp.status != 404 || resp.body != "" {
		t.Errorf("self-hosted: got %d %q, want 404 empty", resp.status, resp.body)
	}
}

func TestDemoSeedLoads(t *testing.T) {
	b, err := os.ReadFile("../../../cmd/bwemu/demo-org.json")
	if err != nil {
		t.Fatal(err)
	}
	var org Org
	if err := json.Unmarshal(b, &org); err != nil {
		t.Fatal(err)
	}
	emu := New(Options{})
	if err := emu.Seed(org); err != nil {
		t.Fatalf("demo seed: %v", err)
	}
	if d := emu.Dump(); len(d.Members) != 8 || len(d.Groups) != 2 || !*d.Organization.SelfHosted || *d.Organization.Seats != 50 {
		t.Errorf("demo org = %+v", d.Organization)
	}
}
