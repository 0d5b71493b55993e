package bitwarden

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// SCIMEnabled reports whether SCIM provisions the organization, in which
// case dirbridge must not sync it too: both write the same members and
// groups by external id and would fight, and no Bitwarden API refuses
// either. The Public API cannot tell (its key cannot see SCIM's state), so:
//
//   - scim.enabled: true says yes without asking;
//   - with scim.url and an API key, it asks SCIM for one user: 200 means
//     on; 401 means off (or a stale key), with a warning; any other answer,
//     or none, is an error, so that the run fails closed;
//   - otherwise, and always in import mode (Vaultwarden has no SCIM), no.
func (s *Sink) SCIMEnabled(ctx context.Context) (bool, error) {
	c := s.cfg.SCIM
	if c.Enabled {
		return true, nil
	}
	if c.URL == "" || s.scimKey == "" || s.Stateless() {
		return false, nil
	}
	target := strings.TrimRight(c.URL, "/") + "/users?startIndex=1&count=1"
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("bitwarden: ask SCIM at %s: %w", c.URL, err)
	}
	resp, err := s.send(ctx, http.MethodGet, target, "Bearer "+s.scimKey, nil)
	if err != nil {
		return false, fmt.Errorf("bitwarden: ask SCIM at %s whether it is on: %w", c.URL, err)
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusUnauthorized:
		s.logger.Warn("SCIM answered 401: SCIM is off for the organization, or scim.api_key is stale",
			"scim_url", c.URL)
		return false, nil
	}
	e := readAPIError(resp, http.MethodGet, "/users")
	return false, fmt.Errorf("bitwarden: ask SCIM at %s whether it is on: %d %s", c.URL, e.Status, e.Message)
}
