package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hookServer is a webhook receiver that records every request and answers
// with the next of its scripted statuses (the last one repeats).
type hookServer struct {
	*httptest.Server
	mu       stdsync.Mutex
	statuses []int
	requests []hookRequest
}

type hookRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

func newHookServer(t *testing.T, statuses ...int) *hookServer {
	t.Helper()
	h := &hookServer{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, hookRequest{r.Method, r.URL.Path, r.Header.Clone(), body})
		status := h.statuses[min(len(h.requests), len(h.statuses))-1]
		h.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/hooks/") {
			http.NotFound(w, r)
			return
		}
		switch {
		case status == http.StatusFound:
			http.Redirect(w, r, "/elsewhere", status)
		case status >= 300:
			http.Error(w, fmt.Sprintf(`{"error":"status %d","detail":"line one\nline two"}`, status), status)
		default:
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.requests...)
}

// newWebhookNotifier returns a Notifier posting to h, with the backoff cut
// to a millisecond so that retries take no time.
func newWebhookNotifier(t *testing.T, h *hookServer, headers map[string]string) (*Notifier, fmt.Stringer) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Webhook = h.URL + "/hooks/T0001/B0001/s3cr3tp4th"
	cfg.WebhookHeaders = headers
	n, logs := newNotifier(t, cfg)
	n.webhook.RetryWaitMin, n.webhook.RetryWaitMax = time.Millisecond, time.Millisecond
	return n, logs
}

func TestSend_WebhookPostsAlert(t *testing.T) {
	h := newHookServer(t, http.StatusNoContent)
	n, logs := newWebhookNotifier(t, h, map[string]string{"Authorization": "Bearer tok3n", "x-team": "it"})
	a := sampleAlert()
	if err := n.Send(t.Context(), a); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := h.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/hooks/T0001/B0001/s3cr3tp4th" {
		t.Errorf("request = %s %s", r.method, r.path)
	}
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "dirbridge",
		"Authorization": "Bearer tok3n",
		"X-Team":        "it",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	var got Alert
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body is not an alert: %v\n%s", err, r.body)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("alert posted (-sent +received):\n%s", d)
	}
	if !strings.Contains(logs.String(), `"msg":"alert sent","component":"alert","channel":"webhook"`) {
		t.Errorf("no Info line for the delivery:\n%s", logs)
	}
	if strings.Contains(logs.String(), "s3cr3t") || strings.Contains(logs.String(), "tok3n") {
		t.Errorf("the log shows a secret:\n%s", logs)
	}
}

func TestSend_WebhookRetriesServerErrors(t *testing.T) {
	h := newHookServer(t, 500, 502, 503, http.StatusOK)
	n, logs := newWebhookNotifier(t, h, nil)
	if err := n.Send(t.Context(), sampleAlert()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := h.got()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	if string(reqs[3].body) != string(reqs[0].body) {
		t.Errorf("the retry sent another body:\n%s\nthen\n%s", reqs[0].body, reqs[3].body)
	}
	if got := strings.Count(logs.String(), `"msg":"retrying alert webhook"`); got != 3 {
		t.Errorf("%d retry warnings, want 3:\n%s", got, logs)
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("the log shows the webhook's path:\n%s", logs)
	}
}

func TestSend_WebhookClientErrorFailsAtOnce(t *testing.T) {
	h := newHookServer(t, http.StatusBadRequest, http.StatusOK)
	n, _ := newWebhookNotifier(t, h, nil)
	err := n.Send(t.Context(), sampleAlert())
	if err == nil {
		t.Fatal("Send succeeded on a 400")
	}
	if got := len(h.got()); got != 1 {
		t.Errorf("%d requests, want 1 (no retry on a 400)", got)
	}
	want := fmt.Sprintf(`alert webhook: POST %s: HTTP 400 Bad Request: {"error":"status 400","detail":"line one\nline two"}`, h.URL)
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
		t.Errorf("err is not a 400 *StatusError: %#v", err)
	}
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Channel != ChannelWebhook {
		t.Errorf("err is not a webhook *ChannelError: %#v", err)
	}
}

func TestSend_WebhookGivesUpAfterRetries(t *testing.T) {
	h := newHookServer(t, http.StatusInternalServerError)
	n, _ := newWebhookNotifier(t, h, nil)
	n.webhook.RetryMax = 2
	err := n.Send(t.Context(), sampleAlert())
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusInternalServerError {
		t.Fatalf("err = %v, want a 500 *StatusError", err)
	}
	if got := len(h.got()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func TestSend_WebhookDoesNotFollowRedirects(t *testing.T) {
	h := newHookServer(t, http.StatusFound)
	n, _ := newWebhookNotifier(t, h, nil)
	err := n.Send(t.Context(), sampleAlert())
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusFound {
		t.Fatalf("err = %v, want a 302 *StatusError", err)
	}
	if got := len(h.got()); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func TestSend_WebhookConnectionErrorHidesPath(t *testing.T) {
	h := newHookServer(t, http.StatusOK)
	n, _ := newWebhookNotifier(t, h, nil)
	n.webhook.RetryMax = 1
	h.Close()
	err := n.Send(t.Context(), sampleAlert())
	if err == nil {
		t.Fatal("Send succeeded with the server down")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t") || !strings.HasPrefix(msg, "alert webhook: POST "+h.URL+": ") {
		t.Errorf("err = %q, want it to name the webhook by scheme and host only", msg)
	}
}

func TestSend_WebhookAttemptsAreBounded(t *testing.T) {
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // no answer until the client gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(stall.Close)
	t.Cleanup(func() { close(release) }) // runs first
	cfg := DefaultConfig()
	cfg.Webhook = stall.URL + "/hooks/x"
	cfg.Timeout = 100 * time.Millisecond
	n, _ := newNotifier(t, cfg)
	n.webhook.RetryMax = 1
	n.webhook.RetryWaitMin, n.webhook.RetryWaitMax = time.Millisecond, time.Millisecond
	err := n.Send(t.Context(), sampleAlert())
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout exceeded") {
		t.Errorf("err = %v, want the attempt timeout", err)
	}
}

func TestSend_BothChannelsFailing(t *testing.T) {
	h := newHookServer(t, http.StatusForbidden)
	cfg := DefaultConfig()
	cfg.Command = "exit 1"
	cfg.Webhook = h.URL + "/hooks/x"
	n, _ := newNotifier(t, cfg)
	err := n.Send(t.Context(), sampleAlert())
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("err = %#v, want the errors of both channels joined", err)
	}
	var channels []string
	for _, e := range joined.Unwrap() {
		var ce *ChannelError
		if errors.As(e, &ce) {
			channels = append(channels, ce.Channel)
		}
	}
	if d := cmp.Diff([]string{ChannelCommand, ChannelWebhook}, channels); d != "" {
		t.Errorf("failed channels (-want +got):\n%s\nerr: %v", d, err)
	}
}

func TestSend_DisabledSendsNothing(t *testing.T) {
	n, logs := newNotifier(t, DefaultConfig())
	if err := n.Send(t.Context(), sampleAlert()); err != nil {
		t.Errorf("Send: %v", err)
	}
	if logs.Len() > 0 {
		t.Errorf("a disabled notifier logged:\n%s", logs)
	}
}
