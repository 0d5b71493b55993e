package bwemu

import (
	"net/http"
	"time"
)

// Seat messages (OrganizationService.CanScaleAsync).
const (
	msgSelfHostedScale = "Cannot autoscale on self-hosted instance."
	msgSeatLimit       = "Seat limit has been reached."
)

// seatsToAdd returns how many seats the organization must add to take n more
// seat-occupying members (Invited, Accepted, Confirmed), or the refusal when
// it cannot autoscale: self-hosted, or over MaxAutoscaleSeats.
func (st *state) seatsToAdd(n int) (int, *apiError) {
	if st.org.seats == nil || n <= 0 {
		return 0, nil
	}
	add := n - (*st.org.seats - st.occupied)
	if add <= 0 {
		return 0, nil
	}
	if st.org.selfHosted {
		return 0, badRequest(msgSelfHostedScale)
	}
	if max := st.org.maxAutoscaleSeats; max != nil && *max < *st.org.seats+add {
		return 0, badRequest(msgSeatLimit)
	}
	return add, nil
}

// autoscale raises the seat count by add (the Stripe subscription update).
func (st *state) autoscale(add int) {
	if add > 0 && st.org.seats != nil {
		seats := *st.org.seats + add
		st.org.seats = &seats
	}
}

// subscriptionResponse is the public organization subscription model.
type subscriptionResponse struct {
	PasswordManager passwordManagerSubscription `json:"passwordManager"`
	SecretsManager  *struct{}                   `json:"secretsManager"`
}

type passwordManagerSubscription struct {
	Seats             *int `json:"seats"`
	MaxAutoScaleSeats *int `json:"maxAutoScaleSeats"`
	Storage           *int `json:"storage"`
}

// getSubscription serves GET /public/organization/subscription, which only
// cloud servers have.
func (s *Server) getSubscription(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, func(st *state, _ time.Time) (any, *apiError) {
		if st.org.selfHosted {
			return nil, notFoundEmpty()
		}
		storage := st.org.storage
		return subscriptionResponse{PasswordManager: passwordManagerSubscription{
			Seats:             copyInt(st.org.seats),
			MaxAutoScaleSeats: copyInt(st.org.maxAutoscaleSeats),
			Storage:           &storage,
		}}, nil
	})
}
