package bitwarden

import (
	"context"
	"net/http"
	stdsync "sync"
	"time"
)

// pacer spaces requests per verb and concrete path, the way Bitwarden's
// cloud counts them (AspNetCoreRateLimit with endpoint rate limiting: one
// fixed-window counter per client, verb and path). Each bucket keeps the
// send times of its last n requests for every limit of n per period, and a
// request waits until fewer than n were sent in the last period plus a
// margin for network jitter. No window of that length, fixed or sliding,
// then sees more than n, while short plans still go out at full speed.
//
// A token bucket (golang.org/x/time/rate) cannot do both: refilled at
// n/period it lets a burst and the refill land in one fixed window (429s);
// with a burst of 1 it spaces every request by period/n, so 20 invites take
// 20 seconds under a limit of 60 a minute.
type pacer struct {
	write []limit // for POST, PUT and DELETE
	read  []limit // for GET

	mu      stdsync.Mutex
	buckets map[string]*bucket
}

// limit is n requests per period.
type limit struct {
	n      int
	period time.Duration
}

// window is the period plus a margin for jitter between the client's send
// times and the server's arrival times.
func (l limit) window() time.Duration { return l.period + l.period/20 }

// bucket holds, for each limit of its key, the send times of the last n
// requests, oldest first.
type bucket struct {
	sent [][]time.Time
	used time.Time
}

// pruneAt is the number of buckets above which idle ones are dropped.
const pruneAt = 1024

// newPacer returns the pacer for a configuration, or nil when nothing is
// paced.
func newPacer(rl RateLimit, cloud bool) *pacer {
	p := &pacer{buckets: make(map[string]*bucket)}
	if rl.PerSecond == 0 && rl.PerMinute == 0 && cloud {
		rl = RateLimit{PerSecond: 5, PerMinute: 60}
	}
	if rl.PerSecond > 0 {
		p.write = append(p.write, limit{rl.PerSecond, time.Second})
	}
	if rl.PerMinute > 0 {
		p.write = append(p.write, limit{rl.PerMinute, time.Minute})
	}
	if cloud {
		p.read = []limit{{200, time.Minute}}
	}
	if len(p.write) == 0 && len(p.read) == 0 {
		return nil
	}
	return p
}

// wait blocks until a request of method on path may go, and counts it; or
// returns ctx's error.
func (p *pacer) wait(ctx context.Context, method, path string) error {
	if p == nil {
		return nil
	}
	limits := p.write
	if method == http.MethodGet || method == http.MethodHead {
		limits = p.read
	}
	if len(limits) == 0 {
		return nil
	}
	key := method + " " + path
	for {
		d := p.take(key, limits, time.Now())
		if d == 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// take counts a request sent now and returns 0, or returns how long to
// wait before trying again.
func (p *pacer) take(key string, limits []limit, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buckets) > pruneAt {
		p.prune(now)
	}
	b, ok := p.buckets[key]
	if !ok {
		b = &bucket{sent: make([][]time.Time, len(limits))}
		p.buckets[key] = b
	}
	b.used = now
	var wait time.Duration
	for i, l := range limits {
		if len(b.sent[i]) < l.n {
			continue
		}
		if d := b.sent[i][0].Add(l.window()).Sub(now); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return wait
	}
	for i, l := range limits {
		s := append(b.sent[i], now)
		if len(s) > l.n {
			s = s[len(s)-l.n:]
		}
		b.sent[i] = s
	}
	return 0
}

// prune drops the buckets that no limit remembers anything for.
func (p *pacer) prune(now time.Time) {
	longest := time.Duration(0)
	for _, l := range append(p.write[:len(p.write):len(p.write)], p.read...) {
		longest = max(longest, l.window())
	}
	for k, b := range p.buckets {
		if now.Sub(b.used) > longest {
			delete(p.buckets, k)
		}
	}
}
