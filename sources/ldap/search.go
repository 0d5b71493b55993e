package ldap

import (
	"context"
	"errors"
	"fmt"
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
// cause, with the LDAP result code when there is one.
func (e *SearchError) Error() string {
	return fmt.Sprintf("ldap: search %s under %s %s, page %d: %v", e.Search, e.BaseDN, e.Filter, e.Page, e.Err)
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

// page runs q as a paged search (RFC 2696) with pageSize entries a page,
// handing each entry to each and dropping each page once handled, so memory
// stays bounded by one page. Any failed page fails the whole search.
func (s *session) page(ctx context.Context, q query, pageSize int, each func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(uint32(pageSize))
	req := ldap.NewSearchRequest(q.base, q.scope, ldap.NeverDerefAliases, 0, s.timeLimit(), false,
		q.filter, q.attrs, []ldap.Control{paging})
	for n := 1; ; n++ {
		res, err := s.search(ctx, req)
		if err != nil {
			return &SearchError{Search: q.name, BaseDN: q.base, Filter: q.filter, Page: n, Err: err}
		}
		for _, e := range res.Entries {
			if err := each(e); err != nil {
				return err
			}
		}
		next, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(next.Cookie) == 0 {
			return nil // the last page, or a server that does not page and sent everything
		}
		paging.SetCookie(next.Cookie)
	}
}

// one runs q without paging, for a base-scope read or a probe.
func (s *session) one(ctx context.Context, q query, sizeLimit int) (*ldap.SearchResult, error) {
	req := ldap.NewSearchRequest(q.base, q.scope, ldap.NeverDerefAliases, sizeLimit, s.timeLimit(), false,
		q.filter, q.attrs, nil)
	res, err := s.search(ctx, req)
	if err != nil {
		return res, &SearchError{Search: q.name, BaseDN: q.base, Filter: q.filter, Page: 1, Err: err}
	}
	return res, nil
}

// search runs one request, bounded by the session's timeout: when the answer
// is not complete in time the connection is closed (a session is not reused
// after a failure).
func (s *session) search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	timer := time.AfterFunc(s.timeout, func() {
		s.timedOut.Store(true)
		s.conn.Close()
	})
	res, err := s.conn.Search(req)
	timer.Stop()
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, ctx.Err()
	case s.timedOut.Load():
		return res, fmt.Errorf("%w (%s)", ErrTimeout, s.timeout)
	}
	return res, err
}

// timeLimit is the server-side time limit sent with each request, in seconds.
func (s *session) timeLimit() int {
	return int((s.timeout + time.Second - 1) / time.Second)
}
