package metrics

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The values of Health.Status.
const (
	// StatusOK: the last successful sync is recent and no guard refuses.
	StatusOK = "ok"
	// StatusStarting: no successful sync yet, within the grace after start.
	StatusStarting = "starting"
	// StatusRefused: a safety guard refused the last plan.
	StatusRefused = "refused"
	// StatusStale: the last successful sync is too old, or there has been
	// none since the grace after start ended.
	StatusStale = "stale"
)

// Health is what /healthz reports: whether the organization is being kept
// in step, and why not.
type Health struct {
	// OK is true for StatusOK and StatusStarting (HTTP 200), false
	// otherwise (503).
	OK bool `json:"ok"`
	// Status is one of StatusOK, StatusStarting, StatusRefused, StatusStale.
	Status string `json:"status"`
	// Reason says the same in a sentence.
	Reason string `json:"reason"`
	// MaxAge is the health_max_age the answer was computed with.
	MaxAge time.Duration `json:"-"`
	// Started is when the process started (when the Metrics were made).
	Started time.Time `json:"started"`
	// LastSuccess is when the last successful run ended; zero if none.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastSuccessAge is how long ago that was.
	LastSuccessAge time.Duration `json:"-"`
	// LastRun is when the last run ended, LastResult its result (see
	// Outcome) and LastError its error text; zero and empty before any run.
	LastRun    time.Time `json:"last_run,omitzero"`
	LastResult string    `json:"last_result,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	// NextRun is when the next run is due; zero if unknown.
	NextRun time.Time `json:"next_run,omitzero"`
	// Refusals are the guards that refused the last plan.
	Refusals []Refusal `json:"refusals,omitempty"`
}

// Refusal is one guard's refusal of the last plan.
type Refusal struct {
	Guard  string `json:"guard"`
	Reason string `json:"reason"`
}

// Status returns the daemon's health at now: failing when the last plan
// was refused by a guard, or when the last successful run is older than
// maxAge (or there has been none and the process started more than maxAge
// ago). A maxAge of zero or less never counts a success as too old.
func (m *Metrics) Status(now time.Time, maxAge time.Duration) Health {
	m.mu.Lock()
	st := m.st
	st.refusals = append([]Refusal(nil), m.st.refusals...)
	m.mu.Unlock()

	h := Health{
		MaxAge: maxAge, Started: st.started, LastSuccess: st.lastSuccess,
		LastRun: st.lastRun, LastResult: st.lastResult, LastError: st.lastError,
		NextRun: st.nextRun, Refusals: st.refusals,
	}
	if !st.lastSuccess.IsZero() {
		h.LastSuccessAge = max(now.Sub(st.lastSuccess), 0)
	}
	switch {
	case len(st.refusals) > 0:
		h.Status, h.Reason = StatusRefused, refusedReason(st.refusals)
	case st.lastSuccess.IsZero() && (maxAge <= 0 || now.Sub(st.started) < maxAge):
		h.Status, h.Reason = StatusStarting, fmt.Sprintf("no successful sync yet; started %s ago", ago(now.Sub(st.started)))
	case st.lastSuccess.IsZero():
		h.Status, h.Reason = StatusStale, fmt.Sprintf("no successful sync yet; started %s ago, over health_max_age (%s)",
			ago(now.Sub(st.started)), ago(maxAge))
	case maxAge > 0 && h.LastSuccessAge > maxAge:
		h.Status, h.Reason = StatusStale, fmt.Sprintf("last successful sync %s ago (%s), over health_max_age (%s)",
			ago(h.LastSuccessAge), st.lastSuccess.Format(time.RFC3339), ago(maxAge))
	default:
		h.Status, h.Reason = StatusOK, fmt.Sprintf("last successful sync %s ago (%s)",
			ago(h.LastSuccessAge), st.lastSuccess.Format(time.RFC3339))
	}
	h.OK = h.Status == StatusOK || h.Status == StatusStarting
	if st.lastResult != "" && st.lastResult != "ok" && st.lastResult != "no_changes" && h.Status != StatusRefused {
		h.Reason += "; last run: " + st.lastResult
		if st.lastError != "" {
			h.Reason += ": " + st.lastError
		}
	}
	return h
}

// MarshalJSON adds max_age_seconds and last_success_age_seconds to the
// fields' own encoding.
func (h Health) MarshalJSON() ([]byte, error) {
	type fields Health
	out := struct {
		fields
		MaxAgeSeconds         float64  `json:"max_age_seconds"`
		LastSuccessAgeSeconds *float64 `json:"last_success_age_seconds,omitempty"`
	}{fields: fields(h), MaxAgeSeconds: h.MaxAge.Seconds()}
	if !h.LastSuccess.IsZero() {
		age := h.LastSuccessAge.Round(time.Millisecond).Seconds()
		out.LastSuccessAgeSeconds = &age
	}
	return json.Marshal(out)
}

// String returns the health in one line, such as "ok: last successful sync
// 12m0s ago (2026-11-30T10:00:00Z)", for /healthz and a status line.
func (h Health) String() string {
	return h.Status + ": " + h.Reason
}

// refusedReason names the guards that refused and why.
func refusedReason(rs []Refusal) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Guard + " guard: " + r.Reason
	}
	return "the last plan was refused: " + strings.Join(parts, "; ")
}

// ago rounds d to the second for people.
func ago(d time.Duration) string {
	return max(d, 0).Round(time.Second).String()
}
