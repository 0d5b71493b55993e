package httpclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

func response(status int, retryAfter string) *http.Response {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h}
}

func TestBackoff_HonoursRetryAfter(t *testing.T) {
	b := Backoff(90 * time.Second)
	tests := []struct {
		name string
		resp *http.Response
		want time.Duration
	}{
		{"429", response(429, "7"), 7 * time.Second},
		{"503", response(503, "2"), 2 * time.Second},
		{"Capped", response(429, "3600"), 90 * time.Second},
	}
	for _, tt := range tests {
		if got := b(time.Second, 30*time.Second, 3, tt.resp); got != tt.want {
			t.Errorf("%s: backoff = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBackoff_ExponentialWithJitter(t *testing.T) {
	b := Backoff(90 * time.Second)
	tests := []struct {
		name    string
		resp    *http.Response
		attempt int
		base    time.Duration // the jittered wait falls in [base/2, base]
	}{
		{"FirstAttempt", response(500, ""), 0, time.Second},
		{"Grows", response(502, ""), 3, 8 * time.Second},
		{"Capped", nil, 10, 30 * time.Second},
		{"RetryAfterIgnoredOn500", response(500, "60"), 0, time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			got := b(time.Second, 30*time.Second, tt.attempt, tt.resp)
			if got < tt.base/2 || got > tt.base {
				t.Fatalf("%s: backoff = %v, want within [%v, %v]", tt.name, got, tt.base/2, tt.base)
			}
		}
	}
}

func TestClient_RetriesThenPassesTheLastAnswerThrough(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message":"bad"}`)
		}
	}))
	defer srv.Close()
	c := New(Options{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond, RetryMax: 5})
	req, _ := retryablehttp.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || string(body) != `{"message":"bad"}` || calls.Load() != 3 {
		t.Errorf("status %d, body %q after %d calls; want the 400 and its body after 3 (429 and 502 retried, 400 not)",
			resp.StatusCode, body, calls.Load())
	}
}

func TestClient_GivesUpWithTheLastAnswer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	c := New(Options{WaitMin: time.Millisecond, WaitMax: time.Millisecond, RetryMax: 2})
	req, _ := retryablehttp.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || calls.Load() != 3 {
		t.Errorf("status %d after %d calls, want 500 after 3", resp.StatusCode, calls.Load())
	}
}
