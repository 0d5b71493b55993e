package ldap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ErrTimeout is wrapped by a SearchError when a page got no complete answer
// within the configured timeout.
var ErrTimeout = errors.New("no complete answer within the timeout")

// SearchError is a failed search: a result code other than success (such as
// sizeLimitExceeded, timeLimitExceeded or adminLimitExceeded), a dropped
// connection, a timeout, a canceled context or a malformed answer. A read that
// meets one returns no snapshot at all.
type SearchError struct {
	// Search names what was read: "users", "disabled users", "groups" or
	// "members of <group DN>".
	Search string
	BaseDN string
	Filter string
	// Page is the 1-based number of the page that failed.
	Page int
	Err  error
}

// Error returns a message naming the search, its base, the page and the
// cause, with the LDAP result code when there is one and a hint for the
// limits an administrator can raise.
func (e *SearchError) Error() string {
	msg := fmt.Sprintf("ldap: search %s under %s %s, page %d: %v", e.Search, e.BaseDN, e.Filter, e.Page, e.Err)
	switch e.ResultCode() {
	case ldap.LDAPResultSizeLimitExceeded:
		msg += " (the server caps how many entries bind_dn may read, paged or not: lift the limit for it, e.g. OpenLDAP olcLimits size.prtotal=unlimited)"
	case ldap.LDAPResultTimeLimitExceeded:
		msg += " (the server's time limit for bind_dn, or timeout, was reached)"
	case ldap.LDAPResultAdminLimitExceeded:
		msg += " (an administrative limit of the server was reached: on Active Directory, see MaxPageSize and MaxValRange)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *SearchError) Unwrap() error { return e.Err }

// ResultCode returns the LDAP result code of the failure, or 0 when the
// failure was not a result from the server (a network error, a timeout).
func (e *SearchError) ResultCode() uint16 {
	var le *ldap.Error
	if errors.As(e.Err, &le) && le.ResultCode < ldap.ErrorNetwork {
		return le.ResultCode
	}
	return 0
}

// query is one search.
type query struct {
	name   string
	base   string
	scope  int
	filter string
	attrs  []string
}

// page runs q as a paged search (RFC 2696) with pageSize entries a page:
// one request per page, each carrying the cookie of the page before. Each
// entry is handed to each and dropped, so memory stays bounded by one
// message. Any failed page fails the whole search.
func (s *session) page(ctx context.Context, q query, pageSize int, each func(*entry) error) error {
	req, err := s.request(q)
	if err != nil {
		return err
	}
	req.paged, req.pageSize = true, pageSize
	for n := 1; ; n++ {
		done, err := s.run(ctx, req, each)
		if err != nil {
			var ee *EntryError
			if errors.As(err, &ee) {
				return err
			}
			return &SearchError{Search: q.name, BaseDN: q.base, Filter: q.filter, Page: n, Err: err}
		}
		if done.referrals > 0 {
			s.logger.Debug("skipped continuation references", "search", q.name, "page", n, "references", done.referrals)
		}
		if !done.paged || len(done.cookie) == 0 {
			return nil // the last page, or a server that does not page and sent everything
		}
		req.cookie = append(req.cookie[:0], done.cookie...)
	}
}

// one runs q without paging, for a base-scope read or a probe; sizeLimit 0
// is no limit.
func (s *session) one(ctx context.Context, q query, sizeLimit int, each func(*entry) error) error {
	req, err := s.request(q)
	if err != nil {
		return err
	}
	req.sizeLimit = sizeLimit
	if _, err := s.run(ctx, req, each); err != nil {
		var ee *EntryError
		if errors.As(err, &ee) {
			return err
		}
		return &SearchError{Search: q.name, BaseDN: q.base, Filter: q.filter, Page: 1, Err: err}
	}
	return nil
}

func (s *session) request(q query) (*searchRequest, error) {
	f, err := ldap.CompileFilter(q.filter)
	if err != nil {
		return nil, &SearchError{Search: q.name, BaseDN: q.base, Filter: q.filter, Page: 1, Err: err}
	}
	return &searchRequest{base: q.base, scope: q.scope, timeLimit: s.timeLimit(), filter: f.Bytes(), attrs: q.attrs}, nil
}

// run sends one request and reads its answer, bounded by the session's
// timeout. A session is not reused after a failure.
func (s *session) run(ctx context.Context, req *searchRequest, each func(*entry) error) (searchDone, error) {
	if err := ctx.Err(); err != nil {
		return searchDone{}, err
	}
	s.conn.SetDeadline(time.Now().Add(s.timeout))
	done, err := s.w.search(req, each)
	switch {
	case err == nil:
		return done, nil
	case ctx.Err() != nil:
		return done, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return done, fmt.Errorf("%w (%s)", ErrTimeout, s.timeout)
	}
	return done, err
}

// timeLimit is the server-side time limit sent with each request, in seconds.
func (s *session) timeLimit() int {
	return int((s.timeout + time.Second - 1) / time.Second)
}
