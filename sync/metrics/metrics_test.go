package metrics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dirbridge/dirbridge/sink/sinktest"
	"github.com/dirbridge/dirbridge/sync"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// unix is t0+d as the exposition prints a timestamp.
func unix(d time.Duration) float64 { return float64(t0.Add(d).UnixNano()) / 1e9 }

// ops returns n operations of action a.
func ops(a sync.Action, n int) []sync.Op {
	out := make([]sync.Op, n)
	for i := range out {
		out[i] = sync.Op{Action: a, Email: fmt.Sprintf("u%d@example.com", i), ExternalID: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("g%d", i)}
	}
	return out
}

// org returns an organization state of members members and groups groups.
func org(members, groups int) sync.OrgState {
	var s sync.OrgState
	for i := range members {
		s.Members = append(s.Members, sync.Member{ID: fmt.Sprint(i), Email: fmt.Sprintf("m%d@example.com", i), Status: sync.StatusConfirmed, Type: sync.TypeUser})
	}
	for i := range groups {
		s.Groups = append(s.Groups, sync.OrgGroup{ID: fmt.Sprint(i), Name: fmt.Sprintf("g%d", i)})
	}
	return s
}

// run is one observation.
type run struct {
	res *sync.Result
	err error
}

// applied is a run that planned p against have and applied all of it,
// starting at t0+at and taking 90 seconds.
func applied(at time.Duration, p sync.Plan, have sync.OrgState) run {
	res := &sync.Result{Planned: true, Started: t0.Add(at), Duration: 90 * time.Second, Plan: p, State: have, Applied: map[sync.Action]int{}}
	for _, op := range p.Ops {
		res.Applied[op.Action]++
		res.Done = append(res.Done, op)
	}
	return run{res: res}
}

// refused is a run at t0+at whose plan the given guards refused, with the
// rest of it applied.
func refused(at time.Duration, p sync.Plan, guards ...string) run {
	r := applied(at, sync.Plan{}, org(5, 1))
	r.res.Plan = p
	var rs []*sync.Refusal
	for _, g := range guards {
		rs = append(rs, &sync.Refusal{Guard: g, Reason: "too many " + g, Hold: sync.HoldDestructive})
	}
	r.res.Refusals = rs
	for _, op := range p.Allowed(rs) {
		r.res.Applied[op.Action]++
	}
	r.err = sync.JoinRefusals(rs)
	return r
}

// readFailed is a run at t0+at that could not read the directory.
func readFailed(at time.Duration) run {
	return run{
		res: &sync.Result{Started: t0.Add(at), Duration: 3 * time.Second, Applied: map[sync.Action]int{}},
		err: errors.New("read directory: ldap: bind: invalid credentials"),
	}
}

func plan(users, groups, managed int, opss ...[]sync.Op) sync.Plan {
	p := sync.Plan{SourceUsers: users, SourceGroups: groups, ManagedMembers: managed, ManagedGroups: groups}
	for _, o := range opss {
		p.Ops = append(p.Ops, o...)
	}
	return p
}

func TestOutcome(t *testing.T) {
	fail := errors.New("boom")
	tests := []struct {
		name string
		run  run
		want string
	}{
		{"NoResult", run{nil, fail}, ResultError},
		{"ReadFailed", readFailed(0), ResultError},
		{"Applied", applied(0, plan(3, 0, 0, ops(sync.ActionInvite, 3)), org(1, 0)), "ok"},
		{"NothingToDo", applied(0, plan(3, 0, 3), org(4, 0)), "no_changes"},
		{"DryRun", run{&sync.Result{Planned: true, DryRun: true, Plan: plan(3, 0, 0, ops(sync.ActionInvite, 3))}, nil}, "dry_run"},
		{"DryRunSeatPreflightFailed", run{&sync.Result{Planned: true, DryRun: true, Plan: plan(3, 0, 0, ops(sync.ActionInvite, 3))}, fail}, ResultError},
		{"Refused", refused(0, plan(0, 0, 5, ops(sync.ActionRevoke, 5)), sync.GuardEmptySource), "refused"},
		{"Failed", run{&sync.Result{Planned: true, Failed: []sync.OpError{{Op: ops(sync.ActionInvite, 1)[0], Err: fail}}}, fail}, "failed"},
		{"Stopped", run{&sync.Result{Planned: true, Stopped: true}, context.Canceled}, "stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Outcome(tt.run.res, tt.run.err); got != tt.want {
				t.Errorf("Outcome = %q, want %q", got, tt.want)
			}
		})
	}
}

// scrape returns every sample /metrics serves, by series ("name{labels}").
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(time.Hour, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return parseExposition(t, rec.Body)
}

