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
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	steps := []struct {
		at   time.Duration
		key  string
		want time.Duration
	}{
		{0, "POST /a", 0},
		{0, "POST /a", 0},
		{0, "POST /a", 0},
		{0, "POST /a", 0},
		{0, "POST /a", 0},
		{0, "POST /a", 1050 * time.Millisecond}, // sixth in a second: wait for the window
		{0, "POST /b", 0},                       // another path has its own bucket
		{1050 * time.Millisecond, "POST /a", 0}, // the window has passed: 6 this minute
		{1050 * time.Millisecond, "POST /a", 0}, // 7
		{1100 * time.Millisecond, "POST /a", 0}, // 8
		{1100 * time.Millisecond, "POST /a", 61900 * time.Millisecond}, // ninth in a minute
		{63 * time.Second, "POST /a", 0},
	}
	for i, s := range steps {
		if got := p.take(s.key, limits, at(s.at)); got != s.want {
			t.Errorf("step %d: take(%s at %v) = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}

func TestPacer_NilAndGETs(t *testing.T) {
	var p *pacer
	if err := p.wait(context.Background(), "POST", "/x"); err != nil {
		t.Errorf("nil pacer: %v", err)
	}
	p = newPacer(RateLimit{PerSecond: 1}, false) // self-hosted: GETs unpaced
	for range 3 {
		if d := p.take("GET /x", p.read, time.Now()); d != 0 && len(p.read) > 0 {
			t.Errorf("GET waited %v", d)
		}
		if err := p.wait(context.Background(), "GET", "/x"); err != nil {
			t.Errorf("GET: %v", err)
		}
	}
}

func TestPacer_WaitHonoursContext(t *testing.T) {
	p := newPacer(RateLimit{PerMinute: 1}, false)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.wait(ctx, "PUT", "/x"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := p.wait(ctx, "PUT", "/x"); err != context.Canceled {
		t.Errorf("wait() = %v, want context.Canceled", err)
	}
}
