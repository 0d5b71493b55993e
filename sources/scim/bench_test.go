package scim

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/dirbridge/dirbridge/sources/scim/scimtest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
)

// benchFixture is n users in n/50 groups of 50 members each.
func benchFixture(n int) sourcetest.Fixture {
	var f sourcetest.Fixture
	for i := range n {
		f.People = append(f.People, sourcetest.Person{
			Key: fmt.Sprintf("u%06d", i), Email: fmt.Sprintf("user%06d@example.com", i), Name: fmt.Sprintf("User %06d", i),
		})
	}
	for g := range n / 50 {
		team := sourcetest.Team{Key: fmt.Sprintf("g%04d", g), Name: fmt.Sprintf("Group %04d", g)}
		for i := g * 50; i < (g+1)*50; i++ {
			team.Members = append(team.Members, fmt.Sprintf("u%06d", i))
		}
		f.Teams = append(f.Teams, team)
	}
	return f
}

// BenchmarkSnapshot reads 10,000 users and 200 groups over loopback HTTP,
// the server's JSON encoding included.
func BenchmarkSnapshot(b *testing.B) {
	f := benchFixture(10000)
	for _, bc := range []struct {
		name     string
		pageSize int
		members  string
		opt      scimtest.Options
	}{
		{"Page100", 100, MembersAuto, scimtest.Options{}},
		{"Page1000", 1000, MembersAuto, scimtest.Options{}},
		{"Page100PerGroup", 100, MembersPerGroup, scimtest.Options{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.opt.Users, bc.opt.Groups = scimtest.FromFixture(f)
			srv := scimtest.New(bc.opt)
			defer srv.Close()
			cfg := DefaultConfig()
			cfg.URL, cfg.Token, cfg.PageSize, cfg.GroupMembers = srv.URL(), "test-token", bc.pageSize, bc.members
			src, err := New(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				snap, err := src.Snapshot(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if len(snap.Users) != 10000 || len(snap.Groups) != 200 {
					b.Fatalf("read %d users and %d groups", len(snap.Users), len(snap.Groups))
				}
			}
		})
	}
}
