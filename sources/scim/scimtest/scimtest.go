// Package scimtest serves a SCIM 2.0 directory over real HTTP for tests: the
// ListResponse envelope, bearer authentication, startIndex and count paging,
// and GET by id for /Users and /Groups, with switches that reproduce the
// quirks of real service providers (itemsPerPage echoing count, missing or
// null Resources, lower-case "resources", count caps, ignored startIndex,
// SCIMMY's first page past the end, groups without members, active as a
// string, no totalResults, cursor paging) and faults (429, 5xx, malformed
// bodies, stalls). Filters are recorded but not applied.
package scimtest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// BasePath is where the server mounts SCIM.
const BasePath = "/scim/v2"

// Resource is one SCIM resource as it is served, such as
// {"id": "u1", "userName": "ann", "active": true}. Tests may put anything in
// it, wrong types included.
type Resource = map[string]any

// Options configures a Server. The zero value serves an empty directory to
// the token "test-token" as RFC 7644 says.
type Options struct {
	// Token is the bearer token every request must carry. Default
	// "test-token".
	Token string
	// Users and Groups are the directory, served in this order.
	Users, Groups []Resource
	// DefaultCount is the page size when a request gives no count. Default
	// 100.
	DefaultCount int
	// MaxCount caps count, as servers do; 0 means no cap.
	MaxCount int
	// ItemsPerPageEchoesCount makes itemsPerPage the requested count rather
	// than the number of resources returned.
	ItemsPerPageEchoesCount bool
	// EmptyResources is how an empty page shows its resources: "" for [],
	// "missing" to leave the key out, "null" for null.
	EmptyResources string
	// LowercaseResources names the key "resources" (Bitwarden).
	LowercaseResources bool
	// IgnoreStartIndex serves every list from the first resource.
	IgnoreStartIndex bool
	// FirstPagePastEnd serves the first page for a startIndex past the end
	// (SCIMMY).
	FirstPagePastEnd bool
	// OmitTotalResults leaves totalResults out of lists.
	OmitTotalResults bool
	// GroupsWithoutMembers leaves members out of group lists; a group read
	// by id still has them (unless NoMembersByID).
	GroupsWithoutMembers bool
	// NoMembersByID leaves members out of groups read by id too (Bitwarden,
	// AWS).
	NoMembersByID bool
	// ActiveAsString serves boolean active values as "True" and "False".
	ActiveAsString bool
	// Cursor honours the cursor parameter as AWS IAM Identity Center does:
	// a request with cursor (empty for the first page) gets a page with
	// nextCursor while more remain, and no totalResults.
	Cursor bool
	// ContentType is the Content-Type of successes. Default
	// "application/scim+json".
	ContentType string
	// TLS serves HTTPS with a self-signed certificate; CertPEM returns it.
	TLS bool
	// Faults are answered instead of the real response to matching
	// requests, in order; the first fault that matches and has answers
	// left wins.
	Faults []Fault
}

// Fault is a canned answer to some requests.
type Fault struct {
	// Path matches the request's path below BasePath, such as "/Users" or
	// "/Groups/g1". "" matches every path.
	Path string
	// StartIndex, when positive, matches only requests with this startIndex.
	StartIndex int
	// Times is how many matching requests the fault answers; 0 means all.
	Times int
	// Status is the HTTP status. Default 500.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body is sent as is. Default: a SCIM error naming the fault.
	Body string
	// ContentType of Body. Default "application/scim+json".
	ContentType string
}

// Request is one request the server received.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is below BasePath, such as "/Users".
	Path string
	// Query holds the query parameters.
	Query url.Values
	// Authorization and Accept are the request's headers.
	Authorization, Accept string
}

// Server is a running SCIM test server.
type Server struct {
	opt     Options
	http    *httptest.Server
	closing chan struct{}

	mu          sync.Mutex
	requests    []Request
	faultUsed   []int
	stalled     chan struct{}
	stallOnce   *sync.Once
	inFlight    int
	maxInFlight int
}

// New starts a server over opt. Close it when done.
func New(opt Options) *Server {
	if opt.Token == "" {
		opt.Token = "test-token"
	}
	if opt.DefaultCount == 0 {
		opt.DefaultCount = 100
	}
	if opt.ContentType == "" {
		opt.ContentType = "application/scim+json"
	}
	s := &Server{opt: opt, closing: make(chan struct{}), faultUsed: make([]int, len(opt.Faults))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+BasePath+"/Users", s.list(opt.Users, false))
	mux.HandleFunc("GET "+BasePath+"/Groups", s.list(opt.Groups, true))
	mux.HandleFunc("GET "+BasePath+"/Users/{id}", s.get(opt.Users, false))
	mux.HandleFunc("GET "+BasePath+"/Groups/{id}", s.get(opt.Groups, true))
	mux.HandleFunc("GET "+BasePath+"/ServiceProviderConfig", s.serviceProviderConfig)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "", "no route for "+r.Method+" "+r.URL.Path)
	})
	s.http = httptest.NewUnstartedServer(s.middleware(mux))
	s.http.Config.ErrorLog = log.New(io.Discard, "", 0) // refused test certificates are expected
	if opt.TLS {
		s.http.StartTLS()
	} else {
		s.http.Start()
	}
	return s
}

// CertPEM returns the server's certificate in PEM, for a TLS server.
func (s *Server) CertPEM() []byte {
	if s.http.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.http.Certificate().Raw})
}

// URL returns the SCIM base URL, ending in BasePath.
func (s *Server) URL() string { return s.http.URL + BasePath }

// Close releases stalled requests and stops the server.
func (s *Server) Close() {
	close(s.closing)
	s.http.Close()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// MaxInFlight returns the largest number of requests the server was
// answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Stall makes every later request hang, answering nothing, until the
// client gives up or the server closes. The channel closes when the first
// stalled request arrives.
func (s *Server) Stall() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled == nil {
		s.stalled = make(chan struct{})
		s.stallOnce = new(sync.Once)
	}
	return s.stalled
}

// middleware records, stalls, injects faults and checks the token before
// the routes run.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, BasePath), Query: r.URL.Query(),
			Authorization: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"),
		})
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		stalled, once := s.stalled, s.stallOnce
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if stalled != nil {
			once.Do(func() { close(stalled) })
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
		if f := s.fault(r); f != nil {
			s.writeFault(w, f)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.opt.Token {
			s.writeError(w, http.StatusUnauthorized, "", "invalid bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fault returns the fault that answers r, counting its use, or nil.
func (s *Server) fault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, BasePath)
	for i := range s.opt.Faults {
		f := &s.opt.Faults[i]
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.StartIndex > 0 && r.URL.Query().Get("startIndex") != strconv.Itoa(f.StartIndex) {
			continue
		}
		if f.Times > 0 && s.faultUsed[i] >= f.Times {
			continue
		}
		s.faultUsed[i]++
		return f
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == "" {
		s.writeError(w, status, "", fmt.Sprintf("injected fault %d", status))
		return
	}
	ct := f.ContentType
	if ct == "" {
		ct = "application/scim+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(f.Body))
}

// writeError writes a SCIM error with status as a string, as RFC 7644
// §3.12 says.
func (s *Server) writeError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"status":  strconv.Itoa(status),
		"detail":  detail,
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	s.writeJSON(w, status, body)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", s.opt.ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"filter":  map[string]any{"supported": false, "maxResults": s.opt.MaxCount},
		"patch":   map[string]any{"supported": false},
		"bulk":    map[string]any{"supported": false},
		"sort":    map[string]any{"supported": false},
		"etag":    map[string]any{"supported": false},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "description": "test token",
		}},
	})
}
