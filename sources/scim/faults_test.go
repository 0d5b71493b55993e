package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sources/scim/scimtest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
)

// TestSnapshot_FailsOnBadPaging: servers whose paging would loop,
// duplicate or lose resources fail the read.
func TestSnapshot_FailsOnBadPaging(t *testing.T) {
	f := smallFixture(23)
	cases := []struct {
		name     string
		opt      scimtest.Options
		edit     func(*Config)
		want     error
		contains string
	}{
		{
			name: "IgnoresStartIndex", opt: scimtest.Options{IgnoreStartIndex: true},
			want: ErrRepeatedResource, contains: `user "u-p00" at Resources[0] of the Users page at startIndex 11 was already read`,
		},
		{
			name: "FirstPagePastEndWithoutTotal", opt: scimtest.Options{FirstPagePastEnd: true, OmitTotalResults: true},
			want: ErrRepeatedResource, contains: "startIndex 24",
		},
		{
			name: "MaxPagesWithoutTotal", opt: scimtest.Options{OmitTotalResults: true},
			edit: func(c *Config) { c.MaxPages = 2 }, want: ErrTooManyPages, contains: "max_pages is 2",
		},
		{
			name: "EmptyPageBeforeTotal",
			opt: scimtest.Options{Faults: []scimtest.Fault{{
				Path: "/Users", StartIndex: 11, Status: 200, Body: `{"totalResults":23,"Resources":[]}`,
			}}},
			want: ErrShortList, contains: "no resources at startIndex 11, but totalResults is 23",
		},
		{
			name: "CursorRepeats", opt: scimtest.Options{Faults: []scimtest.Fault{{
				Path: "/Users", Status: 200, Body: `{"Resources":[],"nextCursor":"again"}`,
			}}},
			edit: func(c *Config) { c.Paging = PagingCursor }, want: ErrRepeatedResource, contains: `nextCursor "again"`,
		},
		{
			name: "CursorMaxPages", opt: scimtest.Options{Cursor: true},
			edit: func(c *Config) { c.Paging = PagingCursor; c.MaxPages = 2 }, want: ErrTooManyPages, contains: "max_pages is 2",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fixtureServer(t, f, tc.opt)
			src := newTestSource(t, srv, func(c *Config) {
				c.PageSize = 10
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			snap, err := src.Snapshot(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Snapshot error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			if len(snap.Users) != 0 || len(snap.Groups) != 0 {
				t.Errorf("partial snapshot returned with the error")
			}
			if n := len(srv.Requests()); n > 20 {
				t.Errorf("%d requests before giving up", n)
			}
		})
	}
}

// TestSnapshot_BadRecords: malformed bodies, wrong types, missing ids and
// huge pages give an error naming the page or record, never a panic or a
// partial snapshot.
func TestSnapshot_BadRecords(t *testing.T) {
	good := scimtest.Resource{"id": "ok", "userName": "ok@example.com"}
	cases := []struct {
		name     string
		users    []scimtest.Resource
		groups   []scimtest.Resource
		faults   []scimtest.Fault
		edit     func(*Config)
		contains []string
	}{
		{
			name:     "MalformedJSON",
			users:    []scimtest.Resource{good},
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"totalResults": 3, "Resources": [{"id": "a",`}},
			contains: []string{"the Users page at startIndex 1", "decode list response", "unexpected end of JSON"},
		},
		{
			name:     "NotAnObject",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `[{"id":"a"}]`}},
			contains: []string{"bad response", "want a JSON object"},
		},
		{
			name:     "NotAListResponse",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"data":[]}`}},
			contains: []string{"not a SCIM ListResponse"},
		},
		{
			name:     "ErrorWithStatus200",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"SCIM is disabled"}`}},
			contains: []string{"SCIM is disabled", "status 403"},
		},
		{
			name:     "HTMLLoginPage",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `<html>login</html>`, ContentType: "text/html"}},
			contains: []string{`content type "text/html"`},
		},
		{
			name:     "ResourcesNotAnArray",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"totalResults":1,"Resources":{"id":"a"}}`}},
			contains: []string{"Resources: want an array, got object"},
		},
		{
			name:     "TotalResultsNegative",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"totalResults":-4,"Resources":[]}`}},
			contains: []string{"totalResults: want a non-negative integer, got number -4"},
		},
		{
			name:     "UserWithoutID",
			users:    []scimtest.Resource{good, {"userName": "lost@example.com"}},
			contains: []string{`user (Resources[1] of the Users page at startIndex 1): has no "id"`},
		},
		{
			name:     "UserWithoutExternalID",
			users:    []scimtest.Resource{{"id": "a1", "externalId": "x1"}, {"id": "b2", "userName": "b"}},
			edit:     func(c *Config) { c.IDAttribute = IDAttributeExternalID },
			contains: []string{`user "b2" (Resources[1] of the Users page at startIndex 1): has no "externalId"`},
		},
		{
			name:     "DuplicateExternalID",
			users:    []scimtest.Resource{{"id": "a1", "externalId": "x1"}, {"id": "b2", "externalId": "x1"}},
			edit:     func(c *Config) { c.IDAttribute = IDAttributeExternalID },
			contains: []string{`user "b2"`, `has the externalId "x1" of user "a1"`},
		},
		{
			name:     "EmailsNotAnArray",
			users:    []scimtest.Resource{good, {"id": "b2", "emails": "b@example.com"}},
			contains: []string{`user "b2" (Resources[1] of the Users page at startIndex 1): emails: want an array, got string`},
		},
		{
			name:     "ActiveNotABoolean",
			users:    []scimtest.Resource{{"id": "c3", "active": "yes"}},
			contains: []string{`user "c3"`, `active: want a boolean, got string "yes"`},
		},
		{
			name:     "PrimaryNotABoolean",
			users:    []scimtest.Resource{{"id": "c3", "emails": []any{map[string]any{"value": "c@x", "primary": 1}}}},
			contains: []string{`user "c3"`, `emails.primary: want a boolean, got number 1`},
		},
		{
			name:     "ResourceNotAnObject",
			faults:   []scimtest.Fault{{Path: "/Users", Status: 200, Body: `{"totalResults":2,"Resources":[{"id":"a"}, 42]}`}},
			contains: []string{`user (Resources[1] of the Users page at startIndex 1): bad response: want a JSON object, got "42"`},
		},
		{
			name:     "GroupWithoutName",
			users:    []scimtest.Resource{good},
			groups:   []scimtest.Resource{{"id": "g1", "members": []any{}}},
			contains: []string{`group "g1" (Resources[0] of the Groups page at startIndex 1): has no "displayName"`},
		},
		{
			name:     "MembersNotAnArray",
			users:    []scimtest.Resource{good},
			groups:   []scimtest.Resource{{"id": "g1", "displayName": "G", "members": map[string]any{"value": "ok"}}},
			contains: []string{`group "g1"`, "members: want an array, got object"},
		},
		{
			name:     "HugePage",
			users:    []scimtest.Resource{good, {"id": "big", "displayName": strings.Repeat("x", 4096)}},
			edit:     func(c *Config) {},
			contains: []string{"body larger than 2048 bytes"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, scimtest.Options{Users: tc.users, Groups: tc.groups, Faults: tc.faults})
			src := newTestSource(t, srv, tc.edit)
			if tc.name == "HugePage" {
				src.client.maxBody = 2048
			}
			snap, err := src.Snapshot(context.Background())
			if err == nil {
				t.Fatalf("Snapshot succeeded with %d users", len(snap.Users))
			}
			t.Logf("error: %v", err)
			for _, want := range tc.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
			if len(snap.Users) != 0 || len(snap.Groups) != 0 {
				t.Errorf("partial snapshot returned with the error")
			}
		})
	}
}

// TestSnapshot_Retries: throttling and short 5xx bursts are retried and the
// read succeeds; a persistent 5xx or a 4xx fails with the server's message.
func TestSnapshot_Retries(t *testing.T) {
	f := smallFixture(23)
	cases := []struct {
		name      string
		fault     scimtest.Fault
		wantErr   bool
		wantCalls int // requests to the faulty page
		contains  []string
	}{
		{name: "429WithRetryAfter", fault: scimtest.Fault{Status: 429, RetryAfter: "1", Times: 1}, wantCalls: 2},
		{name: "429WithoutRetryAfter", fault: scimtest.Fault{Status: 429, Times: 2}, wantCalls: 3},
		{name: "503Burst", fault: scimtest.Fault{Status: 503, RetryAfter: "0", Times: 3}, wantCalls: 4},
		{name: "502Burst", fault: scimtest.Fault{Status: 502, Times: 2}, wantCalls: 3},
		{
			name: "Persistent500", fault: scimtest.Fault{Status: 500}, wantErr: true, wantCalls: 4,
			contains: []string{"scim: read users: GET http://", "/scim/v2/Users?count=10&startIndex=11: 500 Internal Server Error: injected fault 500"},
		},
		{
			name: "400NotRetried", wantErr: true, wantCalls: 1,
			fault:    scimtest.Fault{Status: 400, Body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":400,"scimType":"invalidFilter","detail":"Unexpected token in filter"}`},
			contains: []string{"400 Bad Request: Unexpected token in filter (scimType invalidFilter)"},
		},
		{
			name: "PlainTextError", wantErr: true, wantCalls: 4,
			fault:    scimtest.Fault{Status: 502, Body: "<html>\n<h1>Bad Gateway</h1>\n</html>", ContentType: "text/html"},
			contains: []string{"502 Bad Gateway: <html> <h1>Bad Gateway</h1> </html>"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fault.Path, tc.fault.StartIndex = "/Users", 11
			srv := fixtureServer(t, f, scimtest.Options{Faults: []scimtest.Fault{tc.fault}})
			src := newTestSource(t, srv, func(c *Config) { c.PageSize = 10 })
			snap, err := src.Snapshot(context.Background())
			calls := 0
			for _, r := range srv.Requests() {
				if r.Path == "/Users" && r.Query.Get("startIndex") == "11" {
					calls++
				}
			}
			if calls != tc.wantCalls {
				t.Errorf("the faulty page was asked %d times, want %d", calls, tc.wantCalls)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
				sourcetest.Compare(t, f, snap)
				return
			}
			var resp *ResponseError
			if !errors.As(err, &resp) || resp.StatusCode != tc.fault.Status {
				t.Fatalf("Snapshot error = %v, want a *ResponseError with status %d", err, tc.fault.Status)
			}
			for _, want := range tc.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

func TestSnapshot_Unauthorized(t *testing.T) {
	srv := fixtureServer(t, smallFixture(3), scimtest.Options{Token: "right"})
	src := newTestSource(t, srv, func(c *Config) { c.Token = "wrong" })
	_, err := src.Snapshot(context.Background())
	var resp *ResponseError
	if !errors.As(err, &resp) || resp.StatusCode != http.StatusUnauthorized || resp.Detail != "invalid bearer token" {
		t.Fatalf("Snapshot error = %v, want a 401 with the server's detail", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q shows the token", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (a 401 is not retried)", n)
	}
}

// TestSnapshot_CancelDuringBackoff: a canceled read stops while waiting out
// a long Retry-After.
func TestSnapshot_CancelDuringBackoff(t *testing.T) {
	srv := fixtureServer(t, smallFixture(3), scimtest.Options{Faults: []scimtest.Fault{{Status: 503, RetryAfter: "3600"}}})
	cfg := DefaultConfig()
	cfg.URL, cfg.Token = srv.URL(), "test-token"
	src, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = src.Snapshot(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Snapshot error = %v, want one wrapping context.DeadlineExceeded", err)
	}
}

// TestSnapshot_CancelDuringGroupFetches: canceling while groups are fetched
// one by one stops every worker.
func TestSnapshot_CancelDuringGroupFetches(t *testing.T) {
	f := sourcetest.DefaultFixture()
	srv := fixtureServer(t, f, scimtest.Options{Faults: []scimtest.Fault{{Path: "/Groups/g-g2", Status: 503, RetryAfter: "3600"}}})
	cfg := DefaultConfig()
	cfg.URL, cfg.Token, cfg.GroupMembers = srv.URL(), "test-token", MembersPerGroup
	src, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = src.Snapshot(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Snapshot error = %v, want one wrapping context.DeadlineExceeded", err)
	}
}
