package bitwarden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

// newVaultwarden returns an emulated Vaultwarden seeded with seedOrg and a
// sink on it in import mode; groups is ORG_GROUPS_ENABLED on the server and
// vaultwarden_groups in the sink's configuration.
func newVaultwarden(t *testing.T, groups bool) *env {
	t.Helper()
	return newEnv(t, bwemu.Options{Vaultwarden: true, VaultwardenGroups: groups}, func(c *Config) {
		c.Mode, c.VaultwardenGroups = ModeImport, groups
	})
}

// applyImport runs ApplyBulk on a cleared request log, as the Syncer does
// in import mode (it never calls State).
func (e *env) applyImport(ops ...sync.Op) []sync.OpError {
	e.t.Helper()
	e.emu.ClearRequests()
	for i := range ops {
		ops[i].Bulk = true
	}
	return e.sink.ApplyBulk(context.Background(), ops)
}

// importBodies returns the bodies of the logged import requests, and fails
// the test unless each holds exactly Vaultwarden's three fields.
func (e *env) importBodies() []string {
	e.t.Helper()
	var out []string
	for _, r := range e.emu.Requests() {
		if r.Route != importRoute {
			continue
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.Body), &raw); err != nil {
			e.t.Fatalf("import body: %v", err)
		}
		if len(raw) != 3 || string(raw["overwriteExisting"]) != "false" || raw["groups"] == nil || raw["members"] == nil {
			e.t.Errorf("import body is not {groups, members, overwriteExisting: false}: %.300s", r.Body)
		}
		out = append(out, r.Body)
	}
	return out
}

// Ops as the Syncer hands them over in import mode: members and groups are
// known by their ledger ids.
func vwRevoke(email, ext string) sync.Op {
	return sync.Op{Action: sync.ActionRevoke, MemberID: sync.LedgerIDPrefix + ext, Email: email, ExternalID: ext}
}

func vwRestore(email, ext string) sync.Op {
	return sync.Op{Action: sync.ActionRestore, MemberID: sync.LedgerIDPrefix + ext, Email: email, ExternalID: ext}
}

func vwInvite(email, ext string) sync.Op {
	return sync.Op{Action: sync.ActionInvite, Email: email, ExternalID: ext}
}

func vwSetMembers(ext, name string, members ...string) sync.Op {
	return sync.Op{Action: sync.ActionSetGroupMembers, GroupID: sync.LedgerIDPrefix + ext, ExternalID: ext, Name: name, Members: members}
}

func TestImportMode_IsStateless(t *testing.T) {
	e := newVaultwarden(t, false)
	ctx := context.Background()
	if !e.sink.Stateless() {
		t.Fatal("Stateless() = false in import mode")
	}
	if _, err := e.sink.State(ctx); !errors.Is(err, ErrCannotRead) {
		t.Errorf("State: %v, want ErrCannotRead", err)
	}
	if err := e.sink.Apply(ctx, vwInvite("x@example.com", "x")); !errors.Is(err, ErrCannotRead) {
		t.Errorf("Apply: %v, want ErrCannotRead", err)
	}
	if seats, err := e.sink.Seats(ctx); err != nil || seats.Known {
		t.Errorf("Seats = %+v, %v; want unknown", seats, err)
	}
	if on, err := e.sink.SCIMEnabled(ctx); on || err != nil {
		t.Errorf("SCIMEnabled = %v, %v; want false", on, err)
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests, want none: %v", n, e.routes())
	}
	e.sink.cfg.SCIM.Enabled = true
	if on, _ := e.sink.SCIMEnabled(ctx); !on {
		t.Error("SCIMEnabled = false with scim.enabled asserted")
	}

	api := newEnv(t, bwemu.Options{}, nil)
	if api.sink.Stateless() {
		t.Error("Stateless() = true in api mode")
	}
}

