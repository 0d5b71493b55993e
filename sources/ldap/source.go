package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sync"
	"github.com/dirbridge/dirbridge/sync/secret"
)

var _ sync.Source = (*Source)(nil)

// Source reads users and groups from an LDAP directory or Active Directory.
type Source struct {
	cfg      Config // with the preset applied
	password string
	tls      *tls.Config
	ad       bool
	logger   *slog.Logger
}

// New returns a source for cfg. It resolves bind_password_file and reads the
// TLS files, but does not connect.
func New(cfg Config, logger *slog.Logger) (*Source, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("ldap: invalid configuration: %s", strings.Join(problems, "; "))
	}
	password, err := secret.Resolve("bind_password", cfg.BindPassword, cfg.BindPasswordFile)
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	e := cfg.effective()
	tc, err := buildTLS(e)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{
		cfg: e, password: password, tls: tc, ad: presets[e.Preset].activeDirectory,
		logger: logger.With("source", "ldap"),
	}, nil
}

// Snapshot reads every user and group of the searches. Any failure (a bind,
// a page, a result code such as sizeLimitExceeded, a dropped connection, an
// entry without an id) returns an error and no snapshot.
func (s *Source) Snapshot(ctx context.Context) (sync.Snapshot, error) {
	start := time.Now()
	s.warnInsecure()
	sess, err := s.connect(ctx)
	if err != nil {
		return sync.Snapshot{}, err
	}
	defer sess.close()
	snap, err := s.read(ctx, sess)
	if err != nil {
		return sync.Snapshot{}, err
	}
	disabled := 0
	for _, u := range snap.Users {
		if u.Disabled {
			disabled++
		}
	}
	s.logger.Info("ldap read done", "users", len(snap.Users), "disabled", disabled, "groups", len(snap.Groups),
		"duration", time.Since(start).Round(time.Millisecond))
	return snap, nil
}

func (s *Source) warnInsecure() {
	if s.cfg.InsecureSkipVerify {
		s.logger.Warn("insecure_skip_verify is on: the server's certificate is not checked", "url", s.cfg.URL)
	}
}

// read runs the searches on a bound session: the disabled users (when
// disabled_filter is set), the users, the groups and their remaining member
// ranges.
func (s *Source) read(ctx context.Context, sess *session) (sync.Snapshot, error) {
	u, g := s.cfg.Users, s.cfg.Groups
	compat := s.cfg.Compat == CompatDirectoryConnector
	kind := kindOf(g.MemberAttribute)
	users := newUserReader(u, compat, s.ad, kind == memberUID)
	if u.DisabledFilter != "" {
		users.disabled = make(map[string]struct{})
		q := query{name: "disabled users", base: u.BaseDN, scope: scopes[u.Scope],
			filter: "(&" + u.Filter + u.DisabledFilter + ")", attrs: []string{"1.1"}}
		err := sess.page(ctx, q, s.cfg.PageSize, func(e *entry) error {
			key, err := canonicalDN(e.DN())
			if err != nil {
				return &EntryError{DN: e.DN(), Err: fmt.Errorf("the server sent a malformed DN: %w", err)}
			}
			users.disabled[key] = struct{}{}
			return nil
		})
		if err != nil {
			return sync.Snapshot{}, err
		}
	}
	q := query{name: "users", base: u.BaseDN, scope: scopes[u.Scope], filter: u.Filter, attrs: users.attributes()}
	if err := sess.page(ctx, q, s.cfg.PageSize, users.add); err != nil {
		return sync.Snapshot{}, err
	}
	if err := users.err(); err != nil {
		return sync.Snapshot{}, err
	}
	groups := &groupReader{
		cfg: g, idRule: newIDRule(g.IDAttribute, compat), kind: kind, ranged: s.ad && kind != memberUID,
		users: users, logger: s.logger, debug: s.logger.Enabled(ctx, slog.LevelDebug), ids: make(map[string]string),
	}
	q = query{name: "groups", base: g.BaseDN, scope: scopes[g.Scope], filter: g.Filter, attrs: groups.attributes()}
	if err := sess.page(ctx, q, s.cfg.PageSize, groups.add); err != nil {
		return sync.Snapshot{}, err
	}
	if err := groups.fetchRanges(ctx, sess); err != nil {
		return sync.Snapshot{}, err
	}
	if err := badEntries("groups", groups.bad); err != nil {
		return sync.Snapshot{}, err
	}
	return sync.Snapshot{Users: users.users, Groups: groups.resolve()}, nil
}

