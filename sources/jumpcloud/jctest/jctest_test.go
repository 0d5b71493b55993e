package jctest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get sends a GET with the given headers and returns the status, the
// Retry-After header and the body.
func get(t *testing.T, srv *Server, pathQuery string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", pathQuery, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", pathQuery, err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

var key = map[string]string{"x-api-key": DefaultAPIKey}

func start(t *testing.T, opt Options) *Server {
	t.Helper()
	srv := New(opt)
	t.Cleanup(srv.Close)
	return srv
}

func users(n int) []User {
	var us []User
	for i := range n {
		us = append(us, User{ID: UserID(i + 1), Email: "u@example.com", State: "ACTIVATED"})
	}
	return us
}

type usersEnvelope struct {
	TotalCount int              `json:"totalCount"`
	Results    []map[string]any `json:"results"`
}

func decodeUsers(t *testing.T, body string) usersEnvelope {
	t.Helper()
	var env usersEnvelope
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return env
}

func ids(env usersEnvelope) []string {
	var out []string
	for _, r := range env.Results {
		id, _ := r["_id"].(string)
		out = append(out, id)
	}
	return out
}

func TestServer_Auth(t *testing.T) {
	org := "5c0000000000000000000001"
	srv := start(t, Options{OrgID: org, Users: users(1), Groups: []Group{{ID: GroupID(1), Name: "G"}}})
	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
		wantBody   string
	}{
		{"NoKeyV1", "/api/systemusers", nil, 401, `{"message":"Unauthorized"}`},
		{"WrongKeyV2", "/api/v2/usergroups", map[string]string{"x-api-key": "nope", "x-org-id": org}, 401,
			`{"code":401,"message":"Unauthorized","status":"UNAUTHENTICATED"}`},
		{"MalformedOrg", "/api/systemusers", map[string]string{"x-api-key": DefaultAPIKey, "x-org-id": "xyz"}, 400,
			`{"message":"Bad Request: malformed x-org-id header"}`},
		{"MissingOrg", "/api/systemusers", key, 401,
			`{"message":"Unauthorized: x-org-id header is required for multi-tenant admins"}`},
		{"OtherOrg", "/api/v2/usergroups", map[string]string{"x-api-key": DefaultAPIKey, "x-org-id": "5c0000000000000000000002"}, 404,
			`{"code":404,"message":"Not Found: organization not found","status":"NOT_FOUND"}`},
		{"Good", "/api/v2/usergroups/" + GroupID(1) + "/members", map[string]string{"x-api-key": DefaultAPIKey, "x-org-id": org}, 200, `[]`},
		{"UnknownGroup", "/api/v2/usergroups/" + GroupID(9) + "/members", map[string]string{"x-api-key": DefaultAPIKey, "x-org-id": org}, 404,
			`{"code":404,"message":"Not Found: user group not found","status":"NOT_FOUND"}`},
		{"UnknownRoute", "/api/v2/systemgroups", key, 404, `{"message":"Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := get(t, srv, tt.path, tt.header)
			if status != tt.wantStatus || strings.TrimSpace(body) != tt.wantBody {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestServer_LimitAbove100(t *testing.T) {
	srv := start(t, Options{Users: users(3)})
	// The exact body JumpCloud sends (jcapi-python#38).
	want := `{"message":"Bad Request: request parameter \"limit\" exceeds maximum value of 100"}`
	status, _, body := get(t, srv, "/api/systemusers?limit=101", key)
	if status != 400 || body != want {
		t.Errorf("got %d %s, want 400 %s", status, body, want)
	}
	status, _, _ = get(t, srv, "/api/v2/usergroups?limit=101", key)
	if status != 400 {
		t.Errorf("v2 limit=101: got %d, want 400", status)
	}
	status, _, _ = get(t, srv, "/api/systemusers?limit=100", key)
	if status != 200 {
		t.Errorf("limit=100: got %d, want 200", status)
	}
}

func TestServer_SortSkipAndDefaults(t *testing.T) {
	us := users(25)
	// Natural order differs from _id order.
	us[0], us[24] = us[24], us[0]
	srv := start(t, Options{Users: us})

	env := decodeUsers(t, mustGet(t, srv, "/api/systemusers"))
	if env.TotalCount != 25 || len(env.Results) != 10 {
		t.Errorf("default page: totalCount %d, %d results; want 25, 10", env.TotalCount, len(env.Results))
	}
	if got := ids(env)[0]; got != UserID(25) {
		t.Errorf("unsorted first id = %s, want natural order %s", got, UserID(25))
	}
	env = decodeUsers(t, mustGet(t, srv, "/api/systemusers?limit=5&skip=20&sort=_id"))
	if got, want := strings.Join(ids(env), ","), strings.Join([]string{UserID(21), UserID(22), UserID(23), UserID(24), UserID(25)}, ","); got != want {
		t.Errorf("sort=_id skip=20: ids %s, want %s", got, want)
	}
	env = decodeUsers(t, mustGet(t, srv, "/api/systemusers?limit=1&sort=-_id"))
	if got := ids(env)[0]; got != UserID(25) {
		t.Errorf("sort=-_id first = %s, want %s", got, UserID(25))
	}
	env = decodeUsers(t, mustGet(t, srv, "/api/systemusers?skip=30"))
	if env.TotalCount != 25 || len(env.Results) != 0 {
		t.Errorf("past the end: totalCount %d, %d results; want 25, 0", env.TotalCount, len(env.Results))
	}
	if status, _, _ := get(t, srv, "/api/systemusers?sort=salary", key); status != 400 {
		t.Errorf("unknown sort field: status %d, want 400", status)
	}
	if status, _, _ := get(t, srv, "/api/systemusers?skip=-1", key); status != 400 {
		t.Errorf("negative skip: status %d, want 400", status)
	}
}

func TestServer_Fields(t *testing.T) {
	srv := start(t, Options{Users: users(1)})
	env := decodeUsers(t, mustGet(t, srv, "/api/systemusers?fields=email+suspended"))
	if len(env.Results) != 1 || len(env.Results[0]) != 3 {
		t.Fatalf("fields=email suspended: got %v, want _id, email and suspended", env.Results)
	}
	env = decodeUsers(t, mustGet(t, srv, "/api/systemusers"))
	if _, ok := env.Results[0]["organization"]; !ok {
		t.Errorf("no fields: got %v, want every field", env.Results[0])
	}
}

func TestServer_GroupsAndMembers(t *testing.T) {
	srv := start(t, Options{Groups: []Group{{ID: GroupID(1), Name: "A", Members: []string{UserID(1), UserID(2), UserID(3)}}}})
	var groups []map[string]any
	if err := json.Unmarshal([]byte(mustGet(t, srv, "/api/v2/usergroups?limit=100")), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0]["id"] != GroupID(1) || groups[0]["name"] != "A" || groups[0]["type"] != "user_group" {
		t.Errorf("groups = %v", groups)
	}
	var members []struct {
		To struct{ ID, Type string } `json:"to"`
	}
	if err := json.Unmarshal([]byte(mustGet(t, srv, "/api/v2/usergroups/"+GroupID(1)+"/members?limit=2&skip=1")), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].To.ID != UserID(2) || members[1].To.Type != "user" {
		t.Errorf("members = %+v", members)
	}
}

func TestServer_Faults(t *testing.T) {
	srv := start(t, Options{Users: users(30)})
	srv.Inject(Fault{Route: RouteUsers, After: 1, Times: 1, Status: 429, RetryAfter: "1"})
	srv.Inject(Fault{Route: RouteUsers, After: 2, Times: 1, Short: 4})
	srv.Inject(Fault{Route: RouteUsers, After: 3, Times: 1, Extra: 2, IgnoreSkip: true})
	srv.Inject(Fault{Route: RouteUsers, After: 4, Times: 1, Body: `{"totalCount":`})
	srv.Inject(Fault{Route: RouteUsers, After: 5, Times: 1, Status: 502})
	srv.Inject(Fault{Route: RouteUsers, After: 6, Times: 1, Before: func(s *Server) { s.DeleteUser(UserID(1)) }})

	if env := decodeUsers(t, mustGet(t, srv, "/api/systemusers?limit=10")); len(env.Results) != 10 {
		t.Errorf("request 1: %d results, want 10", len(env.Results))
	}
	if status, ra, body := get(t, srv, "/api/systemusers", key); status != 429 || ra != "1" || body != `{"message":"Too Many Requests"}` {
		t.Errorf("request 2: got %d Retry-After %q %s; want 429 with Retry-After 1", status, ra, body)
	}
	if env := decodeUsers(t, mustGet(t, srv, "/api/systemusers?limit=10")); len(env.Results) != 6 || env.TotalCount != 30 {
		t.Errorf("request 3 (short): %d results of %d, want 6 of 30", len(env.Results), env.TotalCount)
	}
	env := decodeUsers(t, mustGet(t, srv, "/api/systemusers?limit=10&skip=20"))
	if len(env.Results) != 12 || ids(env)[0] != UserID(1) {
		t.Errorf("request 4 (huge, skip ignored): %d results from %s, want 12 from %s", len(env.Results), ids(env)[0], UserID(1))
	}
	if body := mustGet(t, srv, "/api/systemusers"); body != `{"totalCount":` {
		t.Errorf("request 5 (raw body) = %s", body)
	}
	if status, _, body := get(t, srv, "/api/systemusers", key); status != 502 || !strings.Contains(body, "<html>") {
		t.Errorf("request 6: got %d %s, want 502 with an HTML page", status, body)
	}
	if env := decodeUsers(t, mustGet(t, srv, "/api/systemusers")); env.TotalCount != 29 {
		t.Errorf("request 7 (after a delete): totalCount %d, want 29", env.TotalCount)
	}
	if got := srv.Count(RouteUsers); got != 7 {
		t.Errorf("Count(users) = %d, want 7", got)
	}
	reqs := srv.Requests()
	if reqs[1].Status != 429 || reqs[1].Query.Get("limit") != "" || reqs[0].Header.Get("x-api-key") != DefaultAPIKey {
		t.Errorf("recorded requests = %+v", reqs[:2])
	}
}

func mustGet(t *testing.T, srv *Server, pathQuery string) string {
	t.Helper()
	status, _, body := get(t, srv, pathQuery, key)
	if status != 200 {
		t.Fatalf("GET %s = %d %s", pathQuery, status, body)
	}
	return body
}
