package bwemu

import (
	"net/http"
	"net/url"
	"testing"
)

func TestSCIM_Auth(t *testing.T) {
	org := testOrg()
	tests := []struct {
		name       string
		enabled    bool
		org, auth  string
		wantStatus int
	}{
		{"Disabled", false, DefaultOrgID, "Bearer scim-secret", 401},
		{"WrongKey", true, DefaultOrgID, "Bearer nope", 401},
		{"NoKey", true, DefaultOrgID, "", 401},
		{"OtherOrg", true, unknownID, "Bearer scim-secret", 401},
		{"BearerPrefix", true, DefaultOrgID, "Bearer scim-secret", 200},
		{"BareKey", true, DefaultOrgID, "scim-secret", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{SCIMEnabled: tt.enabled}, &org)
			resp := h.raw(http.MethodGet, "/scim/v2/"+tt.org+"/users", "", "", tt.auth)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			if tt.wantStatus == 401 && resp.body != "" {
				t.Errorf("401 body = %q, want empty", resp.body)
			}
		})
	}
}

func TestSCIM_ToggleAtRuntime(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	path := "/scim/v2/" + DefaultOrgID + "/groups"
	if resp := h.raw(http.MethodGet, path, "", "", "Bearer scim-secret"); resp.status != 401 {
		t.Fatalf("before: %d", resp.status)
	}
	h.emu.SetSCIM(true)
	if resp := h.raw(http.MethodGet, path, "", "", "Bearer scim-secret"); resp.status != 200 {
		t.Errorf("after SetSCIM: %d", resp.status)
	}
	h.raw(http.MethodPost, "/_emu/scim", "application/json", `{"enabled":true,"key":"k2"}`, "")
	if resp := h.raw(http.MethodGet, path, "", "", "k2"); resp.status != 200 {
		t.Errorf("after new key: %d", resp.status)
	}
}

func TestSCIM_ListUsers(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{SCIMEnabled: true}, &org)
	list := func(query string) scimListOf {
		t.Helper()
		resp := h.raw(http.MethodGet, "/scim/v2/"+DefaultOrgID+"/users"+query, "", "", "Bearer scim-secret")
		if resp.status != 200 || resp.header.Get("Content-Type") != "application/scim+json; charset=utf-8" {
			t.Fatalf("%s: %d %s", query, resp.status, resp.header.Get("Content-Type"))
		}
		var l scimListOf
		resp.decode(t, &l)
		return l
	}
	all := list("")
	if all.TotalResults != 6 || len(all.Resources) != 6 || all.Resources[0].UserName != "admin@example.com" || all.Schemas[0] != scimListSchema {
		t.Errorf("all = %+v", all)
	}
	if p := list("?startIndex=2&count=2"); p.StartIndex != 2 || p.ItemsPerPage != 2 || p.Resources[0].UserName != "alice@example.com" || p.TotalResults != 6 {
		t.Errorf("page = %+v", p)
	}
	if f := list("?filter=" + url.QueryEscape(`userName eq "ALICE@example.com"`)); len(f.Resources) != 1 || f.Resources[0].ID != aliceID {
		t.Errorf("userName filter = %+v", f)
	}
	if f := list("?filter=" + url.QueryEscape(`externalId eq "u3"`)); len(f.Resources) != 1 || f.Resources[0].Active {
		t.Errorf("externalId filter = %+v, want rita, inactive", f)
	}
	if f := list("?filter=" + url.QueryEscape(`userName eq "alice"`)); len(f.Resources) != 0 {
		t.Errorf("userName without @ = %+v, want empty", f)
	}
	resp := h.raw(http.MethodGet, "/scim/v2/"+DefaultOrgID+"/users/"+unknownID, "", "", "scim-secret")
	if want := `{"schemas":["` + scimErrorSchema + `"],"detail":"User not found.","status":404}`; resp.status != 404 || resp.body != want {
		t.Errorf("unknown user: %d %s", resp.status, resp.body)
	}
}

func TestSCIM_ListGroups(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{SCIMEnabled: true}, &org)
	resp := h.raw(http.MethodGet, "/scim/v2/"+DefaultOrgID+"/groups?filter="+url.QueryEscape(`externalId eq "g1"`), "", "", "scim-secret")
	var l struct {
		TotalResults int         `json:"totalResults"`
		Resources    []scimGroup `json:"resources"`
	}
	resp.decode(t, &l)
	if l.TotalResults != 1 || l.Resources[0].DisplayName != "Engineering" || l.Resources[0].ID != engID {
		t.Errorf("groups = %s", resp.body)
	}
}

type scimListOf struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []scimUser `json:"resources"`
}
