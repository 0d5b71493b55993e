package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // CRON_TZ cases must not depend on the machine's zoneinfo

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

// Every scheduler test runs in a synctest bubble, whose clock starts at
// 2000-01-01 00:00:00 UTC and only moves when every goroutine in it waits:
// hours of schedule take no real time.

func mustParse(t *testing.T, spec string) sync.Schedule {
	t.Helper()
	s, err := sync.ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// job is a fake Run that records when each call started and ended, relative
// to the bubble's start. call i takes take(i) and returns fail(i).
type job struct {
	origin      time.Time
	starts      []time.Duration
	ends        []time.Duration
	inFlight    int
	maxInFlight int
	take        func(i int) time.Duration
	fail        func(i int) error
}

func newJob() *job { return &job{origin: time.Now()} }

func (j *job) run(ctx context.Context) error {
	i := len(j.starts)
	j.starts = append(j.starts, time.Since(j.origin))
	j.inFlight++
	j.maxInFlight = max(j.maxInFlight, j.inFlight)
	defer func() { j.inFlight-- }()
	if j.take != nil {
		select {
		case <-time.After(j.take(i)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	j.ends = append(j.ends, time.Since(j.origin))
	if j.fail != nil {
		return j.fail(i)
	}
	return nil
}

// loopFor runs s.Loop for d of bubble time, then cancels it and returns its
// error. Reading the job's fields afterwards is safe: Loop has returned.
func loopFor(t *testing.T, s *sync.Scheduler, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Loop(ctx) }()
	time.Sleep(d)
	cancel()
	synctest.Wait()
	select {
	case err := <-done:
		return err
	default:
		t.Fatal("Loop did not return at once when its context ended")
		return nil
	}
}

func minutes(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Minute
	}
	return out
}

func TestScheduler_RunsAtStartAndOnEachTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJob()
		var nexts []time.Duration
		s := &sync.Scheduler{
			Schedule: mustParse(t, "CRON_TZ=UTC */15 * * * *"),
			Run:      j.run,
			OnNext:   func(next time.Time) { nexts = append(nexts, next.Sub(j.origin)) },
		}
		err := loopFor(t, s, 46*time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Loop = %v, want context.Canceled", err)
		}
		if diff := cmp.Diff(minutes(0, 15, 30, 45), j.starts); diff != "" {
			t.Errorf("starts (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(minutes(15, 30, 45, 60), nexts); diff != "" {
			t.Errorf("OnNext (-want +got):\n%s", diff)
		}
	})
}

func TestScheduler_LongRunSkipsMissedTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJob()
		j.take = func(i int) time.Duration {
			if i == 0 {
				return 40 * time.Minute // outlasts the ticks at 15 and 30
			}
			return 0
		}
		s := &sync.Scheduler{Schedule: mustParse(t, "CRON_TZ=UTC */15 * * * *"), Run: j.run}
		loopFor(t, s, 61*time.Minute)
		if diff := cmp.Diff(minutes(0, 45, 60), j.starts); diff != "" {
			t.Errorf("starts (-want +got):\n%s", diff)
		}
	})
}

func TestScheduler_RunsNeverOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newJob()
		j.take = func(int) time.Duration { return 20 * time.Minute }
		s := &sync.Scheduler{Schedule: mustParse(t, "@every 5m"), Run: j.run}
		loopFor(t, s, 90*time.Minute)
		if j.maxInFlight != 1 {
			t.Errorf("%d runs at once, want 1", j.maxInFlight)
		}
		// Each run starts a full interval after the previous one ended.
		if diff := cmp.Diff(minutes(0, 25, 50, 75), j.starts); diff != "" {
			t.Errorf("starts (-want +got):\n%s", diff)
		}
		for i := 1; i < len(j.starts); i++ {
			if j.starts[i] < j.ends[i-1] {
				t.Errorf("run %d started at %v, before run %d ended at %v", i, j.starts[i], i-1, j.ends[i-1])
			}
		}
	})
}

