package bitwarden

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dirbridge/dirbridge/sync"
)

var _ sync.SeatCounter = (*Sink)(nil)

type subscription struct {
	PasswordManager *struct {
		Seats             *int `json:"seats"`
		MaxAutoScaleSeats *int `json:"maxAutoScaleSeats"`
	} `json:"passwordManager"`
}

// Seats reads the organization's seats from its subscription (GET
// /public/organization/subscription), for the seat preflight. Only
// Bitwarden's cloud has that endpoint; a self-hosted server answers 404 (or
// 400), and then the seats are unknown and no preflight is made. In import
// mode (Vaultwarden, which counts no seats) it asks nothing.
func (s *Sink) Seats(ctx context.Context) (sync.Seats, error) {
	if s.Stateless() {
		return sync.Seats{}, nil
	}
	var sub subscription
	err := s.do(ctx, http.MethodGet, "/public/organization/subscription", nil, &sub)
	switch {
	case apiStatus(err, http.StatusNotFound, "") || apiStatus(err, http.StatusBadRequest, ""):
		s.logger.Debug("no subscription endpoint (self-hosted); no seat preflight")
		return sync.Seats{}, nil
	case err != nil:
		return sync.Seats{}, fmt.Errorf("read the subscription's seats: %w", err)
	case sub.PasswordManager == nil:
		return sync.Seats{}, nil
	}
	return sync.Seats{Known: true, Seats: sub.PasswordManager.Seats, MaxAutoscale: sub.PasswordManager.MaxAutoScaleSeats}, nil
}
