package metrics

import (
	"slices"
	stdsync "sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/dirbridge/dirbridge/sync"
)

// ResultError is the result of a run that failed before it could plan,
// such as one that could not read the directory, or that returned an error
// its Result does not account for.
const ResultError = "error"

// results lists every value of runs_total's result label.
var results = []string{"ok", "no_changes", "dry_run", "refused", "failed", "stopped", ResultError}

// guards lists every guard, so that each series exists before the guard
// first trips.
var guards = sync.Guards

// durationBuckets suit runs from a tenth of a second to an hour.
var durationBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// Metrics holds the daemon's metrics in a registry of its own, and what
// /healthz needs to know about the last runs. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	runs        *prometheus.CounterVec
	duration    prometheus.Histogram
	lastRun     prometheus.Gauge
	lastSuccess prometheus.Gauge
	nextRun     prometheus.Gauge

	sourceUsers, sourceGroups, sourceWarnings prometheus.Gauge
	orgMembers, orgGroups                     prometheus.Gauge
	managedMembers, managedGroups             prometheus.Gauge

	planOps                  *prometheus.GaugeVec
	planned, applied, failed *prometheus.CounterVec
	guardRefusals            *prometheus.CounterVec
	guardRefused             *prometheus.GaugeVec

	mu stdsync.Mutex
	st state // guarded by mu
}

// state is what Status reports on.
type state struct {
	started     time.Time
	lastRun     time.Time
	lastResult  string
	lastError   string
	lastSuccess time.Time
	nextRun     time.Time
	refusals    []Refusal
	guardsSeen  []string // every guard label set so far
}

// New returns the metrics of a process of the given version, which
// build_info reports; the process counts as started now.
func New(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(m.reg)
	gauge := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: "dirbridge_" + name, Help: help})
	}
	byAction := func(name, help string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: "dirbridge_" + name, Help: help}, []string{"action"})
	}

	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dirbridge_build_info", Help: "dirbridge's version, as a constant 1.",
		ConstLabels: prometheus.Labels{"version": version},
	}, func() float64 { return 1 })
	m.runs = f.NewCounterVec(prometheus.CounterOpts{
		Name: "dirbridge_runs_total",
		Help: "Sync runs by result: ok, no_changes, dry_run, refused, failed, stopped, or error (failed before planning).",
	}, []string{"result"})
	m.duration = f.NewHistogram(prometheus.HistogramOpts{
		Name: "dirbridge_run_duration_seconds", Help: "How long sync runs took.", Buckets: durationBuckets,
	})
	m.lastRun = gauge("last_run_timestamp_seconds", "When the last sync run ended, as a Unix time.")
	m.lastSuccess = gauge("last_success_timestamp_seconds",
		"When the last successful sync run (result ok or no_changes) ended, as a Unix time; 0 before the first.")
	m.nextRun = gauge("next_run_timestamp_seconds", "When the next sync run is due, as a Unix time; 0 when unknown.")

	m.sourceUsers = gauge("source_users", "Users the directory returned in the last run that read it, after normalization.")
	m.sourceGroups = gauge("source_groups", "Groups the directory returned in the last run that read it.")
	m.sourceWarnings = gauge("source_warnings", "Directory entries normalization left out or changed in the last run that read them.")
	m.orgMembers = gauge("org_members", "Members of the organization, of any status, in the last run that read it.")
	m.orgGroups = gauge("org_groups", "Groups of the organization in the last run that read it.")
	m.managedMembers = gauge("managed_members", "Organization members dirbridge manages, in the last run that read them.")
	m.managedGroups = gauge("managed_groups", "Organization groups dirbridge manages, in the last run that read them.")

	m.planOps = f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dirbridge_plan_operations", Help: "Operations in the last run's plan, by action.",
	}, []string{"action"})
	m.planned = byAction("operations_planned_total", "Operations planned, by action, over every run.")
	m.applied = byAction("operations_applied_total", "Operations that took effect, by action.")
	m.failed = byAction("operations_failed_total", "Operations that failed, by action.")
	m.guardRefusals = f.NewCounterVec(prometheus.CounterOpts{
		Name: "dirbridge_guard_refusals_total", Help: "Runs whose plan a safety guard refused, wholly or in part, by guard.",
	}, []string{"guard"})
	m.guardRefused = f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dirbridge_guard_refused", Help: "1 while the last plan is refused by the guard, else 0.",
	}, []string{"guard"})

	for _, r := range results {
		m.runs.WithLabelValues(r)
	}
	for _, a := range sync.Actions {
		for _, v := range []*prometheus.CounterVec{m.planned, m.applied, m.failed} {
			v.WithLabelValues(a.String())
		}
		m.planOps.WithLabelValues(a.String())
	}
	for _, g := range guards {
		m.guardRefusals.WithLabelValues(g)
		m.guardRefused.WithLabelValues(g)
	}
	m.st = state{started: time.Now(), guardsSeen: slices.Clone(guards)}
	return m
}