func TestScheduler_Backoff(t *testing.T) {
	errDown := errors.New("directory down")
	tests := []struct {
		name     string
		spec     string
		min, max time.Duration
		failures int // the first failures calls fail, the rest succeed
		loop     time.Duration
		want     []time.Duration
	}{
		{
			// 1, 2, 4, ... minutes after each failure, capped at an hour,
			// then back on the schedule after a success.
			name: "GrowsToTheCapAndResets", spec: "CRON_TZ=UTC * * * * *", failures: 7, loop: 125*time.Minute + 30*time.Second,
			want: minutes(0, 1, 3, 7, 15, 31, 63, 123, 124, 125),
		},
		{
			// A backoff shorter than the interval changes nothing.
			name: "ShorterThanTheInterval", spec: "CRON_TZ=UTC */15 * * * *", failures: 2, loop: 46 * time.Minute,
			want: minutes(0, 15, 30, 45),
		},
		{
			// After a backoff, the first tick at or after it.
			name: "WaitsForTheTickAfterTheBackoff", spec: "CRON_TZ=UTC */15 * * * *", min: 20 * time.Minute, max: 24 * time.Hour,
			failures: 3, loop: 181 * time.Minute,
			want: minutes(0, 30, 75, 165, 180),
		},
		{
			// @every keeps its rhythm from the last run.
			name: "EveryKeepsItsRhythm", spec: "@every 15m", min: 40 * time.Minute, max: 40 * time.Minute,
			failures: 2, loop: 106 * time.Minute,
			want: minutes(0, 45, 90, 105),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				j := newJob()
				j.fail = func(i int) error {
					if i < tt.failures {
						return errDown
					}
					return nil
				}
				s := &sync.Scheduler{Schedule: mustParse(t, tt.spec), Run: j.run, BackoffMin: tt.min, BackoffMax: tt.max}
				if err := loopFor(t, s, tt.loop); !errors.Is(err, context.Canceled) {
					t.Errorf("Loop = %v, want context.Canceled (a failed run never ends the loop)", err)
				}
				if diff := cmp.Diff(tt.want, j.starts); diff != "" {
					t.Errorf("starts (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestScheduler_StopEndsLoopWithRunError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errTransient := errors.New("connection reset")
		refusal := &sync.Refusal{Guard: sync.GuardSCIM, Reason: "SCIM provisioning is on"}
		j := newJob()
		j.fail = func(i int) error {
			if i == 0 {
				return errTransient
			}
			return refusal
		}
		s := &sync.Scheduler{
			Schedule: mustParse(t, "@every 5m"),
			Run:      j.run,
			Stop:     func(err error) bool { return errors.Is(err, sync.ErrRefused) },
		}
		err := loopFor(t, s, 24*time.Hour)
		if err != refusal {
			t.Errorf("Loop = %v, want the run's error %v", err, refusal)
		}
		if diff := cmp.Diff(minutes(0, 5), j.starts); diff != "" {
			t.Errorf("starts (-want +got):\n%s", diff)
		}
	})
}

func TestScheduler_CancelEndsLoopPromptly(t *testing.T) {
	t.Run("WhileWaiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			j := newJob()
			s := &sync.Scheduler{Schedule: mustParse(t, "@daily"), Run: j.run}
			// loopFor fails unless Loop returns without the clock moving.
			if err := loopFor(t, s, time.Hour); !errors.Is(err, context.Canceled) {
				t.Errorf("Loop = %v, want context.Canceled", err)
			}
			if len(j.starts) != 1 {
				t.Errorf("%d runs, want 1", len(j.starts))
			}
		})
	})
	t.Run("DuringARun", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var logs bytes.Buffer
			j := newJob()
			j.take = func(int) time.Duration { return 10 * time.Hour }
			s := &sync.Scheduler{Schedule: mustParse(t, "@every 1m"), Run: j.run, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if err := loopFor(t, s, 5*time.Minute); !errors.Is(err, context.Canceled) {
				t.Errorf("Loop = %v, want context.Canceled", err)
			}
			if logs.Len() > 0 {
				t.Errorf("a stop is not a failure, but Loop logged:\n%s", logs.String())
			}
		})
	})
	t.Run("BeforeTheFirstRun", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			j := newJob()
			s := &sync.Scheduler{Schedule: mustParse(t, "@every 1m"), Run: j.run}
			if err := s.Loop(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Loop = %v, want context.Canceled", err)
			}
			if len(j.starts) != 0 {
				t.Errorf("%d runs after the end, want 0", len(j.starts))
			}
		})
	})
}

func TestScheduler_JitterStaysInBounds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const jitter = 5 * time.Minute
		sched := mustParse(t, "CRON_TZ=UTC */15 * * * *")
		var starts, nexts []time.Time
		s := &sync.Scheduler{
			Schedule: sched,
			Jitter:   jitter,
			Run:      func(context.Context) error { starts = append(starts, time.Now()); return nil },
			OnNext:   func(next time.Time) { nexts = append(nexts, next) },
		}
		loopFor(t, s, 50*time.Hour)
		if len(starts) < 150 {
			t.Fatalf("%d runs in 50 hours, want about 200", len(starts))
		}
		var spread time.Duration
		for i := 1; i < len(starts); i++ {
			extra := starts[i].Sub(sched.Next(starts[i-1]))
			if extra < 0 || extra >= jitter {
				t.Errorf("run %d: %v after its tick, want within [0, %v)", i, extra, jitter)
			}
			if !nexts[i-1].Equal(starts[i]) {
				t.Errorf("run %d: OnNext said %v, ran at %v", i, nexts[i-1], starts[i])
			}
			spread = max(spread, extra)
		}
		if spread < time.Minute {
			t.Errorf("largest jitter %v in %d runs: is jitter applied?", spread, len(starts))
		}
	})
}

