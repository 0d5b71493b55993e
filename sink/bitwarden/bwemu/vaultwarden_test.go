package bwemu

import (
	"net/http"
	"net/url"
	"testing"
)

func vwErrBody(msg string) string {
	return `{"message":"` + msg + `","error":"","error_description":"","validationErrors":{"":["` + msg + `"]},` +
		`"errorModel":{"message":"` + msg + `","object":"error"},"exceptionMessage":null,"exceptionStackTrace":null,` +
		`"innerExceptionMessage":null,"object":"error"}`
}

func TestVaultwarden_Token(t *testing.T) {
	tests := []struct {
		name   string
		change func(f url.Values)
		want   string
	}{
		{"NoDeviceIdentifier", func(f url.Values) { f.Del("deviceIdentifier") }, "device_identifier cannot be blank"},
		{"NoDeviceName", func(f url.Values) { f.Del("deviceName") }, "device_name cannot be blank"},
		{"NoScope", func(f url.Values) { f.Del("scope") }, "scope cannot be blank"},
		{"OtherScope", func(f url.Values) { f.Set("scope", "openid") }, "Scope not supported"},
		{"MalformedClientID", func(f url.Values) { f.Set("client_id", "org."+DefaultOrgID) }, "Malformed client_id"},
		{"UnknownOrg", func(f url.Values) { f.Set("client_id", "organization."+unknownID) }, "Invalid client_id"},
		{"WrongSecret", func(f url.Values) { f.Set("client_secret", "x") }, "Incorrect client_secret"},
		{"WrongGrant", func(f url.Values) { f.Set("grant_type", "magic") }, "Invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{Vaultwarden: true}, nil)
			form := h.tokenForm()
			tt.change(form)
			resp := h.postForm(form)
			if resp.status != 400 || resp.body != vwErrBody(tt.want) {
				t.Errorf("got %d %s\nwant 400 %s", resp.status, resp.body, vwErrBody(tt.want))
			}
		})
	}
	t.Run("SnakeCaseDeviceFields", func(t *testing.T) {
		h := newHarness(t, Options{Vaultwarden: true}, nil)
		form := h.tokenForm()
		for _, k := range []string{"deviceType", "deviceIdentifier", "deviceName"} {
			form.Del(k)
		}
		form.Set("device_type", "14")
		form.Set("Device_Identifier", "x")
		form.Set("device_name", "y")
		if resp := h.postForm(form); resp.status != 200 {
			t.Errorf("status = %d, want 200; body %s", resp.status, resp.body)
		}
	})
}

func TestVaultwarden_OnlyImportExists(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{Vaultwarden: true}, &org)
	for _, path := range []string{membersURL, groupsURL, membersURL + "/" + aliceID, "/api/public/organization/subscription"} {
		resp := h.call(http.MethodGet, path, nil)
		if resp.status != 404 {
			t.Errorf("%s: status = %d, want 404", path, resp.status)
		}
	}
	if resp := h.call(http.MethodPost, membersURL+"/"+aliceID+"/revoke", nil); resp.status != 404 {
		t.Errorf("revoke: status = %d, want 404", resp.status)
	}
	resp := h.raw(http.MethodPost, importURL, "application/json", `{}`, "Bearer nope")
	if resp.status != 401 {
		t.Errorf("import without token: status = %d, want 401", resp.status)
	}
}
