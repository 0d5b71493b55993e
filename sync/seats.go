package sync

import (
	"context"
	"fmt"
)

// Seats is what an organization's subscription says about its seats.
type Seats struct {
	// Known is false where the server does not say (self-hosted): then no
	// preflight is made and each invitation finds out on its own.
	Known bool
	// Seats is the number of seats paid for; nil means unlimited.
	Seats *int
	// MaxAutoscale caps automatic seat increases; nil means no cap.
	MaxAutoscale *int
}

// SeatCounter is a sink that can read the organization's seats.
type SeatCounter interface {
	Seats(ctx context.Context) (Seats, error)
}

// SeatRefusal returns a refusal holding every invitation when the plan's
// invitations and restorations need more seats than the organization has
// and may autoscale to, or nil when they fit. Seats are taken by invited,
// accepted and confirmed members.
func SeatRefusal(p Plan, have OrgState, s Seats) *Refusal {
	if !s.Known || s.Seats == nil {
		return nil
	}
	limit := *s.Seats
	switch {
	case s.MaxAutoscale == nil:
		return nil // autoscales without a cap
	case *s.MaxAutoscale > limit:
		limit = *s.MaxAutoscale
	}
	occupied := 0
	for _, m := range have.Members {
		if m.Status == StatusInvited || m.Status == StatusAccepted || m.Status == StatusConfirmed {
			occupied++
		}
	}
	counts := p.Counts()
	need := counts[ActionInvite] + counts[ActionRestore]
	if occupied+need <= limit {
		return nil
	}
	var invites []Op
	for _, op := range p.Ops {
		if op.Action == ActionInvite {
			invites = append(invites, op)
		}
	}
	return &Refusal{
		Guard: GuardSeats, Hold: HoldInvites, Held: invites,
		Reason: fmt.Sprintf("%d invitations and %d restorations need %d seats, but %d of the organization's %d seats are taken "+
			"and it may autoscale to %d; no one is invited. Add seats or raise the autoscale limit in the Bitwarden admin console",
			counts[ActionInvite], counts[ActionRestore], need, occupied, *s.Seats, limit),
	}
}
