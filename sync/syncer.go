package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	stdsync "sync"
	"time"
)

// ErrAbort is matched (errors.Is) by a sink error after which further
// operations are pointless, such as credentials the server rejects. Apply
// stops at the first one.
var ErrAbort = errors.New("sync aborted")

// SCIMProbe tells whether an identity provider provisions the organization
// by SCIM, in which case a pull sync must not run.
type SCIMProbe interface {
	SCIMEnabled(ctx context.Context) (bool, error)
}

// Syncer reads the directory and the organization, plans, checks the plan
// against the guards, and applies it. One Syncer serves every run of a
// process; it holds no state between runs.
type Syncer struct {
	Source  Source
	Sink    Sink
	SCIM    SCIMProbe // optional
	Options Options
	Limits  Limits
	// Bulk says when the bulk path is used; it needs a Sink that is also a
	// BulkSink. The zero value never uses it.
	Bulk   BulkOptions
	Logger *slog.Logger
	// OpTimeout bounds one operation. Operations run to completion when the
	// run's context is canceled, so that a stop never leaves one half done.
	// Default 2 minutes.
	OpTimeout time.Duration
}

// RunOptions are the choices and inputs of one run.
type RunOptions struct {
	// DryRun plans and checks but changes nothing.
	DryRun bool
	// Force overrides the deletion thresholds and the source-drop guard
	// (never the SCIM guard, nor a scope change).
	Force bool
	// AcceptScopeChange accepts a changed scope (see CheckHistory).
	AcceptScopeChange bool
	// Ledger is the ledger of earlier runs; nil keeps none (every external
	// id is managed, no grace period, no history guards). A run that applies
	// updates it in place (see Result.Ledger).
	Ledger *Ledger
	// Scope is the fingerprint of what the source reads now.
	Scope string
	// Now is the run's time; zero means time.Now().
	Now time.Time
	// Approved, when set, is a reviewed plan to apply exactly instead of a
	// new one, provided the directory and the organization still have the
	// fingerprints it was made from (else the run is refused). The deletion
	// guards are not asked again: a person approved the plan.
	Approved *Approval
}

// Approval is a reviewed plan: its operations and the fingerprints of the
// snapshot and state it was made from.
type Approval struct {
	Source, State string
	Ops           []Op
}

// Result is what one run did.
type Result struct {
	RunID    string
	Started  time.Time
	Duration time.Duration
	DryRun   bool
	// Planned is true once the run has read both sides and made its plan.
	Planned bool
	// Plan is the plan the run made; empty when reading failed.
	Plan Plan
	// Snapshot and State are what the run read (Snapshot normalized).
	Snapshot Snapshot
	State    OrgState
	// Done lists the operations that took effect.
	Done []Op
	// Ledger is the ledger after the run (RunOptions.Ledger, updated in
	// place); nil after a dry run or a failed read, and when the run kept
	// none. LedgerChanged says whether the run changed it.
	Ledger        *Ledger
	LedgerChanged bool
	// Warnings are the directory entries Normalize changed or left out.
	Warnings []Note
	// Refusals are the guards that held the plan back.
	Refusals []*Refusal
	// Applied counts the operations carried out, by action.
	Applied map[Action]int
	// Failed lists the operations that failed, with their errors.
	Failed []OpError
	// Stopped is true when the run's context ended before every operation ran.
	Stopped bool
}

// OpError is one failed operation.
type OpError struct {
	Op  Op
	Err error
}

// Error returns the sink's error, which names the operation (see Sink).
func (e OpError) Error() string { return e.Err.Error() }

func (e OpError) Unwrap() error { return e.Err }

// AppliedTotal returns the number of operations carried out.
func (r *Result) AppliedTotal() int {
	n := 0
	for _, c := range r.Applied {
		n += c
	}
	return n
}

