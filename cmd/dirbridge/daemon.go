package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	stdsync "sync"
	"syscall"
	"time"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/metrics"
	"github.com/dirbridge/dirbridge/systemd"
)

// errSCIMStop wraps the SCIM guard's refusal in daemon mode: no retry can
// lift it, so the daemon exits (code 3) instead of fighting SCIM.
var errSCIMStop = errors.New("the daemon stops: SCIM provisioning is on")

// daemon is `dirbridge run`: the scheduler around app.runOnce, with reload,
// systemd notifications and status.
type daemon struct {
	m      *Main
	common *commonFlags
	dir    string // the state directory, fixed for the process (it holds the lock)

	metrics *metrics.Metrics

	mu     stdsync.Mutex
	app    *app
	sched  sync.Schedule
	status string
	next   time.Time

	// lastAlert and lastAlertAt keep a standing refusal from alerting at
	// every run: it alerts when the refusal changes, and daily while it lasts.
	lastAlert   string
	lastAlertAt time.Time
}

// realertAfter is how often a refusal that stands is alerted again.
const realertAfter = 24 * time.Hour

// runDaemon is `dirbridge run`.
func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs, common := m.flags("run")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := m.app(common)
	if err != nil {
		return err
	}
	sched, err := sync.ParseSchedule(a.cfg.Run.Schedule)
	if err != nil {
		return &ConfigError{Path: common.config, Problems: []string{"run.schedule: " + err.Error()}}
	}
	unlock, err := a.lock()
	if err != nil {
		return err
	}
	defer unlock()
	d := &daemon{m: m, common: common, dir: a.state.Path(), app: a, sched: sched, metrics: metrics.New(buildVersion())}
	a.observe = d.metrics.Observe
	log := a.logger
	var prev lastRun
	if a.state.Load(lastRunFile, &prev) == nil && !prev.LastOK.IsZero() {
		d.metrics.SetLastSuccess(prev.LastOK)
	}
	if listen := a.cfg.Metrics.Listen; listen != "" {
		ln, err := metrics.Listen(listen)
		if err != nil {
			return err
		}
		log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
		go func() {
			if err := metrics.Serve(ctx, ln, d.metrics.Handler(a.cfg.Metrics.HealthMaxAge, time.Now), log); err != nil {
				log.Error("metrics server stopped", "err", err)
			}
		}()
	}
	log.Info("dirbridge started", "version", buildVersion(), "schedule", a.cfg.Run.Schedule, "state_dir", d.dir,
		"source", a.cfg.Source.Type, "organization", a.cfg.Bitwarden.OrganizationID)
	notify(log, "READY=1\nSTATUS=starting: first sync")
	go systemd.Watchdog(ctx, log)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go d.reloads(ctx, hup)

	s := &sync.Scheduler{
		Schedule:   scheduleFunc(d.nextAfter),
		Jitter:     a.cfg.Run.Jitter,
		BackoffMin: a.cfg.Run.BackoffMin,
		BackoffMax: a.cfg.Run.BackoffMax,
		Run:        d.run,
		Stop:       func(err error) bool { return errors.Is(err, errSCIMStop) },
		Logger:     log,
		OnNext: func(t time.Time) {
			d.metrics.SetNextRun(t)
			d.setNext(t)
		},
	}
	err = s.Loop(ctx)
	notify(log, "STOPPING=1")
	if errors.Is(err, errSCIMStop) {
		log.Error("stopping: SCIM provisioning is on for this organization; dirbridge will not fight it")
		return err
	}
	log.Info("dirbridge stopped")
	return nil
}

// run is one scheduled run. A refusal by a guard is not a failure of the
// run: it is logged and reported, and the next run tries again on schedule.
// The SCIM guard's refusal ends the daemon.
func (d *daemon) run(ctx context.Context) error {
	a := d.current()
	res, err := a.runOnce(ctx, sync.RunOptions{})
	d.report(res, err)
	d.alert(ctx, a, res)
	var r *sync.Refusal
	switch {
	case errors.As(err, &r) && hasGuard(res, sync.GuardSCIM):
		return fmt.Errorf("%w: %w", errSCIMStop, err)
	case err != nil && onlyRefused(err):
		return nil
	}
	return err
}

