package bwemu

import (
	"bufio"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Request is one entry of the request log.
type Request struct {
	// Time is when the request arrived, on the server's clock.
	Time time.Time `json:"time"`
	// Method and Path are as the client sent them; Query is the raw query.
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	// Route is the matched route template, e.g.
	// "POST /api/public/members/{id}/revoke".
	Route string `json:"route"`
	// Status is the answer's status; 0 when the connection was dropped.
	Status int `json:"status"`
	// Body is the request body of writes (POST, PUT, DELETE), with the
	// token request's client_secret redacted.
	Body string `json:"body,omitempty"`
}

// Stats counts the API requests served (admin requests are not counted).
type Stats struct {
	// Requests is the number of API, identity and SCIM requests.
	Requests int `json:"requests"`
	// Writes is the number of POST, PUT and DELETE requests under /api,
	// whatever their answer.
	Writes int `json:"writes"`
	// ByRoute counts requests by route template, e.g.
	// "PUT /api/public/groups/{id}/member-ids".
	ByRoute map[string]int `json:"byRoute"`
	// ByRouteStatus counts requests by route template and answer status.
	ByRouteStatus map[string]map[int]int `json:"byRouteStatus"`
	// ByStatus counts requests by answer status.
	ByStatus map[int]int `json:"byStatus"`
	// Invitations counts invitation emails the organization would have sent
	// (invites, import invites, reinvites).
	Invitations int `json:"invitations"`
}

func newStats() Stats {
	return Stats{ByRoute: map[string]int{}, ByRouteStatus: map[string]map[int]int{}, ByStatus: map[int]int{}}
}

func (st Stats) clone() Stats {
	c := st
	c.ByRoute = maps.Clone(st.ByRoute)
	c.ByStatus = maps.Clone(st.ByStatus)
	c.ByRouteStatus = make(map[string]map[int]int, len(st.ByRouteStatus))
	for k, v := range st.ByRouteStatus {
		c.ByRouteStatus[k] = maps.Clone(v)
	}
	return c
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	copy(out, s.log)
	return out
}

// ClearRequests empties the request log and resets the stats.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.stats = newStats()
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.clone()
}

func (s *Server) record(r *http.Request, path, route string, body []byte, status int, start time.Time) {
	isWrite := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodDelete
	entry := Request{Time: start, Method: r.Method, Path: path, Query: r.URL.RawQuery, Route: route, Status: status}
	if isWrite && len(body) > 0 {
		entry.Body = redactBody(r, body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= s.opt.RequestLogLimit {
		drop := len(s.log) - s.opt.RequestLogLimit + 1
		s.log = append(s.log[:0], s.log[drop:]...)
	}
	s.log = append(s.log, entry)
	s.stats.Requests++
	if isWrite && strings.HasPrefix(r.URL.Path, "/api/") {
		s.stats.Writes++
	}
	s.stats.ByRoute[route]++
	s.stats.ByStatus[status]++
	byStatus := s.stats.ByRouteStatus[route]
	if byStatus == nil {
		byStatus = map[int]int{}
		s.stats.ByRouteStatus[route] = byStatus
	}
	byStatus[status]++
}

// redactBody hides the client secret of a token request.
func redactBody(r *http.Request, body []byte) string {
	if r.URL.Path != "/identity/connect/token" {
		return string(body)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "(unparsable form)"
	}
	for k := range form {
		if strings.EqualFold(k, "client_secret") || strings.EqualFold(k, "clientsecret") {
			form.Set(k, "REDACTED")
		}
	}
	return form.Encode()
}

// canonicalPath folds the path the way ASP.NET routing matches it: case
// insensitively and ignoring a trailing slash.
func canonicalPath(p string) string {
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}
	return strings.ToLower(p)
}

// routeName names the route a request matched, for the stats.
func routeName(method, pattern string) string {
	if pattern == "" {
		return method + " (unmatched)"
	}
	if i := strings.IndexByte(pattern, ' '); i > 0 && pattern[:i] != method {
		// A GET pattern matched HEAD.
		return method + pattern[i:]
	}
	return pattern
}

// recorder remembers the status written through it.
type recorder struct {
	http.ResponseWriter
	status int
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// Hijack lets a dropped-connection fault reach the connection.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rec.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