// Outcome is the run's result in one word: "error" (it failed before it
// could plan), "failed", "stopped", "refused", "dry_run", "no_changes" or
// "ok".
func (r *Result) Outcome() string {
	switch {
	case !r.Planned:
		return "error"
	case len(r.Failed) > 0:
		return "failed"
	case r.Stopped:
		return "stopped"
	case len(r.Refusals) > 0:
		return "refused"
	case r.DryRun:
		return "dry_run"
	case r.Plan.Empty():
		return "no_changes"
	}
	return "ok"
}

// Run makes one sync: read, plan, check, and apply unless ro.DryRun. The
// error is nil only when everything planned was applied (or, in a dry run,
// when a real run would be allowed). A guard's refusal returns an error
// matching ErrRefused; a failed read returns before planning and changes
// nothing.
func (s *Syncer) Run(ctx context.Context, ro RunOptions) (*Result, error) {
	if ro.Now.IsZero() {
		ro.Now = time.Now()
	}
	res := &Result{RunID: newRunID(), Started: time.Now(), DryRun: ro.DryRun, Applied: map[Action]int{}}
	log := s.logger().With("run_id", res.RunID)
	err := s.run(ctx, ro, res, log)
	res.Duration = time.Since(res.Started)
	s.logSummary(log, res, err)
	return res, err
}

func (s *Syncer) run(ctx context.Context, ro RunOptions, res *Result, log *slog.Logger) error {
	want, have, scim, err := s.read(ctx, ro.Ledger)
	if err != nil {
		return err
	}
	opt := s.Options
	opt.Ledger, opt.Now = ro.Ledger, ro.Now
	opt.ImportOnly = stateless(s.Sink)
	want, res.Warnings, res.Plan = MakePlan(want, have, opt)
	res.Snapshot, res.State = want, have
	for _, n := range res.Warnings {
		log.Warn("directory entry left out or changed", "entry", n.Subject, "kind", n.Kind, "detail", n.Message)
	}
	res.Planned = true
	if ro.Approved != nil {
		if r := approve(ro.Approved, want, have, &res.Plan); r != nil {
			res.Refusals = append(res.Refusals, r)
		}
		ro.Force, ro.AcceptScopeChange = true, true
	}
	if err := s.check(ctx, ro, res, log); err != nil {
		return err
	}
	if scim {
		res.Refusals = append(res.Refusals, SCIMRefusal(res.Plan))
	}
	s.logRefusals(log, res.Refusals)
	if ro.DryRun {
		s.markBulk(&res.Plan)
		return JoinRefusals(res.Refusals)
	}
	var applyErr error
	if ops := res.Plan.Allowed(res.Refusals); len(ops) > 0 {
		applyErr = s.apply(ctx, ops, res, log)
	}
	if ro.Ledger != nil {
		res.Ledger, res.LedgerChanged = ro.Ledger, s.updateLedger(ro, res)
	}
	return errors.Join(applyErr, JoinRefusals(res.Refusals))
}

// approve puts the approved operations in the plan, or returns a refusal
// when what the plan was made from has changed.
func approve(a *Approval, want Snapshot, have OrgState, p *Plan) *Refusal {
	var changed []string
	if want.Fingerprint() != a.Source {
		changed = append(changed, "the directory")
	}
	if have.Fingerprint() != a.State {
		changed = append(changed, "the organization")
	}
	if len(changed) > 0 {
		return &Refusal{Guard: GuardStalePlan, Hold: HoldAll, Held: a.Ops,
			Reason: strings.Join(changed, " and ") + " changed since the plan was saved; make and review a new plan " +
				"(dirbridge sync --dry-run --save-plan FILE)"}
	}
	p.Ops = a.Ops
	return nil
}

// check runs the guards over the plan and records their refusals.
func (s *Syncer) check(ctx context.Context, ro RunOptions, res *Result, log *slog.Logger) error {
	if !ro.Force {
		res.Refusals = append(res.Refusals, Check(res.Plan, s.Limits)...)
	}
	lim := s.Limits
	if ro.Force {
		lim.MaxSourceDropPercent = 0
	}
	res.Refusals = append(res.Refusals, CheckHistory(res.Plan, ro.Ledger, ro.Scope, ro.AcceptScopeChange, lim)...)
	if sc, ok := s.Sink.(SeatCounter); ok && res.Plan.Counts()[ActionInvite] > 0 {
		seats, err := sc.Seats(ctx)
		if err != nil {
			return fmt.Errorf("seat preflight: %w", err)
		}
		if r := SeatRefusal(res.Plan, res.State, seats); r != nil {
			res.Refusals = append(res.Refusals, r)
		}
	}
	return nil
}

