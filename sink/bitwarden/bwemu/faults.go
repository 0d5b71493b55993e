package bwemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests fail, wait or lose their connection. Faults
// apply before rate limits, authentication and routing, to every route but
// the admin endpoints; the first matching fault wins.
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string `json:"method,omitempty"`
	// Path matches a prefix of the URL path (case-insensitively), e.g.
	// "/api/public/members"; "" matches any.
	Path string `json:"path,omitempty"`
	// Status is answered instead of serving the request (e.g. 500, 502,
	// 429). 0 serves the request normally after Latency.
	Status int `json:"status,omitempty"`
	// RetryAfter sets the Retry-After header, in seconds. A 429 without it
	// says 1.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Latency is slept before answering; a canceled request stops the
	// wait. In JSON a Go duration string ("250ms") or nanoseconds.
	Latency time.Duration `json:"latency,omitempty"`
	// Count is how many requests the fault hits; 0 means forever.
	Count int `json:"count,omitempty"`
	// Body replaces the default body, which is the spec's body for the
	// status: the rate-limit JSON for 429, the unhandled-error envelope for
	// 500, nginx's page for 502-504, nothing for the rest.
	Body string `json:"body,omitempty"`
	// DropConnection closes the connection without answering.
	DropConnection bool `json:"dropConnection,omitempty"`
}

// UnmarshalJSON accepts latency as a duration string or nanoseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var aux struct {
		plain
		Latency json.RawMessage `json:"latency"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Fault(aux.plain)
	f.Latency = 0
	if len(aux.Latency) == 0 || string(aux.Latency) == "null" {
		return nil
	}
	var text string
	if json.Unmarshal(aux.Latency, &text) == nil {
		d, err := time.ParseDuration(text)
		if err != nil {
			return fmt.Errorf("fault latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	var ns int64
	if err := json.Unmarshal(aux.Latency, &ns); err != nil {
		return fmt.Errorf("fault latency: %w", err)
	}
	f.Latency = time.Duration(ns)
	return nil
}

// MarshalJSON writes latency as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	aux := struct {
		plain
		Latency string `json:"latency,omitempty"`
	}{plain: plain(f)}
	if f.Latency > 0 {
		aux.Latency = f.Latency.String()
	}
	return json.Marshal(aux)
}

// faultEntry is an installed fault with its remaining hits.
type faultEntry struct {
	Fault
	remaining int // -1: forever
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	return strings.HasPrefix(r.URL.Path, canonicalPath(f.Path)) || f.Path == ""
}

// AddFault installs a fault after the ones already installed.
func (s *Server) AddFault(f Fault) {
	e := &faultEntry{Fault: f, remaining: f.Count}
	if f.Count <= 0 {
		e.remaining = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, e)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the installed faults, Count holding the hits left (0 for
// the ones that last forever).
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, e := range s.faults {
		f := e.Fault
		f.Count = max(e.remaining, 0)
		out = append(out, f)
	}
	return out
}

// takeFault returns the first fault matching r, spending one of its hits.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.faults {
		if !e.matches(r) {
			continue
		}
		if e.remaining > 0 {
			e.remaining--
			if e.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return e.Fault, true
	}
	return Fault{}, false
}

// injectFault applies the first matching fault; it reports whether the
// request has been answered (or abandoned).
func (s *Server) injectFault(w *recorder, r *http.Request) bool {
	f, ok := s.takeFault(r)
	if !ok {
		return false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true // the client is gone; nothing to answer
		}
	}
	if f.DropConnection {
		dropConnection(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	writeFault(w, f)
	return true
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	}
	_ = conn.Close()
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Body != "" {
		ct := "text/plain; charset=utf-8"
		if b := strings.TrimSpace(f.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			ct = "application/json; charset=utf-8"
		}
		writeRaw(w, f.Status, ct, []byte(f.Body))
		return
	}
	switch f.Status {
	case http.StatusTooManyRequests:
		retry := max(f.RetryAfter, 1)
		writeSlowDown(w, retry, strconv.Itoa(retry)+"s")
	case http.StatusInternalServerError:
		writeAPIError(w, unhandled())
	case http.StatusBadRequest:
		writeAPIError(w, &apiError{status: http.StatusBadRequest, message: "Errors have occurred.",
			errors: map[string][]string{"An error has occurred.": {"Injected fault."}}})
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeEmpty(w, f.Status)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		text := fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
		page := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
		writeRaw(w, f.Status, "text/html", []byte(page))
	default:
		writeEmpty(w, f.Status)
	}
}
