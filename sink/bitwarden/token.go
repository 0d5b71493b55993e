package bitwarden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// token is an access token and the time to renew it.
type token struct {
	value   string
	renewAt time.Time
}

// renewMargin is how long before expiry a token is renewed, as the
// Directory Connector does.
const renewMargin = 5 * time.Minute

// accessToken returns a valid token, logging in when there is none or it
// is about to expire. Concurrent callers share one login.
func (s *Sink) accessToken(ctx context.Context) (string, error) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	if s.token.value != "" && time.Now().Before(s.token.renewAt) {
		return s.token.value, nil
	}
	t, err := s.login(ctx)
	if err != nil {
		return "", err
	}
	s.token = t
	return t.value, nil
}

// dropToken forgets the token after the API rejected it, unless another
// caller has already replaced it.
func (s *Sink) dropToken(rejected string) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	if s.token.value == rejected {
		s.token = token{}
	}
}

// login gets a token with the organization API key (OAuth2 client
// credentials). The device fields are what Vaultwarden requires; Bitwarden
// ignores them for this client.
func (s *Sink) login(ctx context.Context) (token, error) {
	tokenURL := s.identityURL + "/connect/token"
	form := url.Values{
		"grant_type":       {"client_credentials"},
		"client_id":        {s.cfg.ClientID},
		"client_secret":    {s.secret},
		"scope":            {"api.organization"},
		"deviceType":       {"8"},
		"deviceIdentifier": {s.deviceID},
		"deviceName":       {"dirbridge"},
	}
	req, err := newFormRequest(ctx, tokenURL, form)
	if err != nil {
		return token{}, fmt.Errorf("bitwarden: log in to %s: %w", tokenURL, err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return token{}, fmt.Errorf("bitwarden: log in to %s: %w", tokenURL, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		err := loginError(readAPIError(resp, http.MethodPost, "/connect/token"), tokenURL)
		if s.Stateless() && errors.Is(err, ErrUnauthorized) {
			err = fmt.Errorf("%w (Vaultwarden has an organization API key only once an owner has viewed it "+
				"in the web vault's organization settings)", err)
		}
		return token{}, err
	}
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return token{}, fmt.Errorf("bitwarden: log in to %s: decode answer: %w", tokenURL, err)
	}
	if tr.AccessToken == "" {
		return token{}, fmt.Errorf("bitwarden: log in to %s: the answer holds no access_token", tokenURL)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 {
		life = time.Hour // Bitwarden's AccessTokenLifetime
	}
	margin := min(renewMargin, life/2)
	s.logger.Debug("logged in", "identity_url", s.identityURL, "expires_in", tr.ExpiresIn)
	return token{value: tr.AccessToken, renewAt: time.Now().Add(life - margin)}, nil
}

// loginError explains a refused login. Bitwarden answers 400
// {"error":"invalid_client"} for a wrong client id or secret and for an
// organization that is disabled or may not use the API; Vaultwarden answers
// 400 with a message such as "Incorrect client_secret".
func loginError(e *APIError, tokenURL string) error {
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return fmt.Errorf("bitwarden: log in to %s: %d %s", tokenURL, e.Status, e.Message)
	}
	lower := strings.ToLower(e.Message)
	if strings.Contains(lower, "invalid_client") || strings.Contains(lower, "client_secret") ||
		strings.Contains(lower, "client_id") {
		return fmt.Errorf("%w: log in to %s: %s: the client id or secret is wrong, "+
			"or the organization is disabled or cannot use the API", ErrUnauthorized, tokenURL, e.Message)
	}
	return fmt.Errorf("%w: log in to %s: %d %s", ErrUnauthorized, tokenURL, e.Status, e.Message)
}

// newFormRequest returns a form-encoded POST.
func newFormRequest(ctx context.Context, target string, form url.Values) (*retryablehttp.Request, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, target, []byte(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dirbridge")
	req.Header.Set("Device-Type", "8")
	return req, nil
}
