package jctest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LimitTooLarge is JumpCloud's message for a limit above 100.
const LimitTooLarge = `Bad Request: request parameter "limit" exceeds maximum value of 100`

// maxLimit is the largest page JumpCloud serves.
const maxLimit = 100

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// serve answers one request.
func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	route, group, known := parseRoute(r.URL.Path)
	w := &statusWriter{ResponseWriter: rw}
	s.mu.Lock()
	i := len(s.requests)
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, Route: route, Group: group,
		Query: r.URL.Query(), Header: r.Header.Clone(), Time: time.Now(),
	})
	s.enter(route)
	e := s.match(route, group)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.requests[i].Status = w.status
		s.leave(route)
		s.mu.Unlock()
	}()

	for _, f := range e.before {
		f(s)
	}
	switch {
	case e.stall:
		s.stallOnce.Do(func() { close(s.stalled) })
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	case e.hangup:
		if conn, _, err := http.NewResponseController(rw).Hijack(); err == nil {
			conn.Close()
		}
		return
	case e.status != 0:
		if e.retryAfter != "" {
			w.Header().Set("Retry-After", e.retryAfter)
		}
		if e.hasBody {
			writeRaw(w, e.status, e.body)
			return
		}
		writeError(w, route, e.status, http.StatusText(e.status))
		return
	case e.hasBody:
		writeRaw(w, http.StatusOK, e.body)
		return
	}

	if !known {
		writeError(w, RouteUsers, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, route, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if status, msg := s.authorize(r); status != 0 {
		writeError(w, route, status, msg)
		return
	}
	limit, skip, msg := pageParams(r)
	if msg != "" {
		writeError(w, route, http.StatusBadRequest, msg)
		return
	}
	if e.ignoreSkip {
		skip = 0
	}
	switch route {
	case RouteUsers:
		s.serveUsers(w, r, limit, skip, e)
	case RouteGroups:
		s.serveGroups(w, r, limit, skip, e)
	case RouteMembers:
		s.serveMembers(w, group, limit, skip, e)
	}
}

func (s *Server) enter(route Route) {
	for _, k := range []Route{route, ""} {
		s.inflight[k]++
		s.maxInflight[k] = max(s.maxInflight[k], s.inflight[k])
	}
}

func (s *Server) leave(route Route) {
	s.inflight[route]--
	s.inflight[""]--
}

// parseRoute names the route of path, and the group id of a members route.
func parseRoute(path string) (Route, string, bool) {
	switch {
	case path == "/api/systemusers":
		return RouteUsers, "", true
	case path == "/api/v2/usergroups":
		return RouteGroups, "", true
	case strings.HasPrefix(path, "/api/v2/usergroups/") && strings.HasSuffix(path, "/members"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v2/usergroups/"), "/members")
		if id != "" && !strings.Contains(id, "/") {
			return RouteMembers, id, true
		}
	}
	return "", "", false
}

// authorize checks x-api-key and x-org-id, and returns the error status and
// message, or 0.
func (s *Server) authorize(r *http.Request) (int, string) {
	if r.Header.Get("x-api-key") != s.apiKey {
		return http.StatusUnauthorized, "Unauthorized"
	}
	org := r.Header.Get("x-org-id")
	switch {
	case org != "" && !isObjectID(org):
		return http.StatusBadRequest, "Bad Request: malformed x-org-id header"
	case s.orgID == "":
		return 0, ""
	case org == "":
		return http.StatusUnauthorized, "Unauthorized: x-org-id header is required for multi-tenant admins"
	case !strings.EqualFold(org, s.orgID):
		return http.StatusNotFound, "Not Found: organization not found"
	}
	return 0, ""
}

// pageParams reads limit (default 10, at most 100) and skip (default 0).
func pageParams(r *http.Request) (limit, skip int, msg string) {
	q := r.URL.Query()
	limit = 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			return 0, 0, `Bad Request: request parameter "limit" must be a non-negative integer`
		case n > maxLimit:
			return 0, 0, LimitTooLarge
		case n > 0:
			limit = n
		}
	}
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, `Bad Request: request parameter "skip" must be a non-negative integer`
		}
		skip = n
	}
	return limit, skip, ""
}

// serveUsers answers GET /api/systemusers.
func (s *Server) serveUsers(w http.ResponseWriter, r *http.Request, limit, skip int, e effect) {
	s.mu.Lock()
	users := slices.Clone(s.users)
	s.mu.Unlock()
	q := r.URL.Query()
	if err := sortBy(users, q.Get("sort"), userKey); err != "" {
		writeError(w, RouteUsers, http.StatusBadRequest, err)
		return
	}
	page := window(users, limit, skip, e)
	for i := range e.extra {
		page = append(page, User{ID: fmt.Sprintf("ee%022x", i), Email: fmt.Sprintf("extra%d@example.com", i), State: "ACTIVATED"})
	}
	fields := splitList(q.Get("fields"))
	results := make([]map[string]any, 0, len(page))
	for _, u := range page {
		results = append(results, project(userJSON(u), fields))
	}
	mangle(results, e, func(m map[string]any) { delete(m, "_id") }, func(m map[string]any) { m["email"] = 42 })
	writePage(w, map[string]any{"totalCount": len(users), "results": results}, e)
}