// updateLedger brings the ledger up to date after an applied run, and
// reports whether it changed. A run whose directory read a guard doubted
// counts no absences and keeps the last good run's figures.
func (s *Syncer) updateLedger(ro RunOptions, res *Result) bool {
	doubted := false
	for _, r := range res.Refusals {
		if r.Hold != HoldInvites {
			doubted = true
		}
	}
	l := ro.Ledger
	changed := l.Update(res.Snapshot, res.State, res.Done, ro.Now,
		LedgerUpdate{AdoptForeign: s.Options.AdoptForeign, CountAbsence: !doubted, KeepMemberships: stateless(s.Sink)})
	if !doubted && (l.Scope != ro.Scope || l.SourceUsers != res.Plan.SourceUsers) {
		l.Scope, l.SourceUsers = ro.Scope, res.Plan.SourceUsers
		changed = true
	}
	return changed
}

func (s *Syncer) logRefusals(log *slog.Logger, rs []*Refusal) {
	for _, r := range rs {
		log.Error("plan refused", "guard", r.Guard, "reason", r.Reason, "held", len(r.Held))
		for _, op := range r.Held {
			if r.Hold == HoldAll || op.Action.Destructive() || len(op.RemovedIDs) > 0 || (r.Hold == HoldInvites && op.Action == ActionInvite) {
				log.Warn("held back by guard", "guard", r.Guard, "action", op.Action.String(), "subject", op.Subject(),
					"external_id", op.ExternalID, "removed", len(op.Removed))
			}
		}
	}
}

// markBulk marks the operations that take the bulk path: under the bulk
// options, or all of them for a sink that has nothing else.
func (s *Syncer) markBulk(p *Plan) {
	switch {
	case stateless(s.Sink):
		for i := range p.Ops {
			p.Ops[i].Bulk = true
		}
	case s.Bulk.Mode != "":
		if _, ok := s.Sink.(BulkSink); ok {
			p.MarkBulk(s.Bulk)
		}
	}
}

