package metrics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// get serves one GET request to h and returns the status code, the
// Content-Type and the body.
func get(t *testing.T, h http.Handler, target string, header ...string) (int, string, string) {
	t.Helper()
	return do(t, h, http.MethodGet, target, header...)
}

// do serves one request to h; header holds name, value pairs.
func do(t *testing.T, h http.Handler, method, target string, header ...string) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
}

// TestHealthz_Transitions walks /healthz through a day of runs on a fake
// clock: the start-up grace, a first run that fails, the grace running
// out, a success, a refusal, its lifting, and a success growing old.
func TestHealthz_Transitions(t *testing.T) {
	m := New("test")
	m.st.started = t0
	var now time.Time
	h := m.Handler(2*time.Hour, func() time.Time { return now })

	steps := []struct {
		name     string
		at       time.Duration
		observe  *run
		wantCode int
		wantBody string // the first line starts with it
		wantAlso string // and contains this
	}{
		{"Started", 0, nil, 200, "starting: no successful sync yet; started 0s ago", ""},
		{"FirstRunFailed", 10 * time.Minute, ptr(readFailed(9 * time.Minute)), 200, "starting: no successful sync yet; started 10m0s ago",
			"; last run: error: read directory: ldap: bind: invalid credentials"},
		{"GraceOver", 2*time.Hour + time.Second, nil, 503, "stale: no successful sync yet; started 2h0m1s ago, over health_max_age (2h0m0s)",
			"last run: error"},
		{"FirstSuccess", 2*time.Hour + 5*time.Minute, ptr(applied(2*time.Hour, plan(3, 0, 0, ops(sync.ActionInvite, 3)), org(1, 0))), 200,
			"ok: last successful sync 3m30s ago (2026-11-30T12:01:30Z)", ""},
		{"FailedAfterSuccess", 3 * time.Hour, ptr(readFailed(3 * time.Hour)), 200, "ok: last successful sync 58m30s ago",
			"; last run: error: read directory"},
		{"Refused", 3*time.Hour + 15*time.Minute, ptr(refused(3*time.Hour+10*time.Minute, plan(0, 0, 3, ops(sync.ActionRevoke, 3)), sync.GuardEmptySource)), 503,
			"refused: the last plan was refused: empty_source guard: too many empty_source", ""},
		{"RefusalStandsThroughReadFailure", 3*time.Hour + 30*time.Minute, ptr(readFailed(3*time.Hour + 25*time.Minute)), 503,
			"refused: ", ""},
		{"RefusalLifted", 3*time.Hour + 45*time.Minute, ptr(applied(3*time.Hour+40*time.Minute, plan(3, 0, 3), org(4, 0))), 200,
			"ok: last successful sync 3m30s ago", ""},
		{"JustUnderMaxAge", 5*time.Hour + 41*time.Minute + 30*time.Second, nil, 200, "ok: last successful sync 2h0m0s ago", ""},
		{"Stale", 5*time.Hour + 42*time.Minute, nil, 503,
			"stale: last successful sync 2h0m30s ago (2026-11-30T13:41:30Z), over health_max_age (2h0m0s)", ""},
		{"FreshAgain", 5*time.Hour + 50*time.Minute, ptr(applied(5*time.Hour+45*time.Minute, plan(3, 0, 3), org(4, 0))), 200, "ok: ", ""},
	}
	for _, s := range steps {
		now = t0.Add(s.at)
		if s.observe != nil {
			m.Observe(s.observe.res, s.observe.err)
		}
		code, ctype, body := get(t, h, "/healthz")
		if code != s.wantCode || !strings.HasPrefix(body, s.wantBody) || !strings.Contains(body, s.wantAlso) {
			t.Errorf("%s: GET /healthz = %d %q, want %d %q…%q", s.name, code, body, s.wantCode, s.wantBody, s.wantAlso)
		}
		if ctype != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", s.name, ctype)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestHealthz_JSON(t *testing.T) {
	m := New("test")
	m.st.started = t0
	m.Observe(applied(0, plan(3, 0, 3), org(4, 0)).res, nil)
	r := refused(time.Hour, plan(0, 0, 3, ops(sync.ActionRevoke, 3)), sync.GuardEmptySource)
	m.Observe(r.res, r.err)
	m.SetNextRun(t0.Add(2 * time.Hour))
	h := m.Handler(2*time.Hour, func() time.Time { return t0.Add(time.Hour + 30*time.Minute) })

	for _, tt := range []struct {
		name, target string
		header       []string
		wantJSON     bool
	}{
		{"Query", "/healthz?format=json", nil, true},
		{"Accept", "/healthz", []string{"Accept", "application/json"}, true},
		{"AcceptAmongOthers", "/healthz", []string{"Accept", "text/html;q=0.9, application/json;q=0.5"}, true},
		{"AcceptRefused", "/healthz", []string{"Accept", "application/json;q=0, text/plain"}, false},
		{"PlainByDefault", "/healthz", []string{"Accept", "*/*"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := get(t, h, tt.target, tt.header...)
			if code != http.StatusServiceUnavailable {
				t.Errorf("code %d, want 503", code)
			}
			if got := ctype == "application/json"; got != tt.wantJSON {
				t.Fatalf("Content-Type %q, want JSON %v", ctype, tt.wantJSON)
			}
			if !tt.wantJSON {
				return
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			for key, want := range map[string]any{
				"ok": false, "status": "refused", "last_result": "refused",
				"last_success": "2026-11-30T10:01:30Z", "last_success_age_seconds": 5310.0,
				"last_run": "2026-11-30T11:01:30Z", "next_run": "2026-11-30T12:00:00Z",
				"started": "2026-11-30T10:00:00Z", "max_age_seconds": 7200.0,
			} {
				if got[key] != want {
					t.Errorf("%s = %#v, want %#v", key, got[key], want)
				}
			}
			rs, _ := got["refusals"].([]any)
			if len(rs) != 1 || rs[0].(map[string]any)["guard"] != "empty_source" {
				t.Errorf("refusals = %#v, want empty_source", got["refusals"])
			}
			if !strings.HasPrefix(got["last_error"].(string), "plan refused by empty_source") {
				t.Errorf("last_error = %q", got["last_error"])
			}
		})
	}
}

// TestHealthz_JSONBeforeAnyRun leaves out what has not happened yet.
func TestHealthz_JSONBeforeAnyRun(t *testing.T) {
	m := New("test")
	m.st.started = t0
	code, _, body := get(t, m.Handler(time.Hour, func() time.Time { return t0.Add(time.Minute) }), "/healthz?format=json")
	want := `{"ok":true,"status":"starting","reason":"no successful sync yet; started 1m0s ago","started":"2026-11-30T10:00:00Z","max_age_seconds":3600}` + "\n"
	if code != 200 || body != want {
		t.Errorf("GET /healthz?format=json = %d\n%s\nwant 200\n%s", code, body, want)
	}
}

// TestSetLastSuccess_NoGraceAfterRestart: a restarted daemon that knows
// its last success from the state directory reports its real age.
func TestSetLastSuccess_NoGraceAfterRestart(t *testing.T) {
	m := New("test")
	m.st.started = t0.Add(3 * time.Hour)
	m.SetLastSuccess(t0)
	h := m.Status(t0.Add(3*time.Hour+time.Minute), 2*time.Hour)
	if h.OK || h.Status != StatusStale || !strings.Contains(h.Reason, "last successful sync 3h1m0s ago") {
		t.Errorf("Status = %s, want stale at 3h1m0s", h)
	}
	m.SetLastSuccess(t0.Add(-time.Hour)) // older: ignored
	if got := m.Status(t0, time.Hour).LastSuccess; !got.Equal(t0) {
		t.Errorf("LastSuccess = %v after an older SetLastSuccess, want %v", got, t0)
	}
	if got, want := scrape(t, m)["dirbridge_last_success_timestamp_seconds"], unix(0); got != want {
		t.Errorf("last_success_timestamp_seconds = %v, want %v", got, want)
	}
}

func TestStatus_NoMaxAge(t *testing.T) {
	m := New("test")
	m.st.started = t0
	if h := m.Status(t0.Add(1000*time.Hour), 0); h.Status != StatusStarting {
		t.Errorf("no max age, no success: %s, want starting", h)
	}
	m.Observe(applied(0, plan(1, 0, 1), org(1, 0)).res, nil)
	if h := m.Status(t0.Add(1000*time.Hour), 0); h.Status != StatusOK {
		t.Errorf("no max age, old success: %s, want ok", h)
	}
}
