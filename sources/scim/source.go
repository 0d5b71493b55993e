package scim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/httpclient"
	"github.com/dirbridge/dirbridge/sync/secret"
)

// Source reads users and groups from a SCIM 2.0 service provider.
type Source struct {
	cfg    Config
	client *client
	logger *slog.Logger
}

var _ sync.Source = (*Source)(nil)

// New returns a Source for cfg. It reads token_file and ca_file but makes
// no request.
func New(cfg Config, logger *slog.Logger) (*Source, error) {
	return newSource(cfg, logger, httpclient.Options{})
}

// newSource is New with the HTTP client's retry options, which tests shorten.
// opt.Timeout and opt.Logger are taken from cfg and logger.
func newSource(cfg Config, logger *slog.Logger, opt httpclient.Options) (*Source, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("scim: invalid configuration: %s", strings.Join(problems, "; "))
	}
	token, err := secret.Resolve("token", cfg.Token, cfg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("scim: %w", err)
	}
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("source", "scim")
	if cfg.CAFile != "" {
		pool, err := loadCAs(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("scim: ca_file: %w", err)
		}
		opt.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	opt.Timeout = cfg.Timeout
	opt.Logger = logger
	base := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	if u, err := url.Parse(base); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		logger.Warn("the SCIM url is plain http: the bearer token crosses the network unencrypted", "url", base)
	}
	return &Source{
		cfg:    cfg,
		logger: logger,
		client: &client{base: base, token: token, http: httpclient.New(opt), maxBody: defaultMaxBody},
	}, nil
}

// Snapshot reads every user, then every group with its members flattened.
// Any failed page, request or record fails the whole read.
func (s *Source) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	started := time.Now()
	requests := s.client.requests.Load()
	users, userExt, err := s.readUsers(ctx)
	if err != nil {
		return sync.Snapshot{}, fmt.Errorf("scim: read users: %w", err)
	}
	groups, err := s.readGroups(ctx, userExt)
	if err != nil {
		return sync.Snapshot{}, fmt.Errorf("scim: read groups: %w", err)
	}
	s.logger.Info("snapshot read", "users", len(users), "groups", len(groups),
		"requests", s.client.requests.Load()-requests, "duration_ms", time.Since(started).Milliseconds())
	return sync.Snapshot{Users: users, Groups: groups}, nil
}

// readUsers lists the users. It returns them with a map from each SCIM id
// to the user's external id, to translate group members.
func (s *Source) readUsers(ctx context.Context) ([]sync.User, map[string]string, error) {
	query := url.Values{}
	if s.cfg.FilterUsers != "" {
		query.Set("filter", s.cfg.FilterUsers)
	}
	var users []sync.User
	userExt := make(map[string]string)
	owner := make(map[string]string) // external id -> SCIM id, to catch duplicates
	_, err := s.list(ctx, "Users", query, func(raw json.RawMessage, where string) (string, error) {
		w, err := decodeUser(raw)
		if err != nil {
			return "", &RecordError{Kind: "user", Where: where, ID: rawID(raw), Err: err}
		}
		u, err := mapUser(w, s.cfg.IDAttribute)
		if err != nil {
			return "", &RecordError{Kind: "user", Where: where, ID: string(w.ID), Err: err}
		}
		if other, dup := owner[u.ExternalID]; dup && other != string(w.ID) {
			return "", &RecordError{Kind: "user", Where: where, ID: string(w.ID),
				Err: fmt.Errorf("has the externalId %q of user %q", u.ExternalID, other)}
		}
		owner[u.ExternalID] = string(w.ID)
		userExt[string(w.ID)] = u.ExternalID
		users = append(users, u)
		s.logger.Debug("user read", "id", string(w.ID), "external_id", u.ExternalID, "email", u.Email, "name", u.Name, "disabled", u.Disabled)
		return string(w.ID), nil
	})
	if err != nil {
		return nil, nil, err
	}
	return users, userExt, nil
}

// Check makes one authenticated request for a single user and one for a
// single group, and reports the totals the server gives, or the server's
// exact error.
func (s *Source) Check(ctx context.Context) (string, error) {
	users, err := s.probe(ctx, "Users", s.cfg.FilterUsers)
	if err != nil {
		return "", fmt.Errorf("scim: check users: %w", err)
	}
	groups, err := s.probe(ctx, "Groups", s.cfg.FilterGroups)
	if err != nil {
		return "", fmt.Errorf("scim: check groups: %w", err)
	}
	return fmt.Sprintf("%s: users: %s; groups: %s", s.client.base, users, groups), nil
}

// probe reads the first page of one resource, one resource long, and
// decodes that resource as Snapshot would.
func (s *Source) probe(ctx context.Context, endpoint, filter string) (string, error) {
	q := url.Values{"count": {"1"}}
	if s.cfg.Paging == PagingCursor {
		q.Set("cursor", "")
	} else {
		q.Set("startIndex", "1")
	}
	if filter != "" {
		q.Set("filter", filter)
	}
	if endpoint == "Groups" && s.cfg.GroupMembers == MembersPerGroup {
		q.Set("excludedAttributes", "members")
	}
	at := "the first " + endpoint + " page"
	page, err := s.fetchPage(ctx, endpoint, q, at)
	if err != nil {
		return "", err
	}
	summary := "ok, no totalResults given"
	if page.TotalResults != nil {
		summary = strconv.Itoa(*page.TotalResults) + " in total"
	}
	if len(page.Resources) == 0 {
		return summary, nil
	}
	raw, where := page.Resources[0], "Resources[0] of "+at
	if endpoint == "Users" {
		w, err := decodeUser(raw)
		if err == nil {
			var u sync.User
			if u, err = mapUser(w, s.cfg.IDAttribute); err == nil {
				return fmt.Sprintf("%s, first %s <%s> (external id %s)", summary, u.Name, u.Email, u.ExternalID), nil
			}
		}
		return "", &RecordError{Kind: "user", Where: where, ID: rawID(raw), Err: err}
	}
	w, err := decodeGroup(raw)
	if err == nil {
		err = checkGroup(w, s.cfg.IDAttribute)
	}
	if err != nil {
		return "", &RecordError{Kind: "group", Where: where, ID: rawID(raw), Err: err}
	}
	return fmt.Sprintf("%s, first %q", summary, w.DisplayName), nil
}

// loadCAs reads a PEM bundle into a certificate pool.
func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
