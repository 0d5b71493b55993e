package bitwarden

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

const importRoute = "POST /api/public/organization/import"

// invites returns n invite operations, new0@example.com (external id n0)
// and on, bulk.
func invites(n int) []sync.Op {
	ops := make([]sync.Op, n)
	for i := range ops {
		ops[i] = sync.Op{Action: sync.ActionInvite, Email: fmt.Sprintf("new%d@example.com", i), ExternalID: fmt.Sprintf("n%d", i), Bulk: true}
	}
	return ops
}

// applyBulk runs ApplyBulk after a State, as the Syncer does.
func (e *env) applyBulk(ops []sync.Op) []sync.OpError {
	e.t.Helper()
	e.state()
	e.emu.ClearRequests()
	return e.sink.ApplyBulk(context.Background(), ops)
}

// noErrors fails the test when ApplyBulk reported failures.
func noErrors(t *testing.T, errs []sync.OpError) {
	t.Helper()
	for i, err := range errs {
		if i == 5 {
			t.Fatalf("... and %d more", len(errs)-5)
		}
		t.Errorf("failed: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
}

// imports returns the bodies of the logged import requests, decoded, and
// fails the test if any carries a null array or has overwriteExisting,
// largeImport or inviteUsersAfterProvisioning other than false, true, true.
func (e *env) imports() []bwemuImport {
	e.t.Helper()
	var out []bwemuImport
	for _, r := range e.emu.Requests() {
		if r.Route != importRoute {
			continue
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
			e.t.Fatalf("import body: %v", err)
		}
		for key, want := range map[string]string{"overwriteExisting": "false", "largeImport": "true", "inviteUsersAfterProvisioning": "true"} {
			if got := string(raw[key]); got != want {
				e.t.Errorf("import %s = %s, want %s", key, got, want)
			}
		}
		if strings.Contains(r.Body, "null") {
			e.t.Errorf("import body has a null: %.200s", r.Body)
		}
		var body bwemuImport
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			e.t.Fatalf("import body: %v", err)
		}
		body.status = r.Status
		out = append(out, body)
	}
	return out
}

type bwemuImport struct {
	Members []importMember `json:"members"`
	Groups  []importGroup  `json:"groups"`
	status  int
}

func TestApplyBulk_BatchesInvitesBy2000(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  bwemu.Options
		rate RateLimit
	}{
		{"Cloud", bwemu.Options{}, RateLimit{}},
		{"CloudRateLimited", bwemu.Options{RateLimit: true}, RateLimit{PerSecond: 5, PerMinute: 60}},
		{"SelfHosted", bwemu.Options{SelfHosted: true}, RateLimit{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opt, func(c *Config) { c.RateLimit = tt.rate })
			noErrors(t, e.applyBulk(invites(4500)))
			var sizes []int
			for _, body := range e.imports() {
				if len(body.Groups) != 0 || body.status != http.StatusOK {
					t.Errorf("member request: %d groups, status %d; want 0 and 200", len(body.Groups), body.status)
				}
				sizes = append(sizes, len(body.Members))
			}
			if diff := cmp.Diff([]int{2000, 2000, 500}, sizes); diff != "" {
				t.Errorf("members per request (-want +got):\n%s", diff)
			}
			got := map[string]bwemu.Member{}
			for _, m := range e.emu.Dump().Members {
				got[m.ExternalID] = m
			}
			for i := range 4500 {
				m := got[fmt.Sprintf("n%d", i)]
				if m.Email != fmt.Sprintf("new%d@example.com", i) || m.Status != bwemu.StatusInvited || m.Type != bwemu.TypeUser {
					t.Fatalf("member n%d = %+v, want an invited user new%d@example.com", i, m, i)
				}
			}
			if n := e.emu.Stats().ByStatus[http.StatusTooManyRequests]; n != 0 {
				t.Errorf("%d answers 429", n)
			}
		})
	}
}

