package bwemu

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateRule is one AspNetCoreRateLimit rule: at most limit requests per
// period, counted per client IP, verb and concrete path.
type rateRule struct {
	name   string // the rule's Period text: "1s", "1m"
	period time.Duration
	limit  int
}

var (
	perSecond5  = rateRule{"1s", time.Second, 5}
	perMinute60 = rateRule{"1m", time.Minute, 60}
	getRules    = []rateRule{{"1m", time.Minute, 200}}
	writeRules  = []rateRule{perSecond5, perMinute60}
	// Identity has "*" 5/s and 60/min plus post:/connect/token 10/min; the
	// library keeps the most restrictive rule of each period.
	tokenRules = []rateRule{perSecond5, {"1m", time.Minute, 10}}
)

// rulesFor returns the rules matching a request, shortest period first.
func rulesFor(method, path string) []rateRule {
	if path == "/identity/connect/token" {
		return tokenRules
	}
	if !strings.HasPrefix(path, "/api/") {
		return nil
	}
	switch method {
	case http.MethodGet:
		return getRules
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		return writeRules
	}
	return nil
}

// rateCounter is a fixed window that starts at its first request.
type rateCounter struct {
	start time.Time
	count int
}

type rateLimiter struct {
	counters  map[string]*rateCounter
	lastPrune time.Time
}

func newRateLimiter() *rateLimiter { return &rateLimiter{counters: map[string]*rateCounter{}} }

// rateVerdict is the outcome of counting one request.
type rateVerdict struct {
	blocked    bool
	rule       rateRule
	counter    rateCounter
	retryAfter int
}

// count counts a request against every rule in order, as the middleware does
// (blocked requests count too), and stops at the first rule exceeded. When
// nothing is exceeded the verdict carries the longest rule for the headers.
func (rl *rateLimiter) count(key string, rules []rateRule, now time.Time) rateVerdict {
	if now.Sub(rl.lastPrune) > time.Minute {
		for k, c := range rl.counters {
			if now.Sub(c.start) > time.Minute {
				delete(rl.counters, k)
			}
		}
		rl.lastPrune = now
	}
	var v rateVerdict
	for _, rule := range rules {
		k := key + "|" + rule.name
		c := rl.counters[k]
		if c == nil || !now.Before(c.start.Add(rule.period)) {
			c = &rateCounter{start: now}
			rl.counters[k] = c
		}
		c.count++
		v.rule, v.counter = rule, *c
		if c.count > rule.limit {
			v.blocked = true
			secs := math.Round(c.start.Add(rule.period).Sub(now).Seconds())
			v.retryAfter = int(math.Max(secs, 1))
			return v
		}
	}
	return v
}

// rateLimited applies the cloud rate limits (section 5) and answers 429 when
// one is exceeded; otherwise it sets the X-Rate-Limit-* headers.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request) bool {
	if !s.opt.RateLimit || s.opt.Vaultwarden {
		return false
	}
	rules := rulesFor(r.Method, r.URL.Path)
	if rules == nil {
		return false
	}
	key := clientIP(r) + "|" + strings.ToLower(r.Method) + ":" + r.URL.Path
	now := s.now()
	s.mu.Lock()
	if s.st.org.selfHosted {
		s.mu.Unlock()
		return false
	}
	v := s.limiter.count(key, rules, now)
	s.mu.Unlock()
	if v.blocked {
		writeSlowDown(w, v.retryAfter, v.rule.name)
		return true
	}
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", v.rule.name)
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(v.rule.limit-v.counter.count))
	h.Set("X-Rate-Limit-Reset", v.counter.start.Add(v.rule.period).UTC().Format("2006-01-02T15:04:05.0000000Z"))
	return false
}

// writeSlowDown writes the rate-limit answer: 429, Retry-After, and the
// internal error shape.
func writeSlowDown(w http.ResponseWriter, retryAfter int, period string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	body := fmt.Sprintf(`{"object":"error","message":"Slow down! Too many requests. Try again in %s.",`+
		`"validationErrors":null,"exceptionMessage":null,"exceptionStackTrace":null,"innerExceptionMessage":null}`, period)
	writeRaw(w, http.StatusTooManyRequests, "application/json", []byte(body))
}

// clientIP is X-Connecting-IP, else the socket's address.
func clientIP(r *http.Request) string {
	if ip := r.Header.Get("X-Connecting-IP"); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