func TestImportMode_OneRequestCarriesEveryChange(t *testing.T) {
	e := newVaultwarden(t, true)
	errs := e.applyImport(
		vwInvite("Carol@Example.com", "u4"),
		vwRestore("rita@example.com", "u3"),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Design"},
		vwSetMembers("g9", "Design", "u1", "u4"),
		vwSetMembers("g1", "Engineering", "u2"),
		vwRevoke("alice@example.com", "u1"),
	)
	noErrors(t, errs)
	want := `{"groups":[` +
		`{"name":"Design","externalId":"g9","memberExternalIds":["u1","u4"]},` +
		`{"name":"Engineering","externalId":"g1","memberExternalIds":["u2"]}],` +
		`"members":[` +
		`{"email":"alice@example.com","externalId":"u1","deleted":true},` +
		`{"email":"rita@example.com","externalId":"u3","deleted":false},` +
		`{"email":"carol@example.com","externalId":"u4","deleted":false}],` +
		`"overwriteExisting":false}`
	if diff := cmp.Diff([]string{want}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
	if got, want := e.routes(), []string{"POST /identity/connect/token 200", importRoute + " 200"}; !cmp.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}

	if m := e.member(aliceID); m.Status != bwemu.StatusRevoked {
		t.Errorf("alice = status %d, want revoked", m.Status)
	}
	if m := e.member(ritaID); m.Status != bwemu.StatusConfirmed {
		t.Errorf("rita = status %d, want restored to confirmed", m.Status)
	}
	carol, ok := e.memberByEmail("carol@example.com")
	if !ok || carol.ExternalID != "u4" || carol.Status != bwemu.StatusInvited {
		t.Errorf("carol = %+v (found %v), want invited with external id u4", carol, ok)
	}
	members := func(ext string) []string {
		gs := e.groupsByExternalID(ext)
		if len(gs) != 1 {
			t.Fatalf("%d groups with external id %s, want 1", len(gs), ext)
		}
		return sorted(gs[0].MemberIDs)
	}
	if diff := cmp.Diff(sorted([]string{aliceID, carol.ID}), members("g9")); diff != "" {
		t.Errorf("Design members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{bobID}, members("g1")); diff != "" {
		t.Errorf("Engineering members (-want +got):\n%s", diff)
	}
}

func TestImportMode_GroupsOffAreNotSent(t *testing.T) {
	e := newVaultwarden(t, false)
	errs := e.applyImport(
		vwInvite("carol@example.com", "u4"),
		sync.Op{Action: sync.ActionCreateGroup, ExternalID: "g9", Name: "Design"},
		vwSetMembers("g9", "Design", "u4"),
	)
	// dirbridge leaves the groups out before planning; operations that
	// arrive anyway fail, naming the setting, and the members still go.
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want the two group operations refused", errs)
	}
	for _, err := range errs {
		if !err.Op.Action.IsGroup() || !strings.Contains(err.Error(), "vaultwarden_groups") || !strings.Contains(err.Error(), "ORG_GROUPS_ENABLED") {
			t.Errorf("error %v does not name the group setting", err)
		}
	}
	want := `{"groups":[],"members":[{"email":"carol@example.com","externalId":"u4","deleted":false}],"overwriteExisting":false}`
	if diff := cmp.Diff([]string{want}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
	if gs := e.groupsByExternalID("g9"); len(gs) != 0 {
		t.Errorf("group g9 was created: %+v", gs)
	}
}

func TestImportMode_RenamesAreRefused(t *testing.T) {
	e := newVaultwarden(t, true)
	rename := sync.Op{Action: sync.ActionUpdateGroup, GroupID: "ledger:g1", ExternalID: "g1", Name: "Eng", OldName: "Engineering"}

	// The plan reports renames in import mode; one that arrives anyway
	// fails, and goes in no request: its entry would replace the membership.
	errs := e.applyImport(rename, vwSetMembers("g1", "Engineering", "u1", "u2"))
	if len(errs) != 1 || errs[0].Op.Action != sync.ActionUpdateGroup || !strings.Contains(errs[0].Error(), "cannot update_group") {
		t.Fatalf("errors = %v, want the rename refused", errs)
	}
	want := `{"groups":[{"name":"Engineering","externalId":"g1","memberExternalIds":["u1","u2"]}],"members":[],"overwriteExisting":false}`
	if diff := cmp.Diff([]string{want}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
	g := e.groupsByExternalID("g1")[0]
	if g.Name != "Engineering" || !cmp.Equal(sorted(g.MemberIDs), sorted([]string{aliceID, bobID})) {
		t.Errorf("group g1 = %q with %v, want Engineering with alice and bob", g.Name, g.MemberIDs)
	}
}

func TestImportMode_KeptMembersStayInTheGroup(t *testing.T) {
	e := newVaultwarden(t, true)
	keep := vwSetMembers("g1", "Engineering", "u2")
	keep.KeepIDs = []string{"ledger:u1"}
	bad := vwSetMembers("g2", "Ops", "u2")
	bad.KeepIDs = []string{aliceID}
	errs := e.applyImport(keep, bad)
	if len(errs) != 1 || errs[0].Op.ExternalID != "g2" || !strings.Contains(errs[0].Error(), "cannot name by external id") {
		t.Fatalf("errors %v, want one for g2's unnamed member", errs)
	}
	want := `{"groups":[{"name":"Engineering","externalId":"g1","memberExternalIds":["u1","u2"]}],"members":[],"overwriteExisting":false}`
	if diff := cmp.Diff([]string{want}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
}

func TestImportMode_RefusesWhatTheImportCannotDo(t *testing.T) {
	e := newVaultwarden(t, true)
	errs := e.applyImport(
		sync.Op{Action: sync.ActionLink, MemberID: handID, Email: "hand@example.com", ExternalID: "u9"},
		sync.Op{Action: sync.ActionRemove, MemberID: "ledger:u1", Email: "alice@example.com", ExternalID: "u1"},
		sync.Op{Action: sync.ActionDeleteGroup, GroupID: "ledger:g2", ExternalID: "g2", Name: "Ops"},
		sync.Op{Action: sync.ActionInvite, Email: "", ExternalID: "u8"},
		sync.Op{Action: sync.ActionRevoke, Email: "bob@example.com", ExternalID: ""},
		vwInvite("dave@example.com", "u5"),
		vwRevoke("DAVE@example.com", "u6"), // the same email: Vaultwarden would match one member
		vwRestore("eve@example.com", "u5"), // the same external id
	)
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	want := []string{
		"link hand@example.com: bitwarden: mode: import cannot link: Vaultwarden's import endpoint has no such change",
		"remove alice@example.com: bitwarden: mode: import cannot remove: Vaultwarden's import endpoint has no such change",
		"delete_group Ops: bitwarden: mode: import cannot delete_group: Vaultwarden's import endpoint has no such change",
		"invite member u8: bitwarden: invite through the import endpoint needs an email: Vaultwarden matches members by email",
		"revoke bob@example.com: bitwarden: revoke through the import endpoint needs an external id",
		`revoke DAVE@example.com: bitwarden: dave@example.com is also in this import (invite of external id "u5"); ` +
			"Vaultwarden matches members by email, so only the first goes",
		`restore eve@example.com: bitwarden: external id "u5" is also in this import (invite of dave@example.com); only the first goes`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	wantBody := `{"groups":[],"members":[{"email":"dave@example.com","externalId":"u5","deleted":false}],"overwriteExisting":false}`
	if diff := cmp.Diff([]string{wantBody}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
	if m := e.member(aliceID); m.Status != bwemu.StatusConfirmed {
		t.Errorf("alice = status %d, want untouched", m.Status)
	}
}

func TestImportMode_BatchesLargeImports(t *testing.T) {
	e := newVaultwarden(t, true)
	ops := invites(1100)
	ops = append(ops, vwSetMembers("g1", "Engineering", "n0", "n1099"), vwSetMembers("g2", "Ops", "n1"))
	noErrors(t, e.applyImport(ops...))
	type sizes struct{ Members, Groups int }
	var got []sizes
	for _, body := range e.importBodies() {
		var req struct{ Members, Groups []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
		got = append(got, sizes{len(req.Members), len(req.Groups)})
	}
	if diff := cmp.Diff([]sizes{{500, 0}, {500, 0}, {100, 2}}, got); diff != "" {
		t.Errorf("entries per request (-want +got):\n%s", diff)
	}
	byExt := map[string]bwemu.Member{}
	for _, m := range e.emu.Dump().Members {
		byExt[m.ExternalID] = m
	}
	for i := range 1100 {
		if m := byExt[fmt.Sprintf("n%d", i)]; m.Email != fmt.Sprintf("new%d@example.com", i) {
			t.Fatalf("member n%d = %+v, want new%d@example.com", i, m, i)
		}
	}
	g := e.groupsByExternalID("g1")[0]
	if want := sorted([]string{byExt["n0"].ID, byExt["n1099"].ID}); !cmp.Equal(sorted(g.MemberIDs), want) {
		t.Errorf("g1 members %v, want %v: a group must find members imported by an earlier request", g.MemberIDs, want)
	}
}

// vwErrorBody is Vaultwarden's error JSON for msg (src/error.rs).
func vwErrorBody(msg string) string {
	return `{"message":"` + msg + `","error":"","error_description":"","validationErrors":{"":["` + msg + `"]},` +
		`"errorModel":{"message":"` + msg + `","object":"error"},"exceptionMessage":null,"exceptionStackTrace":null,` +
		`"innerExceptionMessage":null,"object":"error"}`
}

func TestImportMode_FailedRequestFailsItsOperations(t *testing.T) {
	e := newVaultwarden(t, false)
	// The first request fails as Vaultwarden does when it cannot mail an
	// invitation; the second goes through.
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/organization/import", Status: 400,
		Body: vwErrorBody("Error sending invite: SMTP error"), Count: 1})
	errs := e.applyImport(invites(600)...)
	if len(errs) != 500 {
		t.Fatalf("%d failed operations, want the first request's 500", len(errs))
	}
	want := "invite new0@example.com: import request 1 of 2: bitwarden: POST /public/organization/import: 400 Error sending invite: SMTP error"
	if got := errs[0].Error(); got != want {
		t.Errorf("error = %q\nwant    %q", got, want)
	}
	if _, ok := e.memberByEmail("new599@example.com"); !ok {
		t.Error("the second request's members were not imported")
	}

	// A request Vaultwarden's router refuses (a catcher page) reads as its description.
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/organization/import", Status: 422, Count: 1,
		Body: `{"error":{"code":422,"reason":"Unprocessable Entity","description":"The request was well-formed but was unable to be followed due to semantic errors."}}`})
	errs = e.applyImport(vwInvite("x@example.com", "x"))
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Error(), "422 The request was well-formed but was unable to be followed due to semantic errors.") {
		t.Errorf("errors %v", errs)
	}
}

func TestImportMode_Check(t *testing.T) {
	e := newVaultwarden(t, false)
	got, err := e.sink.Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := fmt.Sprintf("logged in to %s/api as organization %s; import endpoint answers "+
		"(Vaultwarden: the organization cannot be read; dirbridge works from its ledger)", e.base, e.emu.OrgID())
	if got != want {
		t.Errorf("Check = %q\nwant    %q", got, want)
	}
	if diff := cmp.Diff([]string{`{"groups":[],"members":[],"overwriteExisting":false}`}, e.importBodies()); diff != "" {
		t.Errorf("import requests (-want +got):\n%s", diff)
	}
	if e.emu.Stats().Invitations != 0 || len(e.emu.Dump().Members) != len(seedOrg().Members) {
		t.Error("the empty import changed the organization")
	}
}

func TestImportMode_LoginErrors(t *testing.T) {
	e := newVaultwarden(t, false)
	e.sink.secret = "wrong"
	_, err := e.sink.Check(context.Background())
	if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, sync.ErrAbort) {
		t.Fatalf("Check with a wrong secret: %v, want ErrUnauthorized", err)
	}
	for _, want := range []string{"Incorrect client_secret", "the client id or secret is wrong",
		"Vaultwarden has an organization API key only once an owner has viewed it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Count(err.Error(), "Incorrect client_secret") != 1 {
		t.Errorf("the message is repeated: %v", err)
	}
	// ApplyBulk stops at it: one login attempt, every operation failed.
	errs := e.applyImport(vwInvite("a@example.com", "a"), vwRevoke("alice@example.com", "u1"))
	if len(errs) != 2 || !errors.Is(errs[1], ErrUnauthorized) {
		t.Errorf("errors %v, want both operations failed as unauthorized", errs)
	}
	if n := e.count("POST /identity/connect/token", 0); n != 1 {
		t.Errorf("%d login attempts, want 1", n)
	}
}