func TestApplyBulk_Groups(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	ops := []sync.Op{
		inviteBulk("carol@example.com", "u4"),
		// A new group with members, one of them invited in the same call.
		{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true},
		{Action: sync.ActionSetGroupMembers, ExternalID: "g9", Name: "Sales", Members: []string{"u1", "u4"}, Bulk: true},
		// A new group without members: sent with memberExternalIds [].
		{Action: sync.ActionCreateGroup, ExternalID: "g8", Name: "Empty", Bulk: true},
		// An existing group renamed and its membership replaced.
		{Action: sync.ActionSetGroupMembers, GroupID: engID, ExternalID: "g1", Name: "Eng", Members: []string{"u2", "u3"}, Bulk: true},
	}
	noErrors(t, e.applyBulk(ops))

	bodies := e.imports()
	if len(bodies) != 2 || len(bodies[0].Members) != 1 || len(bodies[0].Groups) != 0 || len(bodies[1].Members) != 0 {
		t.Fatalf("import requests = %+v, want one with the member, then one with the groups", bodies)
	}
	wantGroups := []importGroup{
		{Name: "Sales", ExternalID: "g9", MemberExternalIDs: []string{"u1", "u4"}},
		{Name: "Empty", ExternalID: "g8", MemberExternalIDs: []string{}},
		{Name: "Eng", ExternalID: "g1", MemberExternalIDs: []string{"u2", "u3"}},
	}
	if diff := cmp.Diff(wantGroups, bodies[1].Groups); diff != "" {
		t.Errorf("group entries (-want +got):\n%s", diff)
	}
	carol, _ := e.memberByEmail("carol@example.com")
	for ext, want := range map[string]struct {
		name    string
		members []string
	}{
		"g9": {"Sales", sorted([]string{aliceID, carol.ID})},
		"g8": {"Empty", []string{}},
		"g1": {"Eng", sorted([]string{bobID, ritaID})}, // rita is revoked, and still a member
	} {
		g := e.groupsByExternalID(ext)
		if len(g) != 1 || g[0].Name != want.name {
			t.Fatalf("group %s = %+v, want one named %s", ext, g, want.name)
		}
		if diff := cmp.Diff(want.members, g[0].MemberIDs); diff != "" {
			t.Errorf("group %s members (-want +got):\n%s", ext, diff)
		}
	}
}

func inviteBulk(email, ext string) sync.Op {
	op := inviteOp(email, ext)
	op.Bulk = true
	return op
}

func TestApplyBulk_BatchesGroupsByCountAndSize(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	var ops []sync.Op
	for i := range 2500 {
		ops = append(ops, sync.Op{Action: sync.ActionCreateGroup, ExternalID: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("Team %d", i), Bulk: true})
	}
	// Three groups of 60,000 member ids (naming nobody: the import ignores
	// them): 100,000 ids at most per request puts each in its own.
	for i := range 3 {
		members := make([]string, 60000)
		for j := range members {
			members[j] = fmt.Sprintf("x%d-%05d", i, j)
		}
		ops = append(ops, sync.Op{Action: sync.ActionSetGroupMembers, ExternalID: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("Team %d", i), Members: members, Bulk: true})
	}
	noErrors(t, e.applyBulk(ops))
	var sizes []int
	for _, body := range e.imports() {
		ids := 0
		for _, g := range body.Groups {
			ids += len(g.MemberExternalIDs)
		}
		sizes = append(sizes, len(body.Groups))
		if ids > maxImportMemberIDs {
			t.Errorf("a request carries %d member ids", ids)
		}
	}
	// The groups go in the order the operations first name them: t0, t1,
	// t2 (60,000 ids each: one per request, as two exceed 100,000), then
	// t3 and on fill t2's request to 2,000 groups.
	if diff := cmp.Diff([]int{1, 1, 2000, 498}, sizes); diff != "" {
		t.Errorf("groups per request (-want +got):\n%s", diff)
	}
	if n := len(e.emu.Dump().Groups); n != 2503 {
		t.Errorf("groups = %d, want 2503", n)
	}
}