// parseExposition reads the text format's sample lines.
func parseExposition(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad exposition line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name string
		runs []run
		want map[string]float64
	}{{
		name: "AppliedRun",
		runs: []run{applied(0, plan(12, 3, 9, ops(sync.ActionInvite, 3), ops(sync.ActionCreateGroup, 1), ops(sync.ActionRevoke, 1)), org(10, 4))},
		want: map[string]float64{
			`dirbridge_runs_total{result="ok"}`:                         1,
			`dirbridge_runs_total{result="error"}`:                      0,
			`dirbridge_run_duration_seconds_count`:                      1,
			`dirbridge_run_duration_seconds_sum`:                        90,
			`dirbridge_run_duration_seconds_bucket{le="60"}`:            0,
			`dirbridge_run_duration_seconds_bucket{le="120"}`:           1,
			`dirbridge_last_run_timestamp_seconds`:                      unix(90 * time.Second),
			`dirbridge_last_success_timestamp_seconds`:                  unix(90 * time.Second),
			`dirbridge_source_users`:                                    12,
			`dirbridge_source_groups`:                                   3,
			`dirbridge_org_members`:                                     10,
			`dirbridge_org_groups`:                                      4,
			`dirbridge_managed_members`:                                 9,
			`dirbridge_managed_groups`:                                  3,
			`dirbridge_plan_operations{action="invite"}`:                3,
			`dirbridge_plan_operations{action="remove"}`:                0,
			`dirbridge_operations_planned_total{action="invite"}`:       3,
			`dirbridge_operations_applied_total{action="invite"}`:       3,
			`dirbridge_operations_applied_total{action="revoke"}`:       1,
			`dirbridge_operations_failed_total{action="invite"}`:        0,
			`dirbridge_guard_refusals_total{guard="max_deletes"}`:       0,
			`dirbridge_guard_refused{guard="max_deletes"}`:              0,
			`dirbridge_operations_applied_total{action="link"}`:         0,
			`dirbridge_operations_planned_total{action="create_group"}`: 1,
		},
	}, {
		name: "NothingToDoIsASuccess",
		runs: []run{applied(0, plan(3, 1, 3, ops(sync.ActionInvite, 1)), org(3, 1)), applied(time.Hour, plan(4, 1, 4), org(4, 1))},
		want: map[string]float64{
			`dirbridge_runs_total{result="ok"}`:                   1,
			`dirbridge_runs_total{result="no_changes"}`:           1,
			`dirbridge_last_success_timestamp_seconds`:            unix(time.Hour + 90*time.Second),
			`dirbridge_plan_operations{action="invite"}`:          0,
			`dirbridge_operations_planned_total{action="invite"}`: 1,
			`dirbridge_source_users`:                              4,
		},
	}, {
		name: "RefusedRunIsNoSuccess",
		runs: []run{
			applied(0, plan(10, 0, 10), org(10, 0)),
			refused(time.Hour, plan(2, 0, 10, ops(sync.ActionRevoke, 8), ops(sync.ActionDeleteGroup, 2), ops(sync.ActionInvite, 1)),
				sync.GuardMaxDeletes, sync.GuardThreshold, sync.GuardThreshold),
		},
		want: map[string]float64{
			`dirbridge_runs_total{result="refused"}`:                    1,
			`dirbridge_last_run_timestamp_seconds`:                      unix(time.Hour + 90*time.Second),
			`dirbridge_last_success_timestamp_seconds`:                  unix(90 * time.Second),
			`dirbridge_guard_refusals_total{guard="max_deletes"}`:       1,
			`dirbridge_guard_refusals_total{guard="threshold"}`:         1, // once per run, however many limits
			`dirbridge_guard_refusals_total{guard="empty_source"}`:      0,
			`dirbridge_guard_refused{guard="max_deletes"}`:              1,
			`dirbridge_guard_refused{guard="threshold"}`:                1,
			`dirbridge_guard_refused{guard="seats"}`:                    0,
			`dirbridge_plan_operations{action="revoke"}`:                8,
			`dirbridge_operations_planned_total{action="revoke"}`:       8,
			`dirbridge_operations_applied_total{action="revoke"}`:       0,
			`dirbridge_operations_applied_total{action="invite"}`:       1, // the allowed part went ahead
			`dirbridge_operations_planned_total{action="delete_group"}`: 2,
		},
	}, {
		name: "RefusalLiftedByTheNextPlan",
		runs: []run{
			refused(0, plan(0, 0, 10, ops(sync.ActionRevoke, 10)), sync.GuardEmptySource),
			applied(time.Hour, plan(10, 0, 10), org(10, 0)),
		},
		want: map[string]float64{
			`dirbridge_guard_refusals_total{guard="empty_source"}`: 1,
			`dirbridge_guard_refused{guard="empty_source"}`:        0,
			`dirbridge_last_success_timestamp_seconds`:             unix(time.Hour + 90*time.Second),
		},
	}, {
		name: "ReadFailureKeepsTheLastPlan",
		runs: []run{
			refused(0, plan(0, 0, 10, ops(sync.ActionRevoke, 10)), sync.GuardEmptySource),
			readFailed(time.Hour),
		},
		want: map[string]float64{
			`dirbridge_runs_total{result="refused"}`:               1,
			`dirbridge_runs_total{result="error"}`:                 1,
			`dirbridge_run_duration_seconds_count`:                 2,
			`dirbridge_last_run_timestamp_seconds`:                 unix(time.Hour + 3*time.Second),
			`dirbridge_last_success_timestamp_seconds`:             0,
			`dirbridge_guard_refused{guard="empty_source"}`:        1, // not lifted by a run that did not plan
			`dirbridge_guard_refusals_total{guard="empty_source"}`: 1,
			`dirbridge_plan_operations{action="revoke"}`:           10,
			`dirbridge_operations_planned_total{action="revoke"}`:  10,
			`dirbridge_org_members`:                                5,
		},
	}, {
		name: "FailedOperations",
		runs: []run{func() run {
			r := applied(0, plan(5, 0, 5, ops(sync.ActionInvite, 3), ops(sync.ActionRemove, 1)), org(5, 0))
			inv := ops(sync.ActionInvite, 3)
			r.res.Applied[sync.ActionInvite] = 1
			r.res.Failed = []sync.OpError{{Op: inv[1], Err: errors.New("invite: 500")}, {Op: inv[2], Err: errors.New("invite: 500")}}
			r.err = &sync.ApplyError{Failed: 2, Total: 4}
			return r
		}()},
		want: map[string]float64{
			`dirbridge_runs_total{result="failed"}`:               1,
			`dirbridge_last_success_timestamp_seconds`:            0,
			`dirbridge_operations_planned_total{action="invite"}`: 3,
			`dirbridge_operations_applied_total{action="invite"}`: 1,
			`dirbridge_operations_failed_total{action="invite"}`:  2,
			`dirbridge_operations_applied_total{action="remove"}`: 1,
			`dirbridge_operations_failed_total{action="remove"}`:  0,
		},
	}, {
		name: "DryRunPlansAndIsNoSuccess",
		runs: []run{{res: &sync.Result{Planned: true, Started: t0, Duration: time.Second, DryRun: true,
			Plan: plan(3, 0, 0, ops(sync.ActionInvite, 3)), State: org(1, 0), Applied: map[sync.Action]int{}}}},
		want: map[string]float64{
			`dirbridge_runs_total{result="dry_run"}`:              1,
			`dirbridge_last_success_timestamp_seconds`:            0,
			`dirbridge_operations_planned_total{action="invite"}`: 3,
			`dirbridge_operations_applied_total{action="invite"}`: 0,
		},
	}, {
		name: "NoResult",
		runs: []run{{res: nil, err: errors.New("open state directory: permission denied")}},
		want: map[string]float64{
			`dirbridge_runs_total{result="error"}`: 1,
			`dirbridge_run_duration_seconds_count`: 0,
			`dirbridge_source_users`:               0,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("test")
			for _, r := range tt.runs {
				m.Observe(r.res, r.err)
			}
			got := scrape(t, m)
			for series, want := range tt.want {
				v, ok := got[series]
				switch {
				case !ok:
					t.Errorf("%s: missing", series)
				case v != want:
					t.Errorf("%s = %v, want %v", series, v, want)
				}
			}
		})
	}
}