func TestImportMode_LogsInAgainWhenTheTokenExpires(t *testing.T) {
	e := newVaultwarden(t, false)
	noErrors(t, e.applyImport(vwInvite("a@example.com", "a")))
	e.emu.ExpireTokens()
	noErrors(t, e.applyImport(vwInvite("b@example.com", "b")))
	want := []string{importRoute + " 401", "POST /identity/connect/token 200", importRoute + " 200"}
	if diff := cmp.Diff(want, e.routes()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestAPIMode_OnVaultwardenSaysToUseImportMode(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, nil)
	_, err := e.sink.State(context.Background())
	if err == nil || !strings.Contains(err.Error(), "set bitwarden.mode: import") ||
		!strings.Contains(err.Error(), "404 The requested resource could not be found.") {
		t.Errorf("State on Vaultwarden in api mode: %v", err)
	}
	if n := e.count(http.MethodGet+" /api/public/groups", 0); n != 0 {
		t.Errorf("read on after the members list failed")
	}
}

func TestImportMode_RefusesAGroupLargerThanVaultwardenReads(t *testing.T) {
	e := newVaultwarden(t, true)
	huge := make([]string, 700_000)
	for i := range huge {
		huge[i] = fmt.Sprintf("uid=user%07d,ou=people,dc=example", i) // 34 bytes: 25 MB in all
	}
	errs := e.applyImport(vwSetMembers("g9", "Everyone", huge...), vwInvite("a@example.com", "a"))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "more than the 20 MB Vaultwarden reads in one request") {
		t.Fatalf("errors %v, want the huge group refused", errs)
	}
	if n := len(e.importBodies()); n != 1 {
		t.Errorf("%d import requests, want 1 (the invite)", n)
	}
}