func TestPack_BoundsBytes(t *testing.T) {
	var entries []importEntry
	for i := range 10 {
		entries = append(entries, importEntry{raw: make(json.RawMessage, 1<<20), ops: []int{i}})
	}
	var sizes []int
	for _, b := range pack(entries, true, maxImportGroups) {
		sizes = append(sizes, len(b.entries))
		if len(b.entries) > 1 && b.bytes > maxImportBytes {
			t.Errorf("batch of %d entries has %d bytes", len(b.entries), b.bytes)
		}
	}
	if diff := cmp.Diff([]int{3, 3, 3, 1}, sizes); diff != "" {
		t.Errorf("entries per batch (-want +got):\n%s", diff)
	}
	big := []importEntry{{raw: make(json.RawMessage, 5<<20)}, {raw: json.RawMessage(`{}`)}}
	if got := len(pack(big, true, maxImportGroups)); got != 2 {
		t.Errorf("an entry over the bound: %d batches, want 2 (it goes alone)", got)
	}
}

func TestApplyBulk_ExplainsSkippedEmail(t *testing.T) {
	// alice@example.com is member u1. The import skips, with a 200, a new
	// member whose email the organization already holds.
	e := newEnv(t, bwemu.Options{}, nil)
	errs := e.applyBulk([]sync.Op{inviteBulk("Alice@example.com", "u9"), inviteBulk("dan@example.com", "u10")})
	if len(errs) != 1 || errs[0].Op.ExternalID != "u9" {
		t.Fatalf("errors = %v, want one, for u9", errs)
	}
	msg := errs[0].Error()
	for _, want := range []string{"invite Alice@example.com:", "alice@example.com is already in the organization", `external id "u1"`, "confirmed", `give that member the external id "u9"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if _, ok := e.memberByEmail("dan@example.com"); !ok {
		t.Error("dan was not invited")
	}
}

func TestApplyBulk_RetryChangesNothing(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	ops := append(invites(3),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true},
		sync.Op{Action: sync.ActionSetGroupMembers, ExternalID: "g9", Name: "Sales", Members: []string{"n0", "n1", "u1"}, Bulk: true},
		sync.Op{Action: sync.ActionSetGroupMembers, GroupID: opsID, ExternalID: "g2", Name: "Ops", Members: []string{"n2"}, Bulk: true},
	)
	noErrors(t, e.applyBulk(ops))
	before := e.emu.Dump()
	invitations := e.emu.Stats().Invitations
	noErrors(t, e.applyBulk(ops))
	if diff := cmp.Diff(before, e.emu.Dump()); diff != "" {
		t.Errorf("a retry changed the organization (-before +after):\n%s", diff)
	}
	if n := e.emu.Stats().Invitations; n != 0 {
		t.Errorf("a retry sent %d invitations (first run: %d)", n, invitations)
	}
}

func TestApplyBulk_SeatLimit(t *testing.T) {
	// Four members hold seats; six seats and no autoscale leave two.
	e := newEnv(t, bwemu.Options{Seats: ptr(6), MaxAutoscaleSeats: ptr(6)}, nil)
	ops := append(invites(3),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true},
		sync.Op{Action: sync.ActionSetGroupMembers, ExternalID: "g9", Name: "Sales", Members: []string{"n0", "u1"}, Bulk: true},
	)
	errs := e.applyBulk(ops)
	var failed []string
	for _, err := range errs {
		failed = append(failed, err.Op.ExternalID)
		if !strings.Contains(err.Error(), "400 Seat limit has been reached.") {
			t.Errorf("error %q does not give the server's message", err)
		}
	}
	if diff := cmp.Diff([]string{"n0", "n1", "n2"}, failed); diff != "" {
		t.Errorf("failed operations (-want +got):\n%s", diff)
	}
	// The group request still went: the group holds the members that exist.
	g := e.groupsByExternalID("g9")
	if len(g) != 1 || !cmp.Equal(g[0].MemberIDs, []string{aliceID}) {
		t.Errorf("group g9 = %+v, want Sales with alice", g)
	}
}

func TestApplyBulk_FailedRequestFailsOnlyItsOperations(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	// The first request and its 6 retries answer 500; the second goes.
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/organization/import", Status: 500, Count: 7})
	errs := e.sink.ApplyBulk(context.Background(), invites(2001))
	if len(errs) != 2000 {
		t.Fatalf("%d failed, want 2000", len(errs))
	}
	if msg := errs[0].Error(); !strings.Contains(msg, "500 An unhandled server error has occurred.") {
		t.Errorf("error %q does not give the server's message", msg)
	}
	if _, ok := e.memberByEmail("new2000@example.com"); !ok {
		t.Error("the second request's member was not invited")
	}
}

func TestApplyBulk_VerifiesMembership(t *testing.T) {
	// A server that answers 200 but drops every group's members.
	e := newEnvWrapped(t, bwemu.Options{}, nil, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/public/organization/import" {
				var body map[string]any
				_ = json.NewDecoder(r.Body).Decode(&body)
				for _, g := range body["groups"].([]any) {
					g.(map[string]any)["memberExternalIds"] = []any{}
				}
				b, _ := json.Marshal(body)
				r.Body = io.NopCloser(bytes.NewReader(b))
				r.ContentLength = int64(len(b))
			}
			next.ServeHTTP(w, r)
		})
	})
	errs := e.applyBulk([]sync.Op{
		{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true},
		{Action: sync.ActionSetGroupMembers, ExternalID: "g9", Name: "Sales", Members: []string{"u1", "u2", "nobody"}, Bulk: true},
	})
	if len(errs) != 1 || errs[0].Op.Action != sync.ActionSetGroupMembers {
		t.Fatalf("errors = %v, want the set_group_members", errs)
	}
	want := "after the import the group holds 0 members, not the 2 wanted: 2 missing (alice@example.com, bob@example.com), 0 not wanted"
	if msg := errs[0].Error(); !strings.Contains(msg, want) {
		t.Errorf("error %q does not say %q", msg, want)
	}
}

func TestApplyBulk_FallsBackOnDuplicateExternalIDs(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	org := seedOrg()
	org.Members[4].ExternalID = "u1" // hand now shares alice's external id
	if err := e.emu.Seed(org); err != nil {
		t.Fatal(err)
	}
	noErrors(t, e.applyBulk(append(invites(2),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true})))
	if n := e.count(importRoute, 0); n != 0 {
		t.Errorf("%d import requests, want none (they would answer 500)", n)
	}
	if n := e.count("POST /api/public/members", 200); n != 2 {
		t.Errorf("%d invites one by one, want 2", n)
	}
	if !strings.Contains(e.logs.String(), `two members have the external id \"u1\"`) {
		t.Errorf("the log does not say why:\n%s", e.logs.String())
	}
}