// TestNew_EverySeriesFromTheStart checks that every label value exists
// before anything happened, so dashboards and rate() see zeros.
func TestNew_EverySeriesFromTheStart(t *testing.T) {
	got := scrape(t, New("v1.2.3"))
	var want []string
	for _, r := range []string{"ok", "no_changes", "dry_run", "refused", "failed", "stopped", "error"} {
		want = append(want, fmt.Sprintf(`dirbridge_runs_total{result=%q}`, r))
	}
	for _, a := range sync.Actions {
		for _, name := range []string{"plan_operations", "operations_planned_total", "operations_applied_total", "operations_failed_total"} {
			want = append(want, fmt.Sprintf(`dirbridge_%s{action=%q}`, name, a))
		}
	}
	for _, g := range []string{sync.GuardSCIM, sync.GuardEmptySource, sync.GuardMaxDeletes, sync.GuardThreshold,
		sync.GuardScopeChange, sync.GuardSourceDrop, sync.GuardSeats} {
		want = append(want, fmt.Sprintf(`dirbridge_guard_refusals_total{guard=%q}`, g), fmt.Sprintf(`dirbridge_guard_refused{guard=%q}`, g))
	}
	want = append(want, "dirbridge_last_run_timestamp_seconds", "dirbridge_last_success_timestamp_seconds",
		"dirbridge_next_run_timestamp_seconds", "dirbridge_source_users", "dirbridge_source_groups", "dirbridge_source_warnings",
		"dirbridge_org_members", "dirbridge_org_groups", "dirbridge_managed_members", "dirbridge_managed_groups",
		`dirbridge_run_duration_seconds_bucket{le="0.1"}`, `dirbridge_run_duration_seconds_bucket{le="3600"}`)
	for _, series := range want {
		if v, ok := got[series]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", series, v, ok)
		}
	}
	if v := got[`dirbridge_build_info{version="v1.2.3"}`]; v != 1 {
		t.Errorf("build_info = %v, want 1", v)
	}
	for _, series := range []string{"go_goroutines", "process_start_time_seconds", "process_resident_memory_bytes"} {
		if _, ok := got[series]; !ok {
			t.Errorf("%s: missing (Go or process collector)", series)
		}
	}
}

