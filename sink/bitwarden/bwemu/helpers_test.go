package bwemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	stdsync "sync"
	"testing"
	"time"
)

// Fixed ids of the standard test organization (testOrg).
const (
	ownerID    = "a0000000-0000-4000-8000-000000000001"
	adminID    = "a0000000-0000-4000-8000-000000000002"
	aliceID    = "a0000000-0000-4000-8000-000000000011" // confirmed user, externalId u1
	bobID      = "a0000000-0000-4000-8000-000000000012" // invited user, externalId u2
	revokedID  = "a0000000-0000-4000-8000-000000000013" // revoked (from confirmed), externalId u3
	handID     = "a0000000-0000-4000-8000-000000000014" // confirmed, no externalId, hand@example.com
	coll1      = "c0000000-0000-4000-8000-000000000001"
	engID      = "b0000000-0000-4000-8000-000000000001" // group externalId g1: alice
	handGroup  = "b0000000-0000-4000-8000-000000000002" // group without externalId
	unknownID  = "f0000000-0000-4000-8000-00000000ffff"
	membersURL = "/api/public/members"
	groupsURL  = "/api/public/groups"
	importURL  = "/api/public/organization/import"
)

// testOrg is the organization most tests start from.
func testOrg() Org {
	return Org{
		Collections: []Collection{{ID: coll1}},
		Members: []Member{
			{ID: ownerID, Email: "owner@example.com", Name: "Owner", Status: StatusConfirmed, Type: TypeOwner},
			{ID: adminID, Email: "admin@example.com", Name: "Admin", Status: StatusConfirmed, Type: TypeAdmin},
			{ID: aliceID, Email: "alice@example.com", Name: "Alice", Status: StatusConfirmed, Type: TypeUser, ExternalID: "u1"},
			{ID: bobID, Email: "bob@example.com", Status: StatusInvited, Type: TypeUser, ExternalID: "u2"},
			{ID: revokedID, Email: "rita@example.com", Name: "Rita", Status: StatusRevoked, Type: TypeUser, ExternalID: "u3",
				UserID: "d0000000-0000-4000-8000-000000000013", PreviousStatus: ptr(StatusConfirmed)},
			{ID: handID, Email: "hand@example.com", Name: "Hand", Status: StatusConfirmed, Type: TypeUser},
		},
		Groups: []Group{
			{ID: engID, Name: "Engineering", ExternalID: "g1", MemberIDs: []string{aliceID}},
			{ID: handGroup, Name: "Hand Made", Collections: []CollectionAccess{{ID: coll1, ReadOnly: true}}},
		},
	}
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu stdsync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is one emulator on a real HTTP server with a client holding a
// token.
type harness struct {
	t     *testing.T
	emu   *Server
	base  string
	clock *fakeClock
	token string
}

// newHarness starts an emulator with a fake clock (unless opt has one),
// seeded with org when it is not nil.
func newHarness(t *testing.T, opt Options, org *Org) *harness {
	t.Helper()
	clock := newFakeClock()
	if opt.Now == nil {
		opt.Now = clock.Now
	}
	emu, base := StartTestServer(t, opt)
	if org != nil {
		if err := emu.Seed(*org); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	return &harness{t: t, emu: emu, base: base, clock: clock}
}

// response is one answer.
type response struct {
	status int
	header http.Header
	body   string
}

// decode unmarshals the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// tokenForm returns the form of a good token request.
func (h *harness) tokenForm() url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {h.emu.ClientID()},
		"client_secret": {h.emu.ClientSecret()},
		"scope":         {"api.organization"},
		// BWDC sends the device fields; Vaultwarden requires them.
		"deviceType":       {"14"},
		"deviceIdentifier": {"c3b1e7f2-0000-4000-8000-000000000001"},
		"deviceName":       {"dirbridge"},
	}
}

// postForm posts a form to the token endpoint.
func (h *harness) postForm(form url.Values) response {
	h.t.Helper()
	return h.raw(http.MethodPost, "/identity/connect/token", "application/x-www-form-urlencoded", form.Encode(), "")
}

// login fetches a token for later calls.
func (h *harness) login() {
	h.t.Helper()
	resp := h.postForm(h.tokenForm())
	if resp.status != http.StatusOK {
		h.t.Fatalf("token: %d %s", resp.status, resp.body)
	}
	var tok tokenResponse
	resp.decode(h.t, &tok)
	h.token = tok.AccessToken
}

// call sends an authenticated API request. body is sent as is when it is a
// string, marshalled otherwise, and omitted when nil.
func (h *harness) call(method, path string, body any) response {
	h.t.Helper()
	if h.token == "" {
		h.login()
	}
	text := ""
	switch b := body.(type) {
	case nil:
	case string:
		text = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("marshal: %v", err)
		}
		text = string(raw)
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return h.raw(method, path, ct, text, "Bearer "+h.token)
}

// raw sends a request with the given content type and Authorization.
func (h *harness) raw(method, path, contentType, body, auth string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatalf("request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// member returns the dumped member with the id, failing when it is absent.
func (h *harness) member(id string) Member {
	h.t.Helper()
	for _, m := range h.emu.Dump().Members {
		if m.ID == id {
			return m
		}
	}
	h.t.Fatalf("member %s not found", id)
	return Member{}
}

// memberByEmail returns the dumped member with the email, or false.
func (h *harness) memberByEmail(email string) (Member, bool) {
	for _, m := range h.emu.Dump().Members {
		if m.Email == email {
			return m, true
		}
	}
	return Member{}, false
}

// group returns the dumped group with the id.
func (h *harness) group(id string) Group {
	h.t.Helper()
	for _, g := range h.emu.Dump().Groups {
		if g.ID == id {
			return g
		}
	}
	h.t.Fatalf("group %s not found", id)
	return Group{}
}

// errBody renders the Public API's error envelope.
func errBody(msg string) string {
	return `{"object":"error","message":"` + msg + `","errors":null}`
}

// modelBody renders a model-state error with the given errors JSON.
func modelBody(errors string) string {
	return `{"object":"error","message":"The request's model state is invalid.","errors":` + errors + `}`
}