func TestApplyBulk_RejectsWhatTheImportCannotCarry(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	errs := e.applyBulk([]sync.Op{
		inviteBulk("x@example.com", "u7"),
		inviteBulk("X@example.com", "u8"), // same email
		inviteBulk("y@example.com", "u7"), // same external id
		inviteBulk("z@example.com", strings.Repeat("e", 301)),
		{Action: sync.ActionRevoke, MemberID: aliceID, ExternalID: "u1", Bulk: true},
		{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: strings.Repeat("n", 101), Bulk: true},
		{Action: sync.ActionSetGroupMembers, GroupID: engID, ExternalID: "g1", Name: "Engineering", Members: []string{"u2"}, KeepIDs: []string{aliceID}, Bulk: true},
	})
	want := []string{
		`invite X@example.com: bitwarden: x@example.com is also invited as external id "u7" in this run; left out`,
		`invite y@example.com: bitwarden: external id "u7" is also invited as x@example.com in this run; left out`,
		"invite z@example.com: bitwarden: external id is longer than 300 characters, which Bitwarden refuses",
		"revoke member " + aliceID + ": bitwarden: revoke cannot go through the import endpoint",
		"create_group " + strings.Repeat("n", 101) + ": bitwarden: group name is longer than 100 characters, which Bitwarden refuses",
		"set_group_members Engineering: bitwarden: set_group_members cannot go through the import endpoint: it keeps members " +
			"by organization id, and the import drops every member it cannot name by external id",
	}
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if _, ok := e.memberByEmail("x@example.com"); !ok {
		t.Error("the first invite was not applied")
	}
}