// alert sends the run's refusals, unless the same refusal was alerted less
// than realertAfter ago.
func (d *daemon) alert(ctx context.Context, a *app, res *sync.Result) {
	if res == nil || len(res.Refusals) == 0 {
		d.lastAlert = ""
		return
	}
	var sig strings.Builder
	for _, r := range res.Refusals {
		fmt.Fprintf(&sig, "%s:%d;", r.Guard, len(r.Held))
	}
	if sig.String() == d.lastAlert && time.Since(d.lastAlertAt) < realertAfter {
		a.logger.Info("refusal stands; already alerted", "since", d.lastAlertAt.Format(time.RFC3339))
		return
	}
	d.lastAlert, d.lastAlertAt = sig.String(), time.Now()
	a.alert(ctx, res)
}

func hasGuard(res *sync.Result, guard string) bool {
	if res == nil {
		return false
	}
	for _, r := range res.Refusals {
		if r.Guard == guard {
			return true
		}
	}
	return false
}

// onlyRefused reports whether err holds refusals and nothing else.
func onlyRefused(err error) bool {
	return errors.Is(err, sync.ErrRefused) && !errors.As(err, new(*sync.ApplyError))
}

// report sends the run's outcome to systemd's STATUS and keeps it for the
// status file.
func (d *daemon) report(res *sync.Result, err error) {
	var status string
	switch {
	case res == nil || !res.Planned:
		status = fmt.Sprintf("last run failed at %s: %v", time.Now().Format(time.TimeOnly), err)
	case len(res.Refusals) > 0:
		status = fmt.Sprintf("last run at %s REFUSED by %s guard; %d changes applied", res.Started.Format(time.TimeOnly),
			res.Refusals[0].Guard, res.AppliedTotal())
	case len(res.Failed) > 0:
		status = fmt.Sprintf("last run at %s: %d of %d changes failed", res.Started.Format(time.TimeOnly), len(res.Failed), len(res.Plan.Ops))
	default:
		status = fmt.Sprintf("last sync ok at %s (%s)", res.Started.Format(time.TimeOnly), res.Plan.Summary())
	}
	d.mu.Lock()
	d.status = status
	d.mu.Unlock()
}

// setNext records when the next run is due, in STATUS and the status file.
func (d *daemon) setNext(t time.Time) {
	d.mu.Lock()
	d.next = t
	status := d.status
	a := d.app
	d.mu.Unlock()
	notify(a.logger, "STATUS="+status+"; next at "+t.Format(time.TimeOnly))
	var lr lastRun
	if err := a.state.Load(lastRunFile, &lr); err == nil {
		lr.NextRun = t
		if err := a.state.Save(lastRunFile, lr); err != nil {
			a.logger.Warn("could not record the next run", "err", err)
		}
	}
}

// reloads rereads the configuration on every SIGHUP. A bad one is logged and
// the running one stays; the next run uses a good one.
func (d *daemon) reloads(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		log := d.current().logger
		notify(log, systemd.Reloading())
		if err := d.reload(); err != nil {
			log.Error("reload failed; keeping the running configuration", "err", err)
		} else {
			d.current().logger.Info("configuration reloaded", "config", d.common.config)
		}
		notify(log, "READY=1")
	}
}

func (d *daemon) reload() error {
	cfg, logger, err := d.m.load(d.common)
	if err != nil {
		return err
	}
	sched, err := sync.ParseSchedule(cfg.Run.Schedule)
	if err != nil {
		return err
	}
	if dir, _ := resolveStateDir(d.common.stateDir, cfg, d.m.Getenv); dir != d.dir {
		logger.Warn("state_dir changes take effect at the next start", "running", d.dir, "configured", dir)
	}
	a, err := newApp(cfg, logger, d.dir)
	if err != nil {
		return err
	}
	a.observe = d.metrics.Observe
	d.mu.Lock()
	d.app, d.sched = a, sched
	d.mu.Unlock()
	return nil
}

func (d *daemon) current() *app {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.app
}

// nextAfter follows the schedule of the current configuration.
func (d *daemon) nextAfter(t time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sched.Next(t)
}

// scheduleFunc adapts a function to sync.Schedule.
type scheduleFunc func(time.Time) time.Time

func (f scheduleFunc) Next(t time.Time) time.Time { return f(t) }

// notify sends an sd_notify message when running under systemd.
func notify(logger *slog.Logger, state string) {
	if _, err := systemd.Notify(state); err != nil {
		logger.Warn("sd_notify failed", "err", err)
	}
}
