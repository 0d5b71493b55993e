package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sync"
)

// BenchmarkObserve records a run with a 10,000-operation plan.
func BenchmarkObserve(b *testing.B) {
	m := New("bench")
	r := applied(0, plan(10000, 500, 9000, ops(sync.ActionInvite, 5000), ops(sync.ActionSetGroupMembers, 5000)), org(9000, 500))
	for b.Loop() {
		m.Observe(r.res, nil)
	}
}

// BenchmarkScrape serves /metrics, Go and process collectors included.
func BenchmarkScrape(b *testing.B) {
	h := New("bench").Handler(time.Hour, nil)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
