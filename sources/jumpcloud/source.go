package jumpcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	stdsync "sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/httpclient"
	"github.com/dirbridge/dirbridge/sync/secret"
)

// Source reads users and user groups from JumpCloud's REST API.
type Source struct {
	cfg    Config
	base   string
	key    string
	client *retryablehttp.Client
	// slots holds one token per request in flight (Config.Concurrency).
	slots  chan struct{}
	logger *slog.Logger
}

var _ sync.Source = (*Source)(nil)

// New returns a source for cfg. It validates cfg and reads the API key file,
// but makes no request.
func New(cfg Config, logger *slog.Logger) (*Source, error) {
	return newSource(cfg, logger, httpclient.Options{})
}

// newSource is New with the HTTP client's retry knobs, which tests shorten.
func newSource(cfg Config, logger *slog.Logger, opt httpclient.Options) (*Source, error) {
	if probs := cfg.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("jumpcloud: invalid config: %s", strings.Join(probs, "; "))
	}
	key, err := secret.Resolve("api_key", cfg.APIKey, cfg.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("jumpcloud: %w", err)
	}
	if !validKey(key) {
		return nil, errors.New("jumpcloud: api_key_file: the key contains white space or control characters")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("source", "jumpcloud")
	opt.Timeout = cfg.Timeout
	opt.Logger = logger
	client := httpclient.New(opt)
	// The key travels in a custom header, which Go would forward to any
	// host a redirect names: follow none.
	client.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Source{
		cfg:    cfg,
		base:   cfg.baseURL(),
		key:    key,
		client: client,
		slots:  make(chan struct{}, cfg.Concurrency),
		logger: logger,
	}, nil
}

// Snapshot reads every user, every user group and each group's members. Any
// failed page fails the whole read.
func (s *Source) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	start := time.Now()
	var (
		users   []apiUser
		groups  []apiGroup
		members [][]string
	)
	err := runAll(ctx, 2, 2, func(ctx context.Context, i int) error {
		var err error
		if i == 0 {
			if users, err = s.readUsers(ctx); err != nil {
				return fmt.Errorf("read users: %w", err)
			}
			return nil
		}
		if groups, err = s.readGroups(ctx); err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		members, err = s.readAllMembers(ctx, groups)
		return err
	})
	if err != nil {
		return sync.Snapshot{}, fmt.Errorf("jumpcloud: %w", err)
	}
	snap, st := s.build(users, groups, members)
	s.logger.Info("snapshot read",
		"users", len(snap.Users), "disabled", st.disabled, "staged_skipped", st.stagedSkipped,
		"groups", len(snap.Groups), "memberships", st.memberships, "members_dropped", st.membersDropped,
		"duration", time.Since(start).Round(time.Millisecond))
	return snap, nil
}

// Check makes one cheap authenticated request for users and one for groups,
// and summarizes what they returned.
func (s *Source) Check(ctx context.Context) (string, error) {
	body, what, err := s.fetch(ctx, usersPath, url.Values{"limit": {"1"}, "fields": {"_id"}})
	if err != nil {
		return "", fmt.Errorf("jumpcloud: check users: %w", err)
	}
	up, err := decodeUsersPage(body, what, 1)
	if err != nil {
		return "", fmt.Errorf("jumpcloud: check users: %w", err)
	}
	body, what, err = s.fetch(ctx, groupsPath, url.Values{"limit": {"1"}})
	if err != nil {
		return "", fmt.Errorf("jumpcloud: check groups: %w", err)
	}
	gp, err := decodeGroupsPage(body, what, 1)
	if err != nil {
		return "", fmt.Errorf("jumpcloud: check groups: %w", err)
	}
	org := ""
	if s.cfg.OrgID != "" {
		org = " for org " + s.cfg.OrgID
	}
	return fmt.Sprintf("api key accepted by %s%s; users: ok, totalCount %d; groups: ok, %d on the first page",
		s.base, org, up.total, len(gp.groups)), nil
}

// runAll calls fn(ctx, i) for every i below n, at most workers at a time. The
// first error cancels the others' ctx and is returned.
func runAll(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once     stdsync.Once
		firstErr error
		wg       stdsync.WaitGroup
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
	var stopped error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			stopped = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// The parent ended between two calls.
	return stopped
}
