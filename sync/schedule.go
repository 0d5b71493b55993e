package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule tells when the next run is due. cron.Schedule satisfies it.
type Schedule interface {
	// Next returns the first time after t when a run is due, or the zero
	// time when there is none.
	Next(t time.Time) time.Time
}

// scheduleHint follows every ParseSchedule error, so the fix is in the
// message.
const scheduleHint = "want 5 fields (minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\"), " +
	"optionally after CRON_TZ=<zone>, or a descriptor: @every 15m, @hourly, @daily, @weekly, @monthly"

// ParseSchedule parses a standard 5-field cron expression ("*/15 * * * *"),
// optionally prefixed with CRON_TZ=<IANA zone>, or a descriptor: @yearly,
// @monthly, @weekly, @daily (@midnight), @hourly or @every <duration>.
// Times without a zone are in the process's local time zone. A schedule
// that never fires (such as February 30th) or an @every that is not
// positive is an error. Every error names the spec.
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	sched, err := parseCron(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w; %s", spec, err, scheduleHint)
	}
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		// cron.Every rounds anything under a second, zero and negative
		// durations included, up to one second; refuse them instead.
		if dur, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && dur < time.Second {
			return nil, fmt.Errorf("schedule %q: the interval must be at least 1s", spec)
		}
	}
	// cron gives up after five years without a match.
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("schedule %q: never fires (no matching time in the next five years)", spec)
	}
	return sched, nil
}

// parseCron calls the cron parser, which panics on some malformed input
// (e.g. "CRON_TZ=UTC" with nothing after it).
func parseCron(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, errors.New("malformed expression")
		}
	}()
	if spec == "" {
		return nil, errors.New("empty")
	}
	return cron.ParseStandard(spec)
}

// Scheduler runs a job at start and then on a schedule, one run at a time.
// A run that outlasts its slot skips the ticks it missed rather than
// stacking them, and consecutive failures back off exponentially.
type Scheduler struct {
	// Schedule says when runs are due. Required.
	Schedule Schedule
	// Jitter, when positive, delays each run by a random extra in
	// [0, Jitter), so that many instances do not all call at :00.
	Jitter time.Duration
	// Run is the job. Required. Its ctx is Loop's.
	Run func(ctx context.Context) error
	// Stop reports whether an error from Run must end the loop (such as
	// the SCIM guard's refusal, which no retry can lift): Loop then returns
	// that error. Nil: no error ends it.
	Stop func(error) bool
	// BackoffMin and BackoffMax bound the wait after consecutive failures:
	// after n failures in a row the next run is no earlier than
	// min(BackoffMin*2^(n-1), BackoffMax) from the end of the last run.
	// Defaults 1 minute and 1 hour.
	BackoffMin, BackoffMax time.Duration
	// Logger receives the scheduler's own lines. Nil: no logging.
	Logger *slog.Logger
	// OnNext, if set, is told when the next run is due (for status and
	// metrics). It is called from Loop's goroutine and must not block.
	OnNext func(time.Time)
}

// Loop runs the job at once, then whenever the schedule says, until ctx
// ends, when it returns ctx.Err(). A failed run never ends the loop, except
// when Stop says so: then Loop returns Run's error. Loop is one goroutine:
// runs never overlap, and the next run time is computed after a run ends.
func (s *Scheduler) Loop(ctx context.Context) error {
	if s.Schedule == nil || s.Run == nil {
		return errors.New("scheduler: Schedule and Run are required")
	}
	log := s.logger()
	var (
		failures int    // consecutive failed runs
		lastErr  string // text of the last failure logged in full
	)
	timer := time.NewTimer(0) // run once at start
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		if ctx.Err() != nil { // both were ready: never start a run after the end
			return ctx.Err()
		}
		err := s.Run(ctx)
		switch {
		case err != nil && s.Stop != nil && s.Stop(err):
			return err
		case ctx.Err() != nil:
			return ctx.Err() // the run was cut short by the stop, not failed
		case err != nil:
			failures++
		case failures > 0:
			log.Info("run succeeded after failures", "consecutive_failures", failures)
			failures, lastErr = 0, ""
		}
		now := time.Now()
		next, backoff, nerr := s.next(now, failures)
		if nerr != nil {
			return nerr
		}
		if failures > 0 {
			lastErr = s.logFailure(log, failures, lastErr, err, next, backoff)
		}
		log.Debug("next run scheduled", "next_run", next)
		if s.OnNext != nil {
			s.OnNext(next)
		}
		timer.Reset(next.Sub(now))
	}
}

// next returns when the next run is due, after failures consecutive
// failures, and the backoff that applied.
func (s *Scheduler) next(now time.Time, failures int) (time.Time, time.Duration, error) {
	earliest, backoff := now, time.Duration(0)
	if failures > 0 {
		backoff = s.backoff(failures)
		earliest = now.Add(backoff)
	}
	// The first tick at or after earliest, walking the schedule from now so
	// that @every keeps its rhythm. The walk is short: the backoff is capped.
	t := s.Schedule.Next(now)
	for !t.IsZero() && t.Before(earliest) {
		n := s.Schedule.Next(t)
		if !n.After(t) {
			t = time.Time{}
			break
		}
		t = n
	}
	if t.IsZero() {
		return time.Time{}, 0, fmt.Errorf("scheduler: the schedule has no run after %s", earliest.Format(time.RFC3339))
	}
	if s.Jitter > 0 {
		t = t.Add(rand.N(s.Jitter))
	}
	return t, backoff, nil
}

// backoff returns min(BackoffMin*2^(n-1), BackoffMax).
func (s *Scheduler) backoff(n int) time.Duration {
	lo, hi := s.BackoffMin, s.BackoffMax
	if lo <= 0 {
		lo = time.Minute
	}
	if hi <= 0 {
		hi = time.Hour
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// logFailure logs a failed run. The error's full text goes out on the first
// failure of a streak, whenever it differs from the last text logged, and on
// every 10th consecutive failure; the failures in between get one short line
// each (the count and the next run), so an outage that lasts a weekend
// neither floods the journal with the same multi-line error nor goes silent.
// It returns the error text last logged in full.
func (s *Scheduler) logFailure(log *slog.Logger, n int, lastErr string, err error, next time.Time, backoff time.Duration) string {
	attrs := []any{"consecutive_failures", n, "backoff", backoff.String(), "next_run", next}
	if msg := err.Error(); n == 1 || n%10 == 0 || msg != lastErr {
		log.Error("run failed", append(attrs, "err", msg)...)
		return msg
	}
	log.Warn("run failed again with the same error", attrs...)
	return lastErr
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