// Registry returns the registry the metrics are in, for a caller that adds
// collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Outcome returns a run's result as runs_total counts it: res.Outcome(),
// or ResultError when res is nil or err is one res does not account for
// (the run failed before planning, or while checking its plan).
func Outcome(res *sync.Result, err error) string {
	if res == nil {
		return ResultError
	}
	out := res.Outcome()
	if err != nil && (out == "ok" || out == "no_changes" || out == "dry_run") {
		return ResultError
	}
	return out
}

// Observe records one run. res may be nil when the run failed before it had
// a result; err is the run's error. A run that ended in ResultError leaves
// the gauges of the last plan as they were.
func (m *Metrics) Observe(res *sync.Result, err error) {
	result := Outcome(res, err)
	end := time.Now()
	if res != nil && !res.Started.IsZero() {
		end = res.Started.Add(res.Duration)
		m.duration.Observe(res.Duration.Seconds())
	}
	m.runs.WithLabelValues(result).Inc()
	m.lastRun.Set(unixSeconds(end))

	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.lastRun, m.st.lastResult, m.st.lastError = end, result, ""
	if err != nil {
		m.st.lastError = err.Error()
	}
	if result == "ok" || result == "no_changes" {
		m.setLastSuccess(end)
	}
	if result == ResultError {
		return
	}
	m.observePlan(res)
	m.observeRefusals(res.Refusals)
}

// observePlan records what a run that planned read, planned and did.
func (m *Metrics) observePlan(res *sync.Result) {
	p := res.Plan
	m.sourceUsers.Set(float64(p.SourceUsers))
	m.sourceGroups.Set(float64(p.SourceGroups))
	m.sourceWarnings.Set(float64(len(res.Warnings)))
	m.orgMembers.Set(float64(len(res.State.Members)))
	m.orgGroups.Set(float64(len(res.State.Groups)))
	m.managedMembers.Set(float64(p.ManagedMembers))
	m.managedGroups.Set(float64(p.ManagedGroups))
	for a, n := range p.Counts() {
		m.planOps.WithLabelValues(a.String()).Set(float64(n))
		m.planned.WithLabelValues(a.String()).Add(float64(n))
	}
	for a, n := range res.Applied {
		m.applied.WithLabelValues(a.String()).Add(float64(n))
	}
	for _, f := range res.Failed {
		m.failed.WithLabelValues(f.Op.Action.String()).Inc()
	}
}

// observeRefusals counts each guard that refused the run once, and sets
// guard_refused to the run's refusals. The caller holds mu.
func (m *Metrics) observeRefusals(rs []*sync.Refusal) {
	m.st.refusals = m.st.refusals[:0:0]
	refused := map[string]bool{}
	for _, r := range rs {
		m.st.refusals = append(m.st.refusals, Refusal{Guard: r.Guard, Reason: r.Reason})
		if refused[r.Guard] {
			continue
		}
		refused[r.Guard] = true
		m.guardRefusals.WithLabelValues(r.Guard).Inc()
		if !slices.Contains(m.st.guardsSeen, r.Guard) {
			m.st.guardsSeen = append(m.st.guardsSeen, r.Guard)
		}
	}
	for _, g := range m.st.guardsSeen {
		v := 0.0
		if refused[g] {
			v = 1
		}
		m.guardRefused.WithLabelValues(g).Set(v)
	}
}

// SetNextRun records when the next run is due (Scheduler.OnNext).
func (m *Metrics) SetNextRun(t time.Time) {
	m.nextRun.Set(unixSeconds(t))
	m.mu.Lock()
	m.st.nextRun = t
	m.mu.Unlock()
}

// SetLastSuccess records a successful run of an earlier process, such as
// one the state directory remembers, so that a restart neither forgets how
// old the last sync is nor hides it behind the start-up grace. A time
// before the one already known is ignored.
func (m *Metrics) SetLastSuccess(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLastSuccess(t)
}

// setLastSuccess records t as the last success unless a later one is known.
// The caller holds mu.
func (m *Metrics) setLastSuccess(t time.Time) {
	if t.IsZero() || t.Before(m.st.lastSuccess) {
		return
	}
	m.st.lastSuccess = t
	m.lastSuccess.Set(unixSeconds(t))
}

// unixSeconds returns t as a Unix time in seconds, or 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
