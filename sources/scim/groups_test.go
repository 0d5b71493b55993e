package scim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sources/scim/scimtest"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
	"github.com/dirbridge/dirbridge/sync"
)

func member(id, typ string) map[string]any {
	m := map[string]any{"value": id}
	if typ != "" {
		m["type"] = typ
	}
	return m
}

func users(ids ...string) []scimtest.Resource {
	var out []scimtest.Resource
	for _, id := range ids {
		out = append(out, scimtest.Resource{"id": id, "externalId": "ext-" + id, "userName": id + "@example.com"})
	}
	return out
}

// membersByName returns each group's sorted members, by group name.
func membersByName(snap sync.Snapshot) map[string][]string {
	out := make(map[string][]string)
	for _, g := range snap.Groups {
		m := slices.Clone(g.Members)
		slices.Sort(m)
		out[g.Name] = m
	}
	return out
}

func TestSnapshot_FlattensNestedGroups(t *testing.T) {
	groups := []scimtest.Resource{
		{"id": "eng", "externalId": "e", "displayName": "Engineering", "members": []any{member("ann", "User"), member("backend", "Group")}},
		{"id": "backend", "externalId": "b", "displayName": "Backend", "members": []any{member("bob", ""), member("db", "")}},   // untyped: a listed group id is a group
		{"id": "db", "externalId": "d", "displayName": "DBAs", "members": []any{member("cat", "User"), member("eng", "Group")}}, // a cycle back to eng
		{"id": "ops", "externalId": "o", "displayName": "Ops", "members": []any{member("dan", "User"), member("ghost", "User")}},
	}
	for _, mode := range []string{MembersAuto, MembersPerGroup, MembersInline} {
		t.Run(mode, func(t *testing.T) {
			srv := newTestServer(t, scimtest.Options{Users: users("ann", "bob", "cat", "dan"), Groups: groups})
			src := newTestSource(t, srv, func(c *Config) { c.GroupMembers = mode; c.IDAttribute = IDAttributeExternalID })
			snap, err := src.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			want := map[string][]string{
				"Engineering": {"ext-ann", "ext-bob", "ext-cat"},
				"Backend":     {"ext-ann", "ext-bob", "ext-cat"},
				"DBAs":        {"ext-ann", "ext-bob", "ext-cat"},
				"Ops":         {"ext-dan", "ghost"}, // unknown ids are left to sync.Normalize
			}
			if diff := cmp.Diff(want, membersByName(snap)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSnapshot_FetchesUnlistedNestedGroups: a nested group outside
// filter_groups is fetched by id, and so are the groups nested in it.
func TestSnapshot_FetchesUnlistedNestedGroups(t *testing.T) {
	all := []scimtest.Resource{
		{"id": "eng", "displayName": "Engineering", "members": []any{member("ann", "User"), member("backend", "Group")}},
		{"id": "backend", "displayName": "Backend", "members": []any{member("bob", "User"), member("db", "Group")}},
		{"id": "db", "displayName": "DBAs", "members": []any{member("cat", "User"), member("eng", "Group")}},
	}
	listOnlyEng := `{"totalResults":1,"Resources":[{"id":"eng","displayName":"Engineering","members":[{"value":"ann","type":"User"},{"value":"backend","type":"Group"}]}]}`
	srv := newTestServer(t, scimtest.Options{
		Users: users("ann", "bob", "cat"), Groups: all,
		Faults: []scimtest.Fault{{Path: "/Groups", Status: 200, Body: listOnlyEng}},
	})
	src := newTestSource(t, srv, func(c *Config) { c.FilterGroups = `displayName eq "Engineering"` })
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	want := map[string][]string{"Engineering": {"ann", "bob", "cat"}}
	if diff := cmp.Diff(want, membersByName(snap)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	var fetched []string
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/Groups/") {
			fetched = append(fetched, r.Path)
		}
	}
	if diff := cmp.Diff([]string{"/Groups/backend", "/Groups/db"}, fetched); diff != "" {
		t.Errorf("group fetches (-want +got):\n%s", diff)
	}

	bounded := newTestSource(t, srv, func(c *Config) { c.MaxPages = 1 })
	if _, err := bounded.Snapshot(context.Background()); !errors.Is(err, ErrTooManyPages) {
		t.Errorf("with max_pages 1 and two unlisted nested groups: error = %v, want ErrTooManyPages", err)
	}
}

// TestSnapshot_PerGroupNotBoundByMaxPages: fetching listed groups one by
// one is not a runaway, however many there are.
func TestSnapshot_PerGroupNotBoundByMaxPages(t *testing.T) {
	f := smallFixture(5)
	srv := fixtureServer(t, f, scimtest.Options{})
	src := newTestSource(t, srv, func(c *Config) { c.GroupMembers = MembersPerGroup; c.MaxPages = 1 })
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sourcetest.Compare(t, f, snap)
}

func TestSnapshot_GroupFetchFails(t *testing.T) {
	f := sourcetest.DefaultFixture()
	srv := fixtureServer(t, f, scimtest.Options{Faults: []scimtest.Fault{{Path: "/Groups/g-g2", Status: 500}}})
	src := newTestSource(t, srv, func(c *Config) { c.GroupMembers = MembersPerGroup })
	snap, err := src.Snapshot(context.Background())
	var resp *ResponseError
	if !errors.As(err, &resp) || resp.StatusCode != 500 || !strings.Contains(err.Error(), "scim: read groups: GET "+srv.URL()+"/Groups/g-g2: 500") {
		t.Fatalf("Snapshot error = %v, want the 500 of /Groups/g-g2", err)
	}
	if len(snap.Users) != 0 || len(snap.Groups) != 0 {
		t.Errorf("partial snapshot returned with the error")
	}
}

func TestSnapshot_NestedGroupMissing(t *testing.T) {
	groups := []scimtest.Resource{
		{"id": "eng", "displayName": "Engineering", "members": []any{member("gone", "Group")}},
	}
	srv := newTestServer(t, scimtest.Options{Users: users("ann"), Groups: groups})
	src := newTestSource(t, srv, nil)
	_, err := src.Snapshot(context.Background())
	var resp *ResponseError
	if !errors.As(err, &resp) || resp.StatusCode != 404 || !strings.Contains(err.Error(), "/Groups/gone") {
		t.Fatalf("Snapshot error = %v, want a 404 for /Groups/gone", err)
	}
}

func TestSnapshot_GroupIDAttribute(t *testing.T) {
	groups := []scimtest.Resource{
		{"id": "g1", "externalId": "team-1", "displayName": "One", "members": []any{member("ann", "User")}},
		{"id": "g2", "displayName": "Two", "members": []any{}},
	}
	srv := newTestServer(t, scimtest.Options{Users: users("ann"), Groups: groups})
	snap, err := newTestSource(t, srv, nil).Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	want := []sync.Group{
		{ExternalID: "g1", Name: "One", Members: []string{"ann"}, Source: "Groups/g1"},
		{ExternalID: "g2", Name: "Two", Members: []string{}, Source: "Groups/g2"},
	}
	if diff := cmp.Diff(want, snap.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	_, err = newTestSource(t, srv, func(c *Config) { c.IDAttribute = IDAttributeExternalID }).Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), `group "g2" (Resources[1] of the Groups page at startIndex 1): has no "externalId"`) {
		t.Errorf("Snapshot with a group lacking externalId: error = %v", err)
	}
}

func TestCheck(t *testing.T) {
	f := smallFixture(23)
	srv := fixtureServer(t, f, scimtest.Options{})
	got, err := newTestSource(t, srv, func(c *Config) { c.GroupMembers = MembersPerGroup }).Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := srv.URL() + `: users: 23 in total, first Person 00 <p00@example.com> (external id u-p00); groups: 3 in total, first "Odd"`
	if got != want {
		t.Errorf("Check = %q\nwant    %q", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Query.Get("count") != "1" || reqs[1].Query.Get("excludedAttributes") != "members" {
		t.Errorf("Check made requests %+v", reqs)
	}

	noTotal := fixtureServer(t, f, scimtest.Options{OmitTotalResults: true, Users: nil})
	got, err = newTestSource(t, noTotal, nil).Check(context.Background())
	if err != nil || !strings.Contains(got, "users: ok, no totalResults given, first Person 00") {
		t.Errorf("Check without totalResults = %q, %v", got, err)
	}

	_, err = newTestSource(t, srv, func(c *Config) { c.Token = "nope" }).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "scim: check users: GET "+srv.URL()+"/Users?count=1&startIndex=1: 401 Unauthorized: invalid bearer token") {
		t.Errorf("Check with a bad token: error = %v", err)
	}

	_, err = newTestSource(t, srv, func(c *Config) { c.IDAttribute = IDAttributeExternalID }).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), `user "u-p00"`) || !strings.Contains(err.Error(), "externalId") {
		t.Errorf("Check with users lacking externalId: error = %v", err)
	}
}
