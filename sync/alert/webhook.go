package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync/httpclient"
	"github.com/hashicorp/go-retryablehttp"
)

// errorBodyLimit caps how much of a failed response's body an error quotes.
const errorBodyLimit = 512

// StatusError is a webhook answer other than 2xx, after any retries.
type StatusError struct {
	StatusCode int
	// Body is the start of the response's body, on one line.
	Body string
}

// Error gives the status and the start of the body.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// newWebhookClient returns the shared retrying client, logging retries
// with the webhook's scheme and host only (a chat webhook's path is its
// secret) and following no redirect (a redirected POST would arrive as a
// GET, or elsewhere).
func newWebhookClient(timeout time.Duration, log *slog.Logger, target string) *retryablehttp.Client {
	// An alert is worth a minute's wait for a busy receiver, not the five
	// minutes a sync's peers may ask for.
	c := httpclient.New(httpclient.Options{Timeout: timeout, MaxRetryAfter: time.Minute})
	c.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, attempt int) {
		if attempt > 0 {
			log.WarnContext(req.Context(), "retrying alert webhook", "webhook", target, "attempt", attempt+1)
		}
	}
	c.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// post POSTs body to the webhook, retrying as the shared client does.
func (n *Notifier) post(ctx context.Context, body []byte) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Webhook, body)
	if err != nil {
		return fmt.Errorf("POST %s: %w", n.target, stripURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dirbridge")
	for name, value := range n.cfg.WebhookHeaders {
		req.Header.Set(name, value)
	}
	resp, err := n.webhook.Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	switch {
	case resp != nil && (resp.StatusCode < 200 || resp.StatusCode > 299):
		// After the retries the client passes the last answer through, with
		// or without an error that says the same.
		head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		return fmt.Errorf("POST %s: %w", n.target, &StatusError{StatusCode: resp.StatusCode, Body: oneLine(head)})
	case err != nil:
		err = stripURL(err)
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return fmt.Errorf("POST %s: %w", n.target, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return nil
}

// stripURL drops the *url.Error layer, whose message repeats the whole URL.
func stripURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// oneLine returns b as one line of valid UTF-8.
func oneLine(b []byte) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
}