func TestObserve_GuardNotKnownYet(t *testing.T) {
	m := New("test")
	m.Observe(refused(0, plan(1, 0, 1, ops(sync.ActionRevoke, 1)), "quota").res, sync.ErrRefused)
	m.Observe(applied(time.Hour, plan(1, 0, 1), org(1, 0)).res, nil)
	got := scrape(t, m)
	if v := got[`dirbridge_guard_refusals_total{guard="quota"}`]; v != 1 {
		t.Errorf("refusals of an unlisted guard = %v, want 1", v)
	}
	if v, ok := got[`dirbridge_guard_refused{guard="quota"}`]; !ok || v != 0 {
		t.Errorf("refused gauge of an unlisted guard after a clean run = %v (present %v), want 0", v, ok)
	}
}

func TestSetNextRun(t *testing.T) {
	m := New("test")
	m.SetNextRun(t0.Add(15 * time.Minute))
	if got, want := scrape(t, m)["dirbridge_next_run_timestamp_seconds"], unix(15*time.Minute); got != want {
		t.Errorf("next_run = %v, want %v", got, want)
	}
	if got := m.Status(t0, time.Hour).NextRun; !got.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("Status().NextRun = %v", got)
	}
}

// TestObserve_RealSyncer observes the Results of real runs over an
// in-memory organization: one that applies, one with nothing to do, and
// one whose directory read fails.
func TestObserve_RealSyncer(t *testing.T) {
	dir := &source{snap: sync.Snapshot{
		Users:  []sync.User{{ExternalID: "u1", Email: "a@example.com"}, {ExternalID: "u2", Email: "b@example.com"}},
		Groups: []sync.Group{{ExternalID: "g1", Name: "Eng", Members: []string{"u1", "u2"}}},
	}}
	owner := sync.Member{ID: "o", Email: "owner@example.com", Status: sync.StatusConfirmed, Type: sync.TypeOwner}
	s := &sync.Syncer{Source: dir, Sink: sinktest.New(sync.OrgState{Members: []sync.Member{owner}}), Limits: sync.DefaultLimits()}
	m := New("test")
	for range 2 {
		res, err := s.Run(t.Context(), sync.RunOptions{})
		m.Observe(res, err)
	}
	dir.err = errors.New("ldap: connection refused")
	res, err := s.Run(t.Context(), sync.RunOptions{})
	if err == nil {
		t.Fatal("run with a broken directory: no error")
	}
	m.Observe(res, err)

	got := scrape(t, m)
	for series, want := range map[string]float64{
		`dirbridge_runs_total{result="ok"}`:                              1,
		`dirbridge_runs_total{result="no_changes"}`:                      1,
		`dirbridge_runs_total{result="error"}`:                           1,
		`dirbridge_operations_applied_total{action="invite"}`:            2,
		`dirbridge_operations_applied_total{action="create_group"}`:      1,
		`dirbridge_operations_applied_total{action="set_group_members"}`: 1,
		`dirbridge_source_users`:                                         2,
		`dirbridge_org_members`:                                          3,
		`dirbridge_org_groups`:                                           1,
		`dirbridge_managed_members`:                                      2,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	h := m.Status(time.Now(), time.Hour)
	if h.Status != StatusOK || h.LastResult != ResultError || !strings.Contains(h.Reason, "connection refused") {
		t.Errorf("Status = %+v, want ok with the last run's error", h)
	}
}

type source struct {
	snap sync.Snapshot
	err  error
}

func (s *source) Snapshot(context.Context) (sync.Snapshot, error) { return s.snap, s.err }

// TestMetrics_Lint holds every metric, dirbridge's and the collectors', to
// Prometheus's naming conventions (promlint).
func TestMetrics_Lint(t *testing.T) {
	m := New("test")
	m.Observe(applied(0, plan(1, 0, 0, ops(sync.ActionInvite, 1)), org(1, 0)).res, nil)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
