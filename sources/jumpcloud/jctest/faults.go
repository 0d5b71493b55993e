package jctest

// Route names one of the server's endpoints.
type Route string

// The routes served.
const (
	// RouteUsers is GET /api/systemusers.
	RouteUsers Route = "users"
	// RouteGroups is GET /api/v2/usergroups.
	RouteGroups Route = "groups"
	// RouteMembers is GET /api/v2/usergroups/{id}/members.
	RouteMembers Route = "members"
)

// Fault is a misbehaviour injected into some requests of one route. Of the
// effects, Stall, Hangup, Status and Body answer the request themselves (in
// that order of precedence); Short, Extra, IgnoreSkip, Truncate,
// WrongTypes and DropIDs alter the page served; Before runs first in every
// case.
type Fault struct {
	// Route selects the requests; "" selects every route.
	Route Route
	// Group, for RouteMembers, selects one group's requests; "" any.
	Group string
	// After is how many selected requests are served normally first.
	After int
	// Times is how many selected requests the fault then hits; 0 means all
	// later ones.
	Times int

	// Before runs before the request is answered, without the server's
	// lock held, so it may call AddUser, DeleteUser and the like: a
	// directory changing between two pages.
	Before func(*Server)
	// Stall answers nothing until the request's context ends or the
	// server closes; the first stall closes Stalled().
	Stall bool
	// Hangup closes the connection without an answer.
	Hangup bool
	// Status answers with this status, Retry-After when set, and Body, or
	// else the route's JSON error body (an HTML page for 502, 503 and 504,
	// as a load balancer sends).
	Status     int
	RetryAfter string
	// Body, without Status, is served with 200 instead of the page: malformed
	// JSON, wrong types, records without ids.
	Body string
	// Short drops the last Short records of the page, as JumpCloud does with
	// null associations: a short page before the end. totalCount is not
	// changed and the records are still served at later offsets.
	Short int
	// Extra appends Extra made-up records past the limit: a huge page.
	Extra int
	// IgnoreSkip serves the page as if skip were 0.
	IgnoreSkip bool
	// Truncate serves the first half of the page's JSON: malformed JSON.
	Truncate bool
	// WrongTypes gives the page's first record a value of the wrong JSON
	// type: a number for a user's email or a group's name, a string for a
	// member's "to".
	WrongTypes bool
	// DropIDs serves the page's records without their ids (_id, id or
	// to.id).
	DropIDs bool
}

// faultState is a Fault with the count of requests it selected.
type faultState struct {
	Fault
	seen int
}

// hits reports whether the fault applies to a request of route (and group),
// counting the request.
func (f *faultState) hits(route Route, group string) bool {
	if f.Route != "" && f.Route != route {
		return false
	}
	if f.Group != "" && f.Group != group {
		return false
	}
	f.seen++
	if f.seen <= f.After {
		return false
	}
	return f.Times == 0 || f.seen <= f.After+f.Times
}

// effect is the sum of the faults that hit one request.
type effect struct {
	before               []func(*Server)
	stall, hangup        bool
	status               int
	retryAfter, body     string
	short, extra         int
	ignoreSkip, hasBody  bool
	truncate, wrongTypes bool
	dropIDs              bool
}

// match returns the effect of every fault hitting a request. s.mu is held.
func (s *Server) match(route Route, group string) effect {
	var e effect
	for _, f := range s.faults {
		if !f.hits(route, group) {
			continue
		}
		if f.Before != nil {
			e.before = append(e.before, f.Before)
		}
		e.stall = e.stall || f.Stall
		e.hangup = e.hangup || f.Hangup
		if e.status == 0 && f.Status != 0 {
			e.status, e.retryAfter = f.Status, f.RetryAfter
		}
		if !e.hasBody && f.Body != "" {
			e.body, e.hasBody = f.Body, true
		}
		e.short += f.Short
		e.extra += f.Extra
		e.ignoreSkip = e.ignoreSkip || f.IgnoreSkip
		e.truncate = e.truncate || f.Truncate
		e.wrongTypes = e.wrongTypes || f.WrongTypes
		e.dropIDs = e.dropIDs || f.DropIDs
	}
	return e
}
