package bwemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestToken_IssuesClientCredentialsToken(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	resp := h.postForm(h.tokenForm())
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
	}
	var got map[string]any
	resp.decode(t, &got)
	if len(got) != 4 || got["expires_in"] != float64(3600) || got["token_type"] != "Bearer" ||
		got["scope"] != "api.organization" || got["access_token"] == "" {
		t.Errorf("body = %s, want the four token fields", resp.body)
	}
}

func TestToken_ScopeIsOptional(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	form := h.tokenForm()
	form.Del("scope")
	if resp := h.postForm(form); resp.status != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.status)
	}
}

func TestToken_Errors(t *testing.T) {
	tests := []struct {
		name   string
		change func(f url.Values)
		want   string
	}{
		{"WrongSecret", func(f url.Values) { f.Set("client_secret", "nope") }, "invalid_client"},
		{"UnknownOrg", func(f url.Values) { f.Set("client_id", "organization."+unknownID) }, "invalid_client"},
		{"MalformedGUID", func(f url.Values) { f.Set("client_id", "organization.bad_guid_zz&") }, "invalid_client"},
		{"EmptyOrg", func(f url.Values) { f.Set("client_id", "organization.") }, "invalid_client"},
		{"UserClient", func(f url.Values) { f.Set("client_id", "user."+DefaultOrgID) }, "invalid_client"},
		{"BadScope", func(f url.Values) { f.Set("scope", "api") }, "invalid_scope"},
		{"UnknownGrant", func(f url.Values) { f.Set("grant_type", "magic") }, "unsupported_grant_type"},
		{"PasswordGrant", func(f url.Values) { f.Set("grant_type", "password") }, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{}, nil)
			form := h.tokenForm()
			tt.change(form)
			resp := h.postForm(form)
			if resp.status != http.StatusBadRequest || resp.body != `{"error":"`+tt.want+`"}` {
				t.Errorf("got %d %s, want 400 {\"error\":%q}", resp.status, resp.body, tt.want)
			}
		})
	}
}

func TestToken_UppercaseOrgGUIDAccepted(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	form := h.tokenForm()
	form.Set("client_id", "organization."+strings.ToUpper(DefaultOrgID))
	if resp := h.postForm(form); resp.status != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.status)
	}
}

func TestToken_CustomLifetime(t *testing.T) {
	h := newHarness(t, Options{TokenLifetime: 90 * time.Second}, nil)
	var tok tokenResponse
	h.postForm(h.tokenForm()).decode(t, &tok)
	if tok.ExpiresIn != 90 {
		t.Errorf("expires_in = %d, want 90", tok.ExpiresIn)
	}
}

func TestAuth_RejectsMissingAndUnknownTokens(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	tests := []struct {
		name, auth, wantHeader string
	}{
		{"Missing", "", "Bearer"},
		{"Unknown", "Bearer not-a-token", `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.raw(http.MethodGet, membersURL, "", "", tt.auth)
			if resp.status != http.StatusUnauthorized || resp.body != "" {
				t.Errorf("got %d %q, want 401 with empty body", resp.status, resp.body)
			}
			if got := resp.header.Get("WWW-Authenticate"); got != tt.wantHeader {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}

func TestAuth_AcceptsAccessTokenQuery(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	if resp := h.raw(http.MethodGet, membersURL+"?access_token="+h.token, "", "", ""); resp.status != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.status)
	}
}

func TestAuth_TokenExpiresWithClock(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	h.clock.Advance(3599 * time.Second)
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != http.StatusOK {
		t.Fatalf("before expiry: status = %d, want 200", resp.status)
	}
	h.clock.Advance(time.Second)
	resp := h.call(http.MethodGet, membersURL, nil)
	if resp.status != http.StatusUnauthorized || resp.body != "" {
		t.Fatalf("after expiry: got %d %q, want 401 empty", resp.status, resp.body)
	}
	if got := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer error="invalid_token", error_description="The token expired at`) {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	h.login()
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != http.StatusOK {
		t.Errorf("after new login: status = %d, want 200", resp.status)
	}
}

func TestAuth_ExpireTokens(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	h.emu.ExpireTokens()
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.status)
	}
	h.login()
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != http.StatusOK {
		t.Errorf("after new login: status = %d, want 200", resp.status)
	}
}

func TestAuth_ExpireTokensAdminEndpoint(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	if resp := h.raw(http.MethodPost, "/_emu/expire-tokens", "", "", ""); resp.status != http.StatusOK {
		t.Fatalf("expire-tokens: %d", resp.status)
	}
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.status)
	}
}

func TestToken_SecretIsRedactedInLog(t *testing.T) {
	h := newHarness(t, Options{ClientSecret: "hunter2"}, nil)
	h.login()
	for _, r := range h.emu.Requests() {
		if strings.Contains(r.Body, "hunter2") {
			t.Errorf("request log holds the secret: %q", r.Body)
		}
	}
}
