package bitwarden

import (
	"context"
	"testing"
	"time"
)

func TestPacer_Take(t *testing.T) {
	p := newPacer(RateLimit{PerSecond: 5, PerMinute: 8}, false)
	limits := p.write
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const ms = time.Millisecond
	steps := []struct {
		at      time.Duration
		key     string
		latency time.Duration // until the answer; -1: never answered
		want    time.Duration // the wait; 0: the request goes
	}{
		{0, "POST /a", 100 * ms, 0}, // answered at 100ms: the window runs from there
		{0, "POST /a", 0, 0},
		{0, "POST /a", 0, 0},
		{0, "POST /a", 0, 0},
		{0, "POST /a", 0, 0},
		{0, "POST /a", 0, 1110 * ms},          // sixth in a second: 100ms + 1.01s
		{0, "POST /b", 0, 0},                  // another path has its own bucket
		{1110 * ms, "POST /a", 0, 0},          // the window has passed: 6 this minute
		{1110 * ms, "POST /a", 0, 0},          // 7
		{1200 * ms, "POST /a", 0, 0},          // 8
		{1200 * ms, "POST /a", 0, 59500 * ms}, // ninth in a minute: 100ms + 60.6s
		{60700 * ms, "POST /a", 0, 0},
		{0, "PUT /c", -1, 0}, // never answered
		{0, "PUT /c", 0, 0},
		{0, "PUT /c", 0, 0},
		{0, "PUT /c", 0, 0},
		{0, "PUT /c", 0, 0},
		{500 * ms, "PUT /c", 0, 1010 * ms}, // the oldest, unanswered, counts as answered now
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		st, got := p.take(s.key, limits, now)
		if got != s.want || (st == nil) != (s.want != 0) {
			t.Fatalf("step %d: take(%s at %v) = %v, %v; want wait %v", i, s.key, s.at, st, got, s.want)
		}
		if st != nil && s.latency >= 0 {
			p.answer(st, now.Add(s.latency))
		}
	}
}

func TestPacer_NilAndSelfHostedGETs(t *testing.T) {
	var p *pacer
	answered, err := p.wait(context.Background(), "POST", "/x")
	if err != nil {
		t.Fatalf("nil pacer: %v", err)
	}
	answered()
	p = newPacer(RateLimit{PerSecond: 1}, false) // self-hosted: GETs unpaced
	for range 3 {
		answered, err := p.wait(context.Background(), "GET", "/x")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		answered()
	}
}

func TestPacer_WaitHonoursContext(t *testing.T) {
	p := newPacer(RateLimit{PerMinute: 1}, false)
	ctx, cancel := context.WithCancel(context.Background())
	answered, err := p.wait(ctx, "PUT", "/x")
	if err != nil {
		t.Fatal(err)
	}
	answered()
	cancel()
	if _, err := p.wait(ctx, "PUT", "/x"); err != context.Canceled {
		t.Errorf("wait() = %v, want context.Canceled", err)
	}
}