// read fetches the directory, the organization and the SCIM state at once.
// A stateless sink's organization is the one the ledger remembers.
func (s *Syncer) read(ctx context.Context, ledger *Ledger) (Snapshot, OrgState, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg                       stdsync.WaitGroup
		want                     Snapshot
		have                     OrgState
		scim                     bool
		srcErr, sinkErr, scimErr error
	)
	wg.Go(func() {
		if want, srcErr = s.Source.Snapshot(ctx); srcErr != nil {
			cancel()
		}
	})
	wg.Go(func() {
		if stateless(s.Sink) {
			have = ledger.OrgState()
			return
		}
		if have, sinkErr = s.Sink.State(ctx); sinkErr != nil {
			cancel()
		}
	})
	if s.SCIM != nil {
		wg.Go(func() {
			if scim, scimErr = s.SCIM.SCIMEnabled(ctx); scimErr != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	// Report the first cause, not the cancellations it caused.
	switch {
	case srcErr != nil && !errors.Is(srcErr, context.Canceled):
		return Snapshot{}, OrgState{}, false, fmt.Errorf("read directory: %w", srcErr)
	case sinkErr != nil && !errors.Is(sinkErr, context.Canceled):
		return Snapshot{}, OrgState{}, false, fmt.Errorf("read organization: %w", sinkErr)
	case scimErr != nil && !errors.Is(scimErr, context.Canceled):
		return Snapshot{}, OrgState{}, false, fmt.Errorf("check SCIM (failing closed): %w", scimErr)
	}
	if err := errors.Join(srcErr, sinkErr, scimErr); err != nil {
		return Snapshot{}, OrgState{}, false, fmt.Errorf("read: %w", err)
	}
	return want, have, scim, nil
}

// apply carries out the plan's operations in order. A failed operation does
// not stop the others, except one matching ErrAbort. The run's context is
// checked between operations; each operation itself runs to completion.
func (s *Syncer) apply(ctx context.Context, ops []Op, res *Result, log *slog.Logger) error {
	timeout := s.OpTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	p := Plan{Ops: ops}
	s.markBulk(&p)
	ops = p.Ops
	s.markBulk(&res.Plan)
	var errs []error
	bulkDone := false
	for i, op := range ops {
		if op.Bulk && bulkDone {
			continue
		}
		if ctx.Err() != nil {
			res.Stopped = true
			errs = append(errs, fmt.Errorf("stopped after %d of %d operations: %w", i, len(ops), context.Cause(ctx)))
			break
		}
		if op.Bulk {
			// Every bulk operation goes in one batch, at the first one's turn.
			bulkDone = true
			failed, err := s.applyBulk(context.WithoutCancel(ctx), bulkOps(ops), res)
			if err != nil {
				return err
			}
			for _, f := range failed {
				res.Failed = append(res.Failed, f)
				errs = append(errs, f)
				log.Error("operation failed", "action", f.Op.Action.String(), "subject", f.Op.Subject(), "external_id", f.Op.ExternalID, "err", f.Err)
			}
			continue
		}
		opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		err := s.Sink.Apply(opCtx, op)
		cancel()
		if err != nil {
			oe := OpError{Op: op, Err: err}
			res.Failed = append(res.Failed, oe)
			errs = append(errs, oe)
			log.Error("operation failed", "action", op.Action.String(), "subject", op.Subject(), "external_id", op.ExternalID, "err", err)
			if errors.Is(err, ErrAbort) {
				errs = append(errs, fmt.Errorf("stopped after %d of %d operations", i+1, len(ops)))
				break
			}
			continue
		}
		res.Applied[op.Action]++
		res.Done = append(res.Done, op)
		log.Info("applied", "action", op.Action.String(), "subject", op.Subject(), "external_id", op.ExternalID)
	}
	if len(errs) > 0 {
		return &ApplyError{Failed: len(res.Failed), Total: len(ops), errs: errs}
	}
	return nil
}

// ApplyError is a run whose operations did not all succeed. Its message is
// short (each failure was logged on its own); errors.Is and errors.As see
// every failure through it.
type ApplyError struct {
	Failed, Total int
	errs          []error
}

func (e *ApplyError) Error() string {
	parts := []string{fmt.Sprintf("apply: %d of %d operations failed", e.Failed, e.Total)}
	first := true
	for _, err := range e.errs {
		if _, ok := err.(OpError); !ok {
			parts = append(parts, err.Error()) // why the run stopped early
		} else if first {
			parts = append(parts, "first: "+err.Error())
			first = false
		}
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns every failure.
func (e *ApplyError) Unwrap() []error { return e.errs }

func (s *Syncer) logSummary(log *slog.Logger, res *Result, err error) {
	attrs := []any{"result", res.Outcome(), "dry_run", res.DryRun, "duration", res.Duration.Round(time.Millisecond).String(),
		"source_users", res.Plan.SourceUsers, "source_groups", res.Plan.SourceGroups}
	counts := res.Plan.Counts()
	for _, a := range Actions {
		attrs = append(attrs, a.String(), counts[a])
	}
	if !res.DryRun {
		attrs = append(attrs, "applied", res.AppliedTotal(), "failed", len(res.Failed))
	}
	attrs = append(attrs, "left_alone", len(res.Plan.Notes), "warnings", len(res.Warnings))
	for _, n := range res.Plan.Notes {
		log.Debug("left alone", "subject", n.Subject, "kind", n.Kind, "detail", n.Message)
	}
	if err != nil {
		attrs = append(attrs, "err", err)
		log.Error("sync done", attrs...)
		return
	}
	log.Info("sync done", attrs...)
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
