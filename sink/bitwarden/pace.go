package bitwarden

import (
	"context"
	"net/http"
	stdsync "sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer spaces requests per verb and concrete path, the way Bitwarden's
// cloud counts them (AspNetCoreRateLimit with endpoint rate limiting: one
// fixed-window counter per client, verb and path). Each limit of n requests
// per period becomes a token bucket of burst 1 refilled n-1 times per
// period, so no window of that length, fixed or sliding, ever sees more
// than n requests.
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

type bucket struct {
	limiters []*rate.Limiter
	used     time.Time
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

// wait blocks until a request of method on path may go, or ctx ends.
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
	for _, l := range p.bucket(method+" "+path, limits) {
		if err := l.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *pacer) bucket(key string, limits []limit) []*rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if len(p.buckets) > pruneAt {
		for k, b := range p.buckets {
			if now.Sub(b.used) > time.Minute+time.Second {
				delete(p.buckets, k)
			}
		}
	}
	b, ok := p.buckets[key]
	if !ok {
		b = &bucket{}
		for _, l := range limits {
			b.limiters = append(b.limiters, rate.NewLimiter(every(l), 1))
		}
		p.buckets[key] = b
	}
	b.used = now
	return b.limiters
}

// every returns the refill rate that keeps any window of l.period to at
// most l.n requests with a burst of 1.
func every(l limit) rate.Limit {
	if l.n <= 1 {
		return rate.Every(l.period + l.period/10)
	}
	return rate.Every(l.period / time.Duration(l.n-1))
}
