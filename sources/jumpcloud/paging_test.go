package jumpcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sources/jumpcloud/jctest"
)

// A user id that sorts before every jctest.UserID(n > 0).
var firstID = jctest.UserID(0)

func TestSnapshot_SurvivesPagingQuirks(t *testing.T) {
	tests := []struct {
		name           string
		users, groups  int
		faults         []jctest.Fault
		wantUserReads  int // requests to /api/systemusers, 0 to skip the check
		wantGroupReads int // requests to /api/v2/usergroups, 0 to skip the check
	}{
		{
			name: "ShortUserPagesBeforeTheEnd", users: 250, groups: 1,
			faults: []jctest.Fault{{Route: jctest.RouteUsers, Times: 2, Short: 7}},
			// 93 + 93 + 64 reach totalCount 250.
			wantUserReads: 3,
		},
		{
			name: "ShortGroupPagesBeforeTheEnd", users: 10, groups: 230,
			faults: []jctest.Fault{{Route: jctest.RouteGroups, Times: 2, Short: 5}},
			// 95, 95, 40, empty; then a confirming read of 100, 100, 30, empty.
			wantGroupReads: 8,
		},
		{
			name: "ShortMemberPagesBeforeTheEnd", users: 250, groups: 2,
			faults: []jctest.Fault{{Route: jctest.RouteMembers, Times: 3, Short: 9}},
		},
		{
			name: "UserInsertedBeforeTheCursor", users: 250, groups: 1,
			faults: []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Times: 1, Before: func(s *jctest.Server) {
				s.AddUser(jctest.User{ID: firstID, Email: "early@example.com", DisplayName: "Early", State: "ACTIVATED"})
			}}},
			// The first read sees a duplicate and misses the new user; the
			// second is clean.
			wantUserReads: 6,
		},
		{
			name: "UserInsertedAfterTheCursor", users: 250, groups: 1,
			faults: []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Times: 1, Before: func(s *jctest.Server) {
				s.AddUser(jctest.User{ID: jctest.UserID(999), Email: "late@example.com", DisplayName: "Late", State: "ACTIVATED"})
			}}},
			wantUserReads: 6,
		},
		{
			name: "UserDeletedBeforeTheCursor", users: 250, groups: 3,
			faults: []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Times: 1, Before: func(s *jctest.Server) {
				s.DeleteUser(jctest.UserID(5))
			}}},
			// The first read misses user 101, shifted into page one; the
			// second finds it and no longer holds user 5.
			wantUserReads: 6,
		},
		{
			name: "GroupDeletedBeforeTheCursor", users: 20, groups: 250,
			faults: []jctest.Fault{{Route: jctest.RouteGroups, After: 1, Times: 1, Before: func(s *jctest.Server) {
				s.DeleteGroup(jctest.GroupID(3))
			}}},
			// Reads one and two disagree (one misses group 101, two lacks
			// group 3); the third agrees with the second.
			wantGroupReads: 12,
		},
		{
			name: "GroupInsertedDuringTheRead", users: 20, groups: 150,
			faults: []jctest.Fault{{Route: jctest.RouteGroups, After: 1, Times: 1, Before: func(s *jctest.Server) {
				s.AddGroup(jctest.Group{ID: jctest.GroupID(999), Name: "Late", Members: []string{jctest.UserID(1)}})
			}}},
			wantGroupReads: 6,
		},
		{
			// Group 2 holds the 125 even users; user 1 joins it at the front
			// between its two pages.
			name: "MemberAddedDuringTheRead", users: 250, groups: 2,
			faults: []jctest.Fault{{Route: jctest.RouteMembers, Group: jctest.GroupID(2), After: 1, Times: 1, Before: func(s *jctest.Server) {
				g := s.Groups()[1]
				s.SetMembers(g.ID, append([]string{jctest.UserID(1)}, g.Members...))
			}}},
		},
		{
			name: "MemberRemovedDuringTheRead", users: 250, groups: 1,
			faults: []jctest.Fault{{Route: jctest.RouteMembers, After: 1, Times: 1, Before: func(s *jctest.Server) {
				g := s.Groups()[0]
				s.SetMembers(g.ID, g.Members[1:])
			}}},
		},
		{
			name: "TooManyRequestsWithRetryAfter", users: 150, groups: 2,
			faults:        []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Times: 1, Status: http.StatusTooManyRequests, RetryAfter: "1"}},
			wantUserReads: 3,
		},
		{
			name: "TooManyRequestsWithoutRetryAfter", users: 150, groups: 2,
			faults:         []jctest.Fault{{Route: jctest.RouteGroups, Times: 3, Status: http.StatusTooManyRequests}},
			wantGroupReads: 5,
		},
		{
			name: "UnavailableWithRetryAfter", users: 150, groups: 2,
			faults: []jctest.Fault{{Route: jctest.RouteMembers, Times: 1, Status: http.StatusServiceUnavailable, RetryAfter: "1"}},
		},
		{
			name: "BadGatewayBurst", users: 150, groups: 4,
			faults: []jctest.Fault{{Route: jctest.RouteMembers, After: 2, Times: 4, Status: http.StatusBadGateway}},
		},
		{
			name: "DroppedConnection", users: 150, groups: 2,
			faults: []jctest.Fault{{Route: jctest.RouteUsers, After: 1, Times: 1, Hangup: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, groups := directory(tt.users, tt.groups)
			srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: tt.faults})
			snap, err := newTestSource(t, srv).Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if d := diffSnapshots(wantSnapshot(srv), snap); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
			if got := srv.Count(jctest.RouteUsers); tt.wantUserReads != 0 && got != tt.wantUserReads {
				t.Errorf("%d user requests, want %d", got, tt.wantUserReads)
			}
			if got := srv.Count(jctest.RouteGroups); tt.wantGroupReads != 0 && got != tt.wantGroupReads {
				t.Errorf("%d group requests, want %d", got, tt.wantGroupReads)
			}
		})
	}
}