func TestScheduler_RateLimitsFailureLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errA, errB := errors.New("ldap: bind: invalid credentials"), errors.New("ldap: dial: connection refused")
		j := newJob()
		j.fail = func(i int) error {
			switch {
			case i < 11:
				return errA
			case i == 11:
				return errB
			}
			return nil
		}
		var buf bytes.Buffer
		s := &sync.Scheduler{
			Schedule: mustParse(t, "@every 1m"), Run: j.run,
			BackoffMin: time.Minute, BackoffMax: time.Minute,
			Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		}
		loopFor(t, s, 13*time.Minute+30*time.Second)
		type line struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			N     int    `json:"consecutive_failures"`
			Err   string `json:"err"`
		}
		var got []line
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var ln line
			if err := json.Unmarshal([]byte(l), &ln); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			got = append(got, ln)
		}
		again := func(n int) line {
			return line{Level: "WARN", Msg: "run failed again with the same error", N: n}
		}
		want := []line{
			{Level: "ERROR", Msg: "run failed", N: 1, Err: errA.Error()},
			again(2), again(3), again(4), again(5), again(6), again(7), again(8), again(9),
			{Level: "ERROR", Msg: "run failed", N: 10, Err: errA.Error()},
			again(11),
			{Level: "ERROR", Msg: "run failed", N: 12, Err: errB.Error()},
			{Level: "INFO", Msg: "run succeeded after failures", N: 12},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("log lines (-want +got):\n%s", diff)
		}
	})
}

func TestScheduler_RequiresScheduleAndRun(t *testing.T) {
	if err := (&sync.Scheduler{}).Loop(t.Context()); err == nil {
		t.Error("Loop without Schedule and Run returned nil")
	}
}

func TestParseSchedule(t *testing.T) {
	from := time.Date(2024, 3, 10, 10, 7, 30, 0, time.UTC) // a Sunday
	at := func(day, hour, minute, sec int) time.Time {
		return time.Date(2024, 3, day, hour, minute, sec, 0, time.UTC)
	}
	tests := []struct {
		spec    string
		want    time.Time // Next(from), for a valid spec
		wantErr string
	}{
		{spec: "*/15 * * * *", want: at(10, 10, 15, 0)},
		{spec: "  0 3 * * *  ", want: at(11, 3, 0, 0)},
		{spec: "30 2 * * mon-fri", want: at(11, 2, 30, 0)},
		{spec: "@hourly", want: at(10, 11, 0, 0)},
		{spec: "@daily", want: at(11, 0, 0, 0)},
		{spec: "@midnight", want: at(11, 0, 0, 0)},
		{spec: "@weekly", want: at(17, 0, 0, 0)},
		{spec: "@monthly", want: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)},
		{spec: "@every 15m", want: at(10, 10, 22, 30)},
		{spec: "@every 1h30m", want: at(10, 11, 37, 30)},
		{spec: "@every 1s", want: at(10, 10, 7, 31)},
		{spec: "CRON_TZ=Europe/Berlin 0 3 * * *", want: at(11, 2, 0, 0)},
		{spec: "", wantErr: `schedule "": empty; want 5 fields`},
		{spec: "   ", wantErr: `schedule "": empty`},
		{spec: "* * * *", wantErr: `schedule "* * * *": expected exactly 5 fields, found 4`},
		{spec: "0 * * * * *", wantErr: `schedule "0 * * * * *": expected exactly 5 fields, found 6`},
		{spec: "61 * * * *", wantErr: `schedule "61 * * * *": end of range (61) above maximum (59)`},
		{spec: "*/0 * * * *", wantErr: `step of range should be a positive number`},
		{spec: "every 15m", wantErr: `schedule "every 15m": expected exactly 5 fields, found 2`},
		{spec: "@every fortnight", wantErr: `invalid duration "fortnight"`},
		{spec: "@every 0s", wantErr: `schedule "@every 0s": the interval must be at least 1s`},
		{spec: "@every -5m", wantErr: `the interval must be at least 1s`},
		{spec: "@every 500ms", wantErr: `the interval must be at least 1s`},
		{spec: "@reboot", wantErr: `schedule "@reboot": unrecognized descriptor`},
		{spec: "0 0 30 2 *", wantErr: `schedule "0 0 30 2 *": never fires`},
		{spec: "CRON_TZ=Mars/Olympus 0 3 * * *", wantErr: `unknown time zone Mars/Olympus`},
		{spec: "CRON_TZ=UTC", wantErr: `schedule "CRON_TZ=UTC": malformed expression`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := sync.ParseSchedule(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSchedule(%q) = %v, want an error containing %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.spec, err)
			}
			if got := s.Next(from); !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", from, got.UTC(), tt.want)
			}
		})
	}
}
