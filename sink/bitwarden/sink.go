package bitwarden

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	stdsync "sync"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/httpclient"
	"github.com/dirbridge/dirbridge/sync/secret"
)

// Sink reads and changes one Bitwarden organization through the Public API
// or, in import mode, changes a Vaultwarden organization through its import
// endpoint. It is safe for concurrent use.
type Sink struct {
	cfg         Config
	apiURL      string
	identityURL string
	secret      string
	scimKey     string
	deviceID    string
	http        *retryablehttp.Client
	pacer       *pacer
	logger      *slog.Logger

	tokenMu stdsync.Mutex
	token   token

	mu  stdsync.Mutex
	idx *index // nil until an operation needs it
	// read is the organization the last State read, from which the index
	// is built when first needed.
	read     *sync.OrgState
	noRevoke bool // the server answered that it has no revoke/restore
}

var _ sync.Sink = (*Sink)(nil)

// New returns a sink for the configuration, which it validates. It reads
// secret files but does no network I/O.
func New(cfg Config, logger *slog.Logger) (*Sink, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("bitwarden: invalid configuration: %s", strings.Join(problems, "; "))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("sink", "bitwarden")
	clientSecret, err := secret.Resolve("client_secret", cfg.ClientSecret, cfg.ClientSecretFile)
	if err != nil {
		return nil, fmt.Errorf("bitwarden: %w", err)
	}
	scimKey, err := secret.Resolve("scim.api_key", cfg.SCIM.APIKey, cfg.SCIM.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("bitwarden: %w", err)
	}
	api, identity, cloud := cfg.endpoints()
	s := &Sink{
		cfg:         cfg,
		apiURL:      api,
		identityURL: identity,
		secret:      clientSecret,
		scimKey:     scimKey,
		deviceID:    deviceID(cfg.OrganizationID),
		http:        httpclient.New(httpclient.Options{Timeout: cfg.Timeout, Logger: logger}),
		pacer:       newPacer(cfg.RateLimit, cloud),
		logger:      logger,
	}
	s.http.PrepareRetry = prepareRetry
	return s, nil
}

// APIURL returns the API base URL the sink talks to, such as
// https://api.bitwarden.com.
func (s *Sink) APIURL() string { return s.apiURL }

// Check logs in and reads the member and group lists, for `dirbridge
// validate`. It returns a one-line summary. In import mode, where nothing
// can be read, it sends an empty import instead, which changes nothing.
func (s *Sink) Check(ctx context.Context) (string, error) {
	if s.Stateless() {
		return s.checkImport(ctx)
	}
	members, err := s.listMembers(ctx)
	if err != nil {
		return "", err
	}
	groups, err := s.listGroups(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("logged in to %s as organization %s: %d members, %d groups",
		s.apiURL, s.cfg.OrganizationID, len(members), len(groups)), nil
}

// deviceID derives a stable device identifier from the organization id, so
// that servers which record devices (Vaultwarden) see one device, not one
// per login.
func deviceID(orgID string) string {
	h := sha256.Sum256([]byte("dirbridge device " + strings.ToLower(orgID)))
	h[6] = h[6]&0x0f | 0x50 // version 5 style
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
