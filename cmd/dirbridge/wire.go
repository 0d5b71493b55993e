package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden"
	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/alert"
	"github.com/dirbridge/dirbridge/sync/statedir"
)

// app is one configuration wired up: the source, the sink, the Syncer and
// the state directory. sync, run, check and apply all make their runs
// through app.runOnce, so one-shot and daemon runs take the same path.
type app struct {
	cfg    *Config
	logger *slog.Logger
	syncer *sync.Syncer
	sink   *bitwarden.Sink
	src    source
	state  *statedir.Dir
	alerts *alert.Notifier
	// observe, when set, sees every run (the daemon's metrics).
	observe func(*sync.Result, error)
}

// newApp wires cfg. It does no network I/O.
func newApp(cfg *Config, logger *slog.Logger, stateDir string) (*app, error) {
	src, err := newSource(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	sink, err := bitwarden.New(cfg.Bitwarden, logger)
	if err != nil {
		return nil, err
	}
	if !cfg.Bitwarden.SyncsGroups() {
		src = groupless{src, logger}
	}
	notifier, err := alert.New(cfg.Alerts, logger)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, sink: sink, src: src, alerts: notifier}
	if stateDir != "" {
		if a.state, err = statedir.Open(stateDir); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	a.syncer = &sync.Syncer{
		Source:  src,
		Sink:    sink,
		SCIM:    sink,
		Options: cfg.diffOptions(),
		Limits:  cfg.limits(),
		Bulk:    cfg.Bitwarden.BulkOptions(),
		Logger:  logger,
	}
	return a, nil
}

// lock takes the state directory's lock, so that two instances never sync
// the same organization at once.
func (a *app) lock() (unlock func() error, err error) {
	return a.state.Lock()
}

// runOnce makes one run with the ledger from the state directory and, unless
// it is a dry run, saves the new ledger and the run's summary there.
func (a *app) runOnce(ctx context.Context, ro sync.RunOptions) (*sync.Result, error) {
	ro.Scope = scopeFingerprint(a.cfg)
	ro.Ledger = loadLedger(a.state, a.logger, a.cfg.Bitwarden.Mode == bitwarden.ModeImport)
	res, err := a.syncer.Run(ctx, ro)
	if a.observe != nil && !ro.DryRun {
		a.observe(res, err)
	}
	if ro.DryRun || res == nil {
		return res, err
	}
	if res.Ledger != nil && res.LedgerChanged {
		if serr := a.state.Save(ledgerFile, res.Ledger); serr != nil {
			err = errors.Join(err, fmt.Errorf("save the ledger: %w", serr))
		}
	}
	var prev lastRun
	_ = a.state.Load(lastRunFile, &prev)
	if serr := a.state.Save(lastRunFile, newLastRun(res, err, a.cfg, prev)); serr != nil {
		err = errors.Join(err, fmt.Errorf("save the run's summary: %w", serr))
	}
	return res, err
}

// alert tells a person about the run's refusals. A failed alert is logged:
// it must not turn a held plan into a failed run.
func (a *app) alert(ctx context.Context, res *sync.Result) {
	if res == nil || len(res.Refusals) == 0 || !a.cfg.Alerts.Enabled() {
		return
	}
	// The alert goes out even while the process is stopping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*a.cfg.Alerts.Timeout+time.Minute)
	defer cancel()
	if err := a.alerts.Send(ctx, alert.FromResult(res, a.cfg.Bitwarden.OrganizationID, a.cfg.Source.Type)); err != nil {
		a.logger.Error("could not send the alert", "err", err)
	}
}

// groupless leaves the directory's groups out, for an organization that
// cannot hold them (Vaultwarden without ORG_GROUPS_ENABLED): the plan then
// shows no group changes, and the ledger records no groups until they can be
// synced.
type groupless struct {
	source
	logger *slog.Logger
}

func (g groupless) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	snap, err := g.source.Snapshot(ctx)
	if n := len(snap.Groups); n > 0 {
		g.logger.Warn("groups are not synced: Vaultwarden ignores imported groups unless ORG_GROUPS_ENABLED=true; "+
			"set it and bitwarden.vaultwarden_groups: true to sync them", "directory_groups", n)
		snap.Groups = nil
	}
	return snap, err
}
