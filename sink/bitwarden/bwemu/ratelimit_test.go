package bwemu

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func slowDown(period string) string {
	return `{"object":"error","message":"Slow down! Too many requests. Try again in ` + period + `.",` +
		`"validationErrors":null,"exceptionMessage":null,"exceptionStackTrace":null,"innerExceptionMessage":null}`
}

func TestRateLimit_WritesFivePerSecond(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{RateLimit: true}, &org)
	h.login()
	for i := range 5 {
		if resp := h.call(http.MethodPost, membersURL, `{}`); resp.status != 400 {
			t.Fatalf("call %d: status = %d, want 400 (served)", i, resp.status)
		}
	}
	resp := h.call(http.MethodPost, membersURL, `{}`)
	if resp.status != 429 || resp.body != slowDown("1s") || resp.header.Get("Retry-After") != "1" {
		t.Fatalf("6th: got %d %s Retry-After %q", resp.status, resp.body, resp.header.Get("Retry-After"))
	}
	// Another concrete path has its own bucket.
	if resp := h.call(http.MethodPost, membersURL+"/"+bobID+"/reinvite", nil); resp.status != 200 {
		t.Errorf("other path: status = %d, want 200", resp.status)
	}
	// So does another verb on the same path.
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != 200 {
		t.Errorf("GET: status = %d, want 200", resp.status)
	}
	h.clock.Advance(time.Second)
	if resp := h.call(http.MethodPost, membersURL, `{}`); resp.status != 400 {
		t.Errorf("next second: status = %d, want 400 (served)", resp.status)
	}
}

func TestRateLimit_WritesSixtyPerMinute(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{RateLimit: true}, &org)
	h.login()
	for i := range 60 {
		if resp := h.call(http.MethodPut, membersURL+"/"+unknownID, `{"type":2}`); resp.status != 404 {
			t.Fatalf("call %d: status = %d, want 404 (served)", i, resp.status)
		}
		if i%5 == 4 {
			h.clock.Advance(time.Second)
		}
	}
	// 12 seconds have passed: the minute window resets in 48.
	resp := h.call(http.MethodPut, membersURL+"/"+unknownID, `{"type":2}`)
	if resp.status != 429 || resp.body != slowDown("1m") || resp.header.Get("Retry-After") != "48" {
		t.Fatalf("61st: got %d %s Retry-After %q", resp.status, resp.body, resp.header.Get("Retry-After"))
	}
	h.clock.Advance(48 * time.Second)
	if resp := h.call(http.MethodPut, membersURL+"/"+unknownID, `{"type":2}`); resp.status != 404 {
		t.Errorf("after the window: status = %d, want 404", resp.status)
	}
}

func TestRateLimit_ReadsAndHeaders(t *testing.T) {
	h := newHarness(t, Options{RateLimit: true}, nil)
	h.login()
	for i := range 200 {
		resp := h.call(http.MethodGet, membersURL, nil)
		if resp.status != 200 {
			t.Fatalf("call %d: status = %d", i, resp.status)
		}
		if got := resp.header.Get("X-Rate-Limit-Remaining"); got != strconv.Itoa(199-i) {
			t.Fatalf("call %d: remaining = %q, want %d", i, got, 199-i)
		}
		if i == 0 && (resp.header.Get("X-Rate-Limit-Limit") != "1m" || resp.header.Get("X-Rate-Limit-Reset") != "2026-03-01T12:01:00.0000000Z") {
			t.Errorf("headers = %v", resp.header)
		}
	}
	resp := h.call(http.MethodGet, membersURL, nil)
	if resp.status != 429 || resp.body != slowDown("1m") || resp.header.Get("Retry-After") != "60" {
		t.Errorf("201st: got %d %s Retry-After %q", resp.status, resp.body, resp.header.Get("Retry-After"))
	}
}

func TestRateLimit_TokenTenPerMinute(t *testing.T) {
	h := newHarness(t, Options{RateLimit: true}, nil)
	for i := range 10 {
		if resp := h.postForm(h.tokenForm()); resp.status != 200 {
			t.Fatalf("token %d: status = %d", i, resp.status)
		}
		if i == 4 {
			if resp := h.postForm(h.tokenForm()); resp.status != 429 || resp.body != slowDown("1s") {
				t.Fatalf("6th in a second: got %d %s", resp.status, resp.body)
			}
			h.clock.Advance(time.Second)
		}
	}
	h.clock.Advance(time.Second)
	if resp := h.postForm(h.tokenForm()); resp.status != 429 || resp.body != slowDown("1m") {
		t.Errorf("11th in a minute: got %d %s", resp.status, resp.body)
	}
}

func TestRateLimit_PerClientIP(t *testing.T) {
	h := newHarness(t, Options{RateLimit: true}, nil)
	for range 5 {
		h.postForm(h.tokenForm())
	}
	req, _ := http.NewRequest(http.MethodPost, h.base+"/identity/connect/token", nil)
	req.Header.Set("X-Connecting-IP", "203.0.113.9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 429 {
		t.Error("another client IP shares the bucket")
	}
}

func TestRateLimit_OffWhenSelfHostedOrDisabled(t *testing.T) {
	for _, opt := range []Options{{RateLimit: true, SelfHosted: true}, {}} {
		h := newHarness(t, opt, nil)
		for i := range 12 {
			if resp := h.postForm(h.tokenForm()); resp.status != 200 {
				t.Fatalf("%+v: token %d: status = %d", opt, i, resp.status)
			}
		}
	}
}
