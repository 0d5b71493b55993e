package jumpcloud

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/dirbridge/dirbridge/sources/jumpcloud/jctest"
)

// BenchmarkSnapshot reads a directory over loopback HTTP from jctest. Group i
// holds every (i+1)-th user, so the first group holds them all.
//
//	go test ./sources/jumpcloud -run '^$' -bench Snapshot -benchtime 5x
func BenchmarkSnapshot(b *testing.B) {
	for _, size := range []struct{ users, groups int }{{1000, 20}, {10000, 200}} {
		b.Run(fmt.Sprintf("users=%d/groups=%d", size.users, size.groups), func(b *testing.B) {
			users, groups := directory(size.users, size.groups)
			srv := jctest.New(jctest.Options{Users: users, Groups: groups})
			defer srv.Close()
			cfg := DefaultConfig()
			cfg.URL, cfg.APIKey = srv.URL, jctest.DefaultAPIKey
			src, err := newSource(cfg, slog.New(slog.DiscardHandler), fastRetry)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				snap, err := src.Snapshot(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if len(snap.Users) != size.users {
					b.Fatalf("%d users, want %d", len(snap.Users), size.users)
				}
			}
			b.ReportMetric(float64(len(srv.Requests()))/float64(b.N), "requests/op")
		})
	}
}
