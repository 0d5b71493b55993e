package bwemu

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaults_BurstThenRecovers(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.login()
	h.emu.AddFault(Fault{Method: "GET", Path: "/API/public/members", Status: 500, Count: 2})
	for i := range 2 {
		resp := h.call(http.MethodGet, membersURL, nil)
		if resp.status != 500 || resp.body != errBody(msgUnhandled) {
			t.Fatalf("call %d: got %d %s, want the 500 envelope", i, resp.status, resp.body)
		}
	}
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != 200 {
		t.Errorf("after the burst: status = %d, want 200", resp.status)
	}
	if resp := h.call(http.MethodGet, groupsURL, nil); resp.status != 200 {
		t.Errorf("other path: status = %d, want 200", resp.status)
	}
	if got := h.emu.Stats().ByRouteStatus["GET /api/public/members"]; got[500] != 2 || got[200] != 1 {
		t.Errorf("stats = %v, want two 500s and one 200", got)
	}
}

func TestFaults_DefaultBodies(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantBody   string
		wantHeader string
	}{
		{"TooManyRequests", Fault{Status: 429, RetryAfter: 3},
			`{"object":"error","message":"Slow down! Too many requests. Try again in 3s.","validationErrors":null,"exceptionMessage":null,"exceptionStackTrace":null,"innerExceptionMessage":null}`, "3"},
		{"TooManyRequestsDefault", Fault{Status: 429},
			`{"object":"error","message":"Slow down! Too many requests. Try again in 1s.","validationErrors":null,"exceptionMessage":null,"exceptionStackTrace":null,"innerExceptionMessage":null}`, "1"},
		{"BadGateway", Fault{Status: 502}, "<html>\r\n<head><title>502 Bad Gateway</title></head>", ""},
		{"Unavailable", Fault{Status: 503, RetryAfter: 2}, "<html>\r\n<head><title>503 Service Unavailable</title></head>", "2"},
		{"CustomBody", Fault{Status: 418, Body: `{"x":1}`}, `{"x":1}`, ""},
		{"NotFound", Fault{Status: 404}, ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{}, nil)
			h.login()
			h.emu.AddFault(tt.fault)
			resp := h.call(http.MethodGet, membersURL, nil)
			if resp.status != tt.fault.Status || !strings.HasPrefix(resp.body, tt.wantBody) || (tt.wantBody == "" && resp.body != "") {
				t.Errorf("got %d %q, want %d %q", resp.status, resp.body, tt.fault.Status, tt.wantBody)
			}
			if got := resp.header.Get("Retry-After"); got != tt.wantHeader {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantHeader)
			}
		})
	}
}

func TestFaults_TokenEndpoint(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.emu.AddFault(Fault{Path: "/identity/connect/token", Status: 503, Count: 1})
	if resp := h.postForm(h.tokenForm()); resp.status != 503 {
		t.Errorf("status = %d, want 503", resp.status)
	}
	if resp := h.postForm(h.tokenForm()); resp.status != 200 {
		t.Errorf("second: status = %d, want 200", resp.status)
	}
}

func TestFaults_LatencyHonoursCancellation(t *testing.T) {
	emu := New(Options{})
	emu.AddFault(Fault{Latency: time.Hour})
	arrived := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		emu.ServeHTTP(w, r)
	}))
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+membersURL, nil)
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The handler gives up too: the request is logged without an answer.
	// (Were it still sleeping, this would hang until the test times out.)
	for len(emu.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	if got := emu.Requests()[0].Status; got != 0 {
		t.Errorf("logged status = %d, want 0", got)
	}
}

func TestFaults_LatencyThenServes(t *testing.T) {
	org := testOrg()
	h := newHarness(t, Options{}, &org)
	h.login()
	h.emu.AddFault(Fault{Latency: time.Millisecond, Count: 1})
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != 200 {
		t.Errorf("status = %d, want 200 after the delay", resp.status)
	}
}

func TestFaults_DropConnection(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	h.emu.AddFault(Fault{Method: "POST", DropConnection: true, Count: 1})
	req, _ := http.NewRequest(http.MethodPost, h.base+membersURL, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		t.Fatalf("got status %d, want a connection error", res.StatusCode)
	}
	if resp := h.call(http.MethodGet, membersURL, nil); resp.status != 200 {
		t.Errorf("next request: status = %d, want 200", resp.status)
	}
}

func TestFaults_AdminEndpoints(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	h.login()
	resp := h.raw(http.MethodPost, "/_emu/faults", "application/json", `{"method":"GET","path":"/api/public/groups","status":502,"latency":"1ms","count":1}`, "")
	if resp.status != 200 {
		t.Fatalf("add fault: %d %s", resp.status, resp.body)
	}
	if resp := h.raw(http.MethodGet, "/_emu/faults", "", "", ""); !strings.Contains(resp.body, `"latency":"1ms"`) {
		t.Errorf("faults = %s", resp.body)
	}
	if resp := h.call(http.MethodGet, groupsURL, nil); resp.status != 502 {
		t.Errorf("status = %d, want 502", resp.status)
	}
	h.emu.AddFault(Fault{Status: 500})
	h.raw(http.MethodDelete, "/_emu/faults", "", "", "")
	if resp := h.call(http.MethodGet, groupsURL, nil); resp.status != 200 {
		t.Errorf("after clearing: status = %d, want 200", resp.status)
	}
	if resp := h.raw(http.MethodPost, "/_emu/faults", "application/json", `{"latency":"soon"}`, ""); resp.status != 400 {
		t.Errorf("bad fault: status = %d, want 400", resp.status)
	}
}