// Check binds and runs each search with a size limit of 1, for
// `dirbridge validate`. It returns a short summary of what it found, or the
// first failure with its LDAP result code.
func (s *Source) Check(ctx context.Context) (string, error) {
	s.warnInsecure()
	sess, err := s.connect(ctx)
	if err != nil {
		return "", err
	}
	defer sess.close()
	who := "anonymously"
	if s.cfg.BindDN != "" {
		who = "as " + s.cfg.BindDN
	}
	lines := []string{fmt.Sprintf("bound %s over %s", who, sess.desc)}
	u, g := s.cfg.Users, s.cfg.Groups
	compat := s.cfg.Compat == CompatDirectoryConnector
	probes := []probeSpec{
		{query{name: "users", base: u.BaseDN, scope: scopes[u.Scope], filter: u.Filter}, newIDRule(u.IDAttribute, compat), true},
		{query{name: "groups", base: g.BaseDN, scope: scopes[g.Scope], filter: g.Filter}, newIDRule(g.IDAttribute, compat), false},
	}
	if u.DisabledFilter != "" {
		q := query{name: "disabled users", base: u.BaseDN, scope: scopes[u.Scope], filter: "(&" + u.Filter + u.DisabledFilter + ")"}
		probes = append(probes, probeSpec{q, idRule{dn: true}, false})
	}
	for _, p := range probes {
		line, err := s.probe(ctx, sess, p)
		if err != nil {
			return strings.Join(lines, "\n"), err
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), nil
}

// probeSpec is one search that Check runs.
type probeSpec struct {
	q        query
	id       idRule
	required bool // no matching entry is a failure
}

// probe runs p's search with a size limit of 1 and checks that the entry
// found has its id attribute.
func (s *Source) probe(ctx context.Context, sess *session, p probeSpec) (string, error) {
	q, id := p.q, p.id
	q.attrs = []string{"1.1"}
	if id.attr != "" {
		q.attrs = []string{id.attr}
	}
	var found, dn, ext string
	var idErr error
	err := sess.one(ctx, q, 1, func(e *entry) error {
		found, dn = "1 entry read", e.DN()
		var v []byte
		for _, a := range e.attrs {
			if id.attr != "" && equalFold(a.name, id.attr) {
				v = e.first(a)
			}
		}
		key, err := canonicalDN(dn)
		if err == nil {
			ext, err = id.id(dn, key, v)
		}
		if err != nil {
			idErr = &EntryError{DN: dn, Err: err}
		}
		return nil
	})
	var se *SearchError
	if errors.As(err, &se) && se.ResultCode() == ldap.LDAPResultSizeLimitExceeded && found != "" {
		err = nil // more than one entry matches: the limit of 1 did its job
	}
	switch {
	case err != nil:
		return "", err
	case idErr != nil:
		return "", idErr
	case found == "" && p.required:
		return "", fmt.Errorf("ldap: %s under %s %s: no entry matches", q.name, q.base, q.filter)
	case found == "":
		return fmt.Sprintf("%s under %s %s: ok, no entry matches", q.name, q.base, q.filter), nil
	}
	return fmt.Sprintf("%s under %s %s: ok, %s (%s, id %s)", q.name, q.base, q.filter, found, dn, ext), nil
}