func TestSnapshot_HonoursRetryAfter(t *testing.T) {
	users, groups := directory(5, 1)
	srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: []jctest.Fault{
		{Route: jctest.RouteUsers, Times: 1, Status: http.StatusTooManyRequests, RetryAfter: "1"},
	}})
	if _, err := newTestSource(t, srv).Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	var times []time.Time
	for _, r := range srv.Requests() {
		if r.Route == jctest.RouteUsers {
			times = append(times, r.Time)
		}
	}
	// The source's own backoff is a few milliseconds: only Retry-After
	// explains a wait of a second. (A lower bound, so not a timed test.)
	if len(times) != 2 || times[1].Sub(times[0]) < 900*time.Millisecond {
		t.Errorf("user requests at %v, want two, a second apart", times)
	}
}

func TestSnapshot_UsersThatKeepChanging(t *testing.T) {
	users, groups := directory(250, 1)
	n := 1000
	srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: []jctest.Fault{
		{Route: jctest.RouteUsers, After: 1, Before: func(s *jctest.Server) {
			n++
			s.AddUser(jctest.User{ID: jctest.UserID(n), Email: fmt.Sprintf("new%d@example.com", n), State: "ACTIVATED"})
		}},
	}})
	snap, err := newTestSource(t, srv).Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	// Three reads, none clean: every user seen is kept, each once.
	if got := srv.Count(jctest.RouteUsers); got < 9 {
		t.Errorf("%d user requests, want three full reads", got)
	}
	seen := make(map[string]bool)
	for _, u := range snap.Users {
		if seen[u.ExternalID] {
			t.Errorf("user %s appears twice", u.ExternalID)
		}
		seen[u.ExternalID] = true
	}
	for _, u := range users {
		if !seen[u.ID] {
			t.Errorf("user %s is missing", u.ID)
		}
	}
}

func TestSnapshot_FailsWhenPagingIsStuck(t *testing.T) {
	tests := []struct {
		name  string
		fault jctest.Fault
		want  string
	}{
		{
			name:  "UsersIgnoreSkip",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, IgnoreSkip: true},
			want:  "GET /api/systemusers?limit=100&skip=100: page repeats only users already read, though totalCount stayed 250",
		},
		{
			name:  "GroupsIgnoreSkip",
			fault: jctest.Fault{Route: jctest.RouteGroups, After: 1, IgnoreSkip: true},
			want:  "GET /api/v2/usergroups?limit=100&skip=200: " + errStuck.Error(),
		},
		{
			name:  "MembersIgnoreSkip",
			fault: jctest.Fault{Route: jctest.RouteMembers, Group: jctest.GroupID(1), After: 1, IgnoreSkip: true},
			want:  "/members?limit=100&skip=200: " + errStuck.Error(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, groups := directory(250, 250)
			srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: []jctest.Fault{tt.fault}})
			snap, err := newTestSource(t, srv).Snapshot(context.Background())
			if err == nil {
				t.Fatalf("Snapshot succeeded with %d users and %d groups; want an error", len(snap.Users), len(snap.Groups))
			}
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want ErrBadResponse containing %q", err, tt.want)
			}
		})
	}
}

