// Package httpclient builds the retrying HTTP client that every HTTP source
// and sink shares, so that they all treat servers the same way: a 429 or 503
// waits as long as its Retry-After says, other 5xx answers and connection
// errors back off exponentially with jitter, and every other 4xx fails at
// once so the caller can report the server's message.
package httpclient

import (
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Options tunes a client. The zero value gives the defaults.
type Options struct {
	// Timeout bounds one attempt, headers and body. Default 60s.
	Timeout time.Duration
	// RetryMax is how many times a request is retried. Default 6.
	RetryMax int
	// WaitMin and WaitMax bound the backoff between attempts when the server
	// gives no Retry-After. Defaults 500ms and 30s.
	WaitMin, WaitMax time.Duration
	// MaxRetryAfter caps how long a Retry-After is honoured. Default 5m.
	MaxRetryAfter time.Duration
	// TLS configures the transport's TLS; nil uses the system roots.
	TLS *tls.Config
	// Logger receives one debug line per attempt and a warning per retry.
	// Nil discards them.
	Logger *slog.Logger
}

// New returns a client with the shared retry policy. Its ErrorHandler passes
// the last response through, so that after the retries are spent the caller
// still sees the server's status and body.
func New(opt Options) *retryablehttp.Client {
	if opt.Timeout == 0 {
		opt.Timeout = 60 * time.Second
	}
	if opt.RetryMax == 0 {
		opt.RetryMax = 6
	}
	if opt.WaitMin == 0 {
		opt.WaitMin = 500 * time.Millisecond
	}
	if opt.WaitMax == 0 {
		opt.WaitMax = 30 * time.Second
	}
	if opt.MaxRetryAfter == 0 {
		opt.MaxRetryAfter = 5 * time.Minute
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if opt.TLS != nil {
		transport.TLSClientConfig = opt.TLS
	}
	transport.MaxIdleConnsPerHost = 16
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: transport, Timeout: opt.Timeout}
	c.RetryMax = opt.RetryMax
	c.RetryWaitMin = opt.WaitMin
	c.RetryWaitMax = opt.WaitMax
	c.CheckRetry = retryablehttp.DefaultRetryPolicy
	c.Backoff = Backoff(opt.MaxRetryAfter)
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.Logger = nil
	c.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
		if attempt > 0 {
			logger.Warn("retrying request", "method", req.Method, "url", redact(req), "attempt", attempt+1)
			return
		}
		logger.Debug("request", "method", req.Method, "url", redact(req))
	}
	return c
}

// Backoff returns the backoff policy: Retry-After (seconds or an HTTP date)
// on 429 and 503, capped at maxRetryAfter; otherwise exponential from min,
// doubled each attempt up to max, with full jitter on the upper half.
func Backoff(maxRetryAfter time.Duration) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) &&
			resp.Header.Get("Retry-After") != "" {
			// DefaultBackoff returns the parsed Retry-After when there is one.
			d := retryablehttp.DefaultBackoff(min, max, attempt, resp)
			if d > maxRetryAfter {
				d = maxRetryAfter
			}
			return d
		}
		d := min << attempt
		if d <= 0 || d > max {
			d = max
		}
		half := d / 2
		return half + rand.N(half+1)
	}
}

// redact returns the request's URL without its query string, which may carry
// tokens.
func redact(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	u.User = nil
	return u.String()
}