func TestSyncer_BulkEndToEnd(t *testing.T) {
	// The Syncer plans, marks the bulk operations, and the sink applies
	// them; the next run has nothing to do and writes nothing.
	e := newEnv(t, bwemu.Options{}, nil)
	src := staticSource{sync.Snapshot{
		Users: []sync.User{
			{ExternalID: "u1", Email: "alice@example.com"},
			{ExternalID: "u2", Email: "bob@example.com"},
			{ExternalID: "u4", Email: "carol@example.com"},
			{ExternalID: "u5", Email: "dan@example.com"},
		},
		Groups: []sync.Group{
			{ExternalID: "g1", Name: "Engineering", Members: []string{"u1", "u4"}},
			{ExternalID: "g2", Name: "Ops", Members: []string{"u5"}},
			{ExternalID: "g9", Name: "Sales", Members: []string{"u2", "u5"}},
		},
	}}
	syncer := &sync.Syncer{Source: src, Sink: e.sink, Bulk: sync.BulkOptions{Mode: sync.BulkAlways},
		Options: sync.Options{OnMissing: sync.MissingIgnore}}
	res, err := syncer.Run(context.Background(), sync.RunOptions{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if got, want := res.AppliedTotal(), len(res.Plan.Ops); got != want || want != 6 {
		t.Errorf("applied %d of %d operations, want 6 of 6 (%s)", got, want, res.Plan.Summary())
	}
	if n, want := e.emu.Stats().Writes, 2; n != want {
		t.Errorf("first run: %d writes, want %d (one member and one group import)", n, want)
	}
	e.emu.ClearRequests()
	res, err = syncer.Run(context.Background(), sync.RunOptions{})
	if err != nil || !res.Plan.Empty() {
		t.Fatalf("second run: %v, plan %s; want no changes", err, res.Plan.Summary())
	}
	if n := e.emu.Stats().Writes; n != 0 {
		t.Errorf("second run: %d writes, want 0", n)
	}
}

type staticSource struct{ snap sync.Snapshot }

func (s staticSource) Snapshot(context.Context) (sync.Snapshot, error) { return s.snap, nil }

func TestApplyBulk_GroupsOneByOneOnDuplicateGroupIDs(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	org := seedOrg()
	org.Groups[2].ExternalID = "g2" // Hand Made now shares Ops's external id
	if err := e.emu.Seed(org); err != nil {
		t.Fatal(err)
	}
	e.state()
	// Reading the organization back fails: the invites cannot be
	// checked, the group applied one by one stands.
	e.emu.AddFault(bwemu.Fault{Method: "GET", Path: "/api/public/members", Status: 500, Count: 7})
	errs := e.sink.ApplyBulk(context.Background(), append(invites(2),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Sales", Bulk: true}))
	var failed []string
	for _, err := range errs {
		failed = append(failed, err.Op.ExternalID)
		if !strings.Contains(err.Error(), "reading the organization back to check it failed") {
			t.Errorf("error %q does not say the check failed", err)
		}
	}
	if diff := cmp.Diff([]string{"n0", "n1"}, failed); diff != "" {
		t.Errorf("failed operations (-want +got):\n%s", diff)
	}
	if n := e.count(importRoute, 200); n != 1 {
		t.Errorf("%d import requests, want 1 (members only)", n)
	}
	if n := e.count("POST /api/public/groups", 200); n != 1 {
		t.Errorf("%d group creates one by one, want 1", n)
	}
}