func TestSnapshot_RejectsBadPages(t *testing.T) {
	users, groups := directory(150, 2)
	g1 := jctest.GroupID(1)
	tests := []struct {
		name  string
		fault jctest.Fault
		want  string
	}{
		{
			name:  "MalformedJSON",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Body: `{"totalCount":150,"results":[{"_id":`},
			want:  "GET /api/systemusers?limit=100&skip=100: truncated JSON",
		},
		{
			name:  "TruncatedUserPage",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Truncate: true},
			want:  "GET /api/systemusers?limit=100&skip=100: truncated JSON",
		},
		{
			name:  "UsersWithoutIDs",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, DropIDs: true},
			want:  "GET /api/systemusers?limit=100&skip=100: item 0: no _id",
		},
		{
			name:  "UserEmailAsNumber",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, WrongTypes: true},
			want:  "GET /api/systemusers?limit=100&skip=100: item 0 (id " + jctest.UserID(101) + "): email: got JSON number, want a string",
		},
		{
			name:  "GroupNameAsNumber",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, WrongTypes: true},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: item 0 (id " + g1 + "): name: got JSON number, want a string",
		},
		{
			name:  "GroupsWithoutIDs",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, DropIDs: true},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: item 0: no id",
		},
		{
			name:  "MembersWithoutIDs",
			fault: jctest.Fault{Route: jctest.RouteMembers, Group: g1, Times: 1, DropIDs: true},
			want:  "/members?limit=100&skip=0: item 0: no to.id",
		},
		{
			name:  "TruncatedMemberPage",
			fault: jctest.Fault{Route: jctest.RouteMembers, Times: 1, Truncate: true},
			want:  "/members?limit=100&skip=0: truncated JSON",
		},
		{
			name:  "HTMLInsteadOfJSON",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, Body: `<html>maintenance</html>`},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: malformed JSON at byte 1",
		},
		{
			name:  "TrailingData",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, Body: `[] []`},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: trailing data after the JSON value at byte 2",
		},
		{
			name:  "WrongTypeInUser",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Body: `{"totalCount":150,"results":[{"_id":"a1"},{"_id":"a2","email":42}]}`},
			want:  "GET /api/systemusers?limit=100&skip=100: item 1 (id a2): email: got JSON number, want a string",
		},
		{
			name:  "BooleanAsString",
			fault: jctest.Fault{Route: jctest.RouteUsers, Times: 1, Body: `{"totalCount":1,"results":[{"_id":"a1","suspended":"false"}]}`},
			want:  "item 0 (id a1): suspended: got JSON string, want a boolean",
		},
		{
			name:  "UserWithoutID",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Body: `{"totalCount":150,"results":[{"_id":"a1"},{"_id":"a2"},{"email":"x@example.com"}]}`},
			want:  "GET /api/systemusers?limit=100&skip=100: item 2: no _id",
		},
		{
			name:  "ResultsNotAnArray",
			fault: jctest.Fault{Route: jctest.RouteUsers, Times: 1, Body: `{"totalCount":150,"results":{}}`},
			want:  "results: got JSON object, want an array",
		},
		{
			name:  "NoTotalCount",
			fault: jctest.Fault{Route: jctest.RouteUsers, Times: 1, Body: `{"results":[]}`},
			want:  "GET /api/systemusers?limit=100&skip=0: no totalCount",
		},
		{
			name:  "EmptyPageShortOfTotalCount",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Body: `{"totalCount":150,"results":[]}`},
			want:  "GET /api/systemusers?limit=100&skip=100: empty page, though totalCount is 150",
		},
		{
			name:  "TotalCountAsString",
			fault: jctest.Fault{Route: jctest.RouteUsers, Times: 1, Body: `{"totalCount":"150","results":[]}`},
			want:  "totalCount: got JSON string, want an integer",
		},
		{
			name:  "HugeUserPage",
			fault: jctest.Fault{Route: jctest.RouteUsers, After: 1, Times: 1, Extra: 60},
			want:  "GET /api/systemusers?limit=100&skip=100: page holds 110 items, more than the limit 100",
		},
		{
			name:  "HugeGroupPage",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, Extra: 99},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: page holds 101 items, more than the limit 100",
		},
		{
			name:  "GroupWithoutID",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, Body: `[{"id":"g1","name":"A"},{"name":"B"}]`},
			want:  "GET /api/v2/usergroups?limit=100&skip=0: item 1: no id",
		},
		{
			name:  "GroupIDAsNumber",
			fault: jctest.Fault{Route: jctest.RouteGroups, Times: 1, Body: `[{"id":5,"name":"A"}]`},
			want:  "item 0: id: got JSON number, want a string",
		},
		{
			name:  "MemberWithoutTo",
			fault: jctest.Fault{Route: jctest.RouteMembers, Group: g1, Times: 1, Body: `[{"attributes":null}]`},
			want:  "read members of group " + g1 + " (Group 1): GET /api/v2/usergroups/" + g1 + "/members?limit=100&skip=0: item 0: no to",
		},
		{
			name:  "MemberWithoutID",
			fault: jctest.Fault{Route: jctest.RouteMembers, Group: g1, Times: 1, Body: `[{"to":{"id":"u1","type":"user"}},{"to":{"type":"user"}}]`},
			want:  "item 1: no to.id",
		},
		{
			name:  "MemberToAsString",
			fault: jctest.Fault{Route: jctest.RouteMembers, Group: g1, Times: 1, WrongTypes: true},
			want:  "item 0: to: got JSON string, want an object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, jctest.Options{Users: users, Groups: groups, Faults: []jctest.Fault{tt.fault}})
			snap, err := newTestSource(t, srv).Snapshot(context.Background())
			if err == nil {
				t.Fatalf("Snapshot succeeded with %d users and %d groups; want an error", len(snap.Users), len(snap.Groups))
			}
			if len(snap.Users) != 0 || len(snap.Groups) != 0 {
				t.Errorf("Snapshot returned %d users and %d groups with its error", len(snap.Users), len(snap.Groups))
			}
			var pe *PageError
			if !errors.Is(err, ErrBadResponse) || !errors.As(err, &pe) {
				t.Errorf("error %v does not wrap ErrBadResponse and a PageError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
