package bitwarden

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

// largeOrg is an organization of an owner, n members and n/20 groups of 20
// members, all with external ids.
func largeOrg(n int) bwemu.Org {
	var org bwemu.Org
	for i := range n {
		org.Members = append(org.Members, bwemu.Member{
			ID:    fmt.Sprintf("a0000000-0000-4000-8000-%012d", i),
			Email: fmt.Sprintf("user%d@example.com", i), Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser,
			ExternalID: fmt.Sprintf("u%d", i),
		})
	}
	for g := range n / 20 {
		grp := bwemu.Group{ID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", g), Name: fmt.Sprintf("Team %d", g),
			ExternalID: fmt.Sprintf("g%d", g)}
		for i := range 20 {
			grp.MemberIDs = append(grp.MemberIDs, org.Members[g*20+i].ID)
		}
		org.Groups = append(org.Groups, grp)
	}
	org.Members = append(org.Members, bwemu.Member{ID: "f0000000-0000-4000-8000-000000000001",
		Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner})
	return org
}

func benchSink(b *testing.B, org bwemu.Org) (*Sink, *bwemu.Server) {
	emu, base := bwemu.StartTestServer(b, bwemu.Options{})
	if err := emu.Seed(org); err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Server, cfg.OrganizationID, cfg.ClientID, cfg.ClientSecret = base, emu.OrgID(), emu.ClientID(), emu.ClientSecret()
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return s, emu
}

// BenchmarkState reads an organization of 5000 members and 250 groups
// (one list of members, one of groups, 250 member-id lists, 8 at a time).
func BenchmarkState(b *testing.B) {
	s, _ := benchSink(b, largeOrg(5000))
	ctx := context.Background()
	for b.Loop() {
		st, err := s.State(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Members) != 5001 || len(st.Groups) != 250 {
			b.Fatalf("state: %d members, %d groups", len(st.Members), len(st.Groups))
		}
	}
}

// BenchmarkApply_Invite measures one unpaced invite over loopback.
func BenchmarkApply_Invite(b *testing.B) {
	s, _ := benchSink(b, largeOrg(100))
	ctx := context.Background()
	if _, err := s.State(ctx); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		op := sync.Op{Action: sync.ActionInvite, Email: fmt.Sprintf("new%d@example.com", i), ExternalID: fmt.Sprintf("n%d", i)}
		if err := s.Apply(ctx, op); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