// serveGroups answers GET /api/v2/usergroups.
func (s *Server) serveGroups(w http.ResponseWriter, r *http.Request, limit, skip int, e effect) {
	s.mu.Lock()
	groups := slices.Clone(s.groups)
	s.mu.Unlock()
	if err := sortBy(groups, r.URL.Query().Get("sort"), groupKey); err != "" {
		writeError(w, RouteGroups, http.StatusBadRequest, err)
		return
	}
	page := window(groups, limit, skip, e)
	for i := range e.extra {
		page = append(page, Group{ID: fmt.Sprintf("ef%022x", i), Name: fmt.Sprintf("Extra %d", i)})
	}
	out := make([]map[string]any, 0, len(page))
	for _, g := range page {
		out = append(out, map[string]any{
			"id": g.ID, "name": g.Name, "type": "user_group", "description": "", "email": "",
			"attributes": map[string]any{}, "membershipMethod": "STATIC", "memberQueryErrorFlags": []string{},
			"suggestionCounts": map[string]int{"add": 0, "remove": 0, "total": 0},
		})
	}
	mangle(out, e, func(m map[string]any) { delete(m, "id") }, func(m map[string]any) { m["name"] = 42 })
	writePage(w, out, e)
}

// serveMembers answers GET /api/v2/usergroups/{id}/members.
func (s *Server) serveMembers(w http.ResponseWriter, group string, limit, skip int, e effect) {
	s.mu.Lock()
	i := slices.IndexFunc(s.groups, func(g Group) bool { return g.ID == group })
	var members []string
	if i >= 0 {
		members = slices.Clone(s.groups[i].Members)
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, RouteMembers, http.StatusNotFound, "Not Found: user group not found")
		return
	}
	page := window(members, limit, skip, e)
	for i := range e.extra {
		page = append(page, fmt.Sprintf("ed%022x", i))
	}
	out := make([]map[string]any, 0, len(page))
	for _, id := range page {
		out = append(out, map[string]any{
			"to":         map[string]any{"id": id, "type": "user", "attributes": nil},
			"attributes": nil,
		})
	}
	mangle(out, e, func(m map[string]any) { delete(m["to"].(map[string]any), "id") }, func(m map[string]any) { m["to"] = "not an object" })
	writePage(w, out, e)
}

// mangle applies DropIDs (dropID on every record) and WrongTypes (wrongType
// on the first record).
func mangle(records []map[string]any, e effect, dropID, wrongType func(map[string]any)) {
	if e.dropIDs {
		for _, r := range records {
			dropID(r)
		}
	}
	if e.wrongTypes && len(records) > 0 {
		wrongType(records[0])
	}
}

// writePage writes a page with 200, cut in half under Truncate.
func writePage(w http.ResponseWriter, v any, e effect) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if e.truncate {
		b = b[:len(b)/2]
	}
	writeRaw(w, http.StatusOK, string(b))
}

// window returns the page of items at skip, shortened by e.short.
func window[T any](items []T, limit, skip int, e effect) []T {
	lo := min(skip, len(items))
	hi := min(lo+limit, len(items))
	page := slices.Clone(items[lo:hi])
	return page[:max(0, len(page)-e.short)]
}

// sortBy sorts items by a JumpCloud sort parameter: fields separated by
// spaces or commas, each optionally prefixed with "-" for descending. It
// returns an error message for an unknown field.
func sortBy[T any](items []T, param string, key func(T, string) (string, bool)) string {
	fields := splitList(param)
	if len(fields) == 0 {
		return ""
	}
	var zero T
	for _, f := range fields {
		if _, ok := key(zero, strings.TrimPrefix(f, "-")); !ok {
			return fmt.Sprintf("Bad Request: invalid sort field %q", f)
		}
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, f := range fields {
			name, desc := strings.TrimPrefix(f, "-"), strings.HasPrefix(f, "-")
			ka, _ := key(a, name)
			kb, _ := key(b, name)
			if c := cmp.Compare(ka, kb); c != 0 {
				if desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	return ""
}

func userKey(u User, field string) (string, bool) {
	switch field {
	case "_id":
		return u.ID, true
	case "email":
		return u.Email, true
	case "username":
		return u.Username, true
	}
	return "", false
}

func groupKey(g Group, field string) (string, bool) {
	switch field {
	case "id":
		return g.ID, true
	case "name":
		return g.Name, true
	}
	return "", false
}

// splitList splits a list parameter on spaces and commas.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// userJSON renders a user the way /api/systemusers does, with a few of the
// fields the source does not read.
func userJSON(u User) map[string]any {
	m := map[string]any{
		"email": u.Email, "username": u.Username, "displayname": u.DisplayName,
		"firstname": u.FirstName, "lastname": u.LastName, "middlename": "",
		"suspended": u.Suspended, "activated": u.Activated,
		"password_expired": u.PasswordExpired, "account_locked": u.AccountLocked,
		"account_locked_date": nil, "organization": "5c0000000000000000000001",
		"created": "2024-01-02T03:04:05.000Z", "attributes": []any{}, "addresses": []any{},
		"mfa":      map[string]any{"configured": false, "exclusion": false},
		"ssh_keys": []any{}, "sudo": false, "employeeIdentifier": nil,
	}
	if u.ID != "" {
		m["_id"] = u.ID
	}
	if u.State != "" {
		m["state"] = u.State
	}
	return m
}

// project keeps only fields (and _id) of m; no fields keeps everything.
func project(m map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return m
	}
	out := make(map[string]any, len(fields)+1)
	for _, f := range append(fields, "_id") {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}

// writeError writes JumpCloud's error body for the route: v1 {"message"},
// v2 {"code","message","status"}; 502-504 get a load balancer's HTML page.
func writeError(w http.ResponseWriter, route Route, status int, msg string) {
	switch {
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%[1]d %[2]s</h1></body></html>\n", status, http.StatusText(status))
	case route == RouteUsers:
		writeJSON(w, status, map[string]any{"message": msg})
	default:
		writeJSON(w, status, map[string]any{"code": status, "message": msg, "status": rpcStatus(status)})
	}
}

func rpcStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	}
	return "INTERNAL"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, string(b))
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
