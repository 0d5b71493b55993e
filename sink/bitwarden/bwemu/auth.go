package bwemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// issuedToken is one access token the identity endpoint handed out.
type issuedToken struct {
	org     string
	expires time.Time
}

// tokenResponse is the client-credentials answer (section 1.3).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
}

// ExpireTokens makes every token issued so far expired: the next API call
// with one answers 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

// handleToken serves POST /identity/connect/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(r)
	if s.opt.Vaultwarden {
		s.vaultwardenToken(w, form)
		return
	}
	if !ok {
		tokenError(w, "invalid_request")
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if user, pass, basic := r.BasicAuth(); basic && clientID == "" {
		clientID, _ = url.QueryUnescape(user)
		secret, _ = url.QueryUnescape(pass)
	}
	if !s.validClient(clientID, secret) {
		tokenError(w, "invalid_client")
		return
	}
	switch grant := form.Get("grant_type"); grant {
	case "client_credentials":
	case "password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code":
		tokenError(w, "unauthorized_client")
		return
	default:
		tokenError(w, "unsupported_grant_type")
		return
	}
	for _, sc := range strings.Fields(form.Get("scope")) {
		if sc != "api.organization" {
			tokenError(w, "invalid_scope")
			return
		}
	}
	s.issueToken(w)
}

// validClient checks client_id "organization.<guid>" and the API key.
func (s *Server) validClient(clientID, secret string) bool {
	rest, ok := strings.CutPrefix(clientID, "organization.")
	if !ok {
		return false
	}
	id, ok := parseGUID(rest)
	if !ok || id != s.OrgID() {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(secret), []byte(s.opt.ClientSecret)) == 1
}

func (s *Server) issueToken(w http.ResponseWriter) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	s.mu.Lock()
	if len(s.tokens) > 10000 {
		for k, t := range s.tokens {
			if !now.Before(t.expires) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[tok] = issuedToken{org: s.st.org.id, expires: now.Add(s.opt.TokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store, no-cache, max-age=0")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		ExpiresIn:   int(s.opt.TokenLifetime / time.Second),
		TokenType:   "Bearer",
		Scope:       "api.organization",
	})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Cache-Control", "no-store, no-cache, max-age=0")
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

// readForm parses a form-encoded body; ok is false for another content type
// or an unparsable body.
func readForm(r *http.Request) (url.Values, bool) {
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		return url.Values{}, false
	}
	if err := r.ParseForm(); err != nil {
		return url.Values{}, false
	}
	return r.PostForm, true
}

// authorized checks the bearer token of a Public API call and answers 401
// (empty body, WWW-Authenticate) when it is missing, unknown or expired.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := ""
	if scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(rest)
	} else if q := r.URL.Query().Get("access_token"); q != "" {
		tok = q
	}
	now := s.now()
	s.mu.Lock()
	t, known := s.tokens[tok]
	org := s.st.org.id
	s.mu.Unlock()
	switch {
	case tok != "" && known && t.org == org && now.Before(t.expires):
		return true
	case s.opt.Vaultwarden:
		writeRaw(w, http.StatusUnauthorized, "application/json",
			[]byte(`{"error":{"code":401,"reason":"Unauthorized","description":"The request requires user authentication."}}`))
	case tok == "":
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeEmpty(w, http.StatusUnauthorized)
	case known && t.org == org:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(
			`Bearer error="invalid_token", error_description="The token expired at '%s'"`,
			t.expires.UTC().Format("01/02/2006 15:04:05")))
		writeEmpty(w, http.StatusUnauthorized)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeEmpty(w, http.StatusUnauthorized)
	}
	return false
}
