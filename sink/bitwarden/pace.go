package bitwarden

import (
	"context"
	"net/http"
	stdsync "sync"
	"time"
)

// pacer spaces requests per verb and concrete path, the way Bitwarden's
// cloud counts them (AspNetCoreRateLimit with endpoint rate limiting: one
// fixed-window counter per client, verb and path, its window starting at
// the request that opens it). For every limit of n per period, a bucket
// remembers its last n requests, and a request waits until the oldest of
// them was answered a period ago. The server counted that request before
// its answer came back, so no server window, fixed or sliding, ever sees
// more than n, whatever the network's delays; and a short plan still goes
// out at full speed.
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

// window is the period plus a margin for the two clocks' granularity.
func (l limit) window() time.Duration { return l.period + l.period/100 }

// bucket holds, for each limit of its key, the last n requests, oldest
// first.
type bucket struct {
	sent [][]*stamp
	used time.Time
}

// stamp is one request in a bucket: when it went out and, once answered,
// when its answer came back.
type stamp struct {
	t        time.Time
	answered bool
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
// returns ctx's error. The caller calls answered when the request's answer
// (or failure) is back.
func (p *pacer) wait(ctx context.Context, method, path string) (answered func(), err error) {
	if p == nil {
		return func() {}, nil
	}
	limits := p.write
	if method == http.MethodGet || method == http.MethodHead {
		limits = p.read
	}
	if len(limits) == 0 {
		return func() {}, nil
	}
	key := method + " " + path
	for {
		st, d := p.take(key, limits, time.Now())
		if st != nil {
			return func() { p.answer(st, time.Now()) }, nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// answer records that the request of st was answered at now.
func (p *pacer) answer(st *stamp, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st.t, st.answered = now, true
}

// take counts a request going out now and returns its stamp, or returns
// how long to wait before trying again. A request still unanswered counts
// as answered now.
func (p *pacer) take(key string, limits []limit, now time.Time) (*stamp, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buckets) > pruneAt {
		p.prune(now)
	}
	b, ok := p.buckets[key]
	if !ok {
		b = &bucket{sent: make([][]*stamp, len(limits))}
		p.buckets[key] = b
	}
	b.used = now
	var wait time.Duration
	for i, l := range limits {
		if len(b.sent[i]) < l.n {
			continue
		}
		oldest := b.sent[i][0]
		t := oldest.t
		if !oldest.answered {
			t = now
		}
		if d := t.Add(l.window()).Sub(now); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return nil, wait
	}
	st := &stamp{t: now}
	for i, l := range limits {
		s := append(b.sent[i], st)
		if len(s) > l.n {
			s = s[len(s)-l.n:]
		}
		b.sent[i] = s
	}
	return st, 0
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
