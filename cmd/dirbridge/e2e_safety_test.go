package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// The safety tests run the built binary against the emulator, across runs
// that share a state directory.

func ownerOnly() bwemu.Org {
	return bwemu.Org{Members: []bwemu.Member{{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner}}}
}

// withGroups is directoryOf(n) plus groups given as name: member indexes.
func withGroups(n int, groups map[string][]int) string {
	var b strings.Builder
	b.WriteString(directoryOf(n))
	b.WriteString("groups:\n")
	for name, idx := range groups {
		var ids []string
		for _, i := range idx {
			ids = append(ids, fmt.Sprintf("u%03d", i))
		}
		fmt.Fprintf(&b, "  - {id: %s, name: %s, members: [%s]}\n", strings.ToLower(name), name, strings.Join(ids, ", "))
	}
	return b.String()
}

func memberByExt(org bwemu.Org, ext string) (bwemu.Member, bool) {
	for _, m := range org.Members {
		if m.ExternalID == ext {
			return m, true
		}
	}
	return bwemu.Member{}, false
}

func TestE2E_GracePeriodAcrossRuns(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeConfig("sync: {on_missing: remove, remove_after: 0s, remove_after_runs: 3}\n")
	e.writeDirectory(directoryOf(5))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(directoryOf(4)) // u004 leaves
	var statuses []string
	for range 3 {
		mustCode(t, e.run("sync"), exitOK)
		m, ok := memberByExt(e.emu.Dump(), "u004")
		switch {
		case !ok:
			statuses = append(statuses, "removed")
		case m.Status == bwemu.StatusRevoked:
			statuses = append(statuses, "revoked")
		default:
			statuses = append(statuses, "active")
		}
	}
	if got := strings.Join(statuses, ","); got != "revoked,revoked,removed" {
		t.Errorf("u004 over three runs: %s; want revoked, revoked, removed", got)
	}
}

func TestE2E_ReturningPersonRestoredWithAccessIntact(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeDirectory(withGroups(3, map[string][]int{"Eng": {0, 1}}))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(strings.Replace(withGroups(3, map[string][]int{"Eng": {0, 1}}),
		"{id: u001, email: user001@example.com}", "{id: u001, email: user001@example.com, disabled: true}", 1))
	mustCode(t, e.run("sync"), exitOK)
	if m, _ := memberByExt(e.emu.Dump(), "u001"); m.Status != bwemu.StatusRevoked {
		t.Fatalf("disabled user not revoked: %+v", m)
	}
	e.writeDirectory(withGroups(3, map[string][]int{"Eng": {0, 1}}))
	r := e.run("sync")
	mustCode(t, r, exitOK)
	org := e.emu.Dump()
	if m, _ := memberByExt(org, "u001"); m.Status == bwemu.StatusRevoked {
		t.Fatalf("returning user not restored: %+v", m)
	}
	if got := strings.Join(groupMembers(org)["Eng"], ","); got != "user000@example.com,user001@example.com" {
		t.Errorf("Eng = %s; the returning user lost their group", got)
	}
}

func TestE2E_ForeignMemberLeftAloneUntilAdopted(t *testing.T) {
	seed := ownerOnly()
	seed.Members = append(seed.Members, bwemu.Member{Email: "scim.user@example.com", Status: bwemu.StatusConfirmed,
		Type: bwemu.TypeUser, ExternalID: "okta-00u1"})
	e := newEnv(t, bwemu.Options{}, seed)
	e.writeDirectory(directoryOf(3))
	r := e.run("sync")
	mustCode(t, r, exitOK)
	if m, _ := memberByExt(e.emu.Dump(), "okta-00u1"); m.Status == bwemu.StatusRevoked {
		t.Fatal("a foreign member was revoked")
	}
	if !strings.Contains(r.stdout, "scim.user@example.com") || !strings.Contains(r.stdout, "not one dirbridge manages") {
		t.Errorf("the foreign member is not reported:\n%s", r.stdout)
	}
	e.writeConfig("sync: {adopt_foreign: true}\n")
	mustCode(t, e.run("sync"), exitOK)
	if m, _ := memberByExt(e.emu.Dump(), "okta-00u1"); m.Status != bwemu.StatusRevoked {
		t.Errorf("adopt_foreign did not manage the member: %+v", m)
	}
}

func TestE2E_EachThresholdHoldsOnlyTheDestructivePart(t *testing.T) {
	tests := []struct {
		name        string
		config      string
		before      string
		after       string
		wantInGuard string
	}{
		{
			name:        "Revoke",
			config:      "safety: {max_deletes: 100, max_deletes_percent: 100, thresholds: {revoke: {count: 2, percent: 0}}}\n",
			before:      directoryOf(20),
			after:       directoryOf(17) + "  - {id: new1, email: new1@example.com}\n",
			wantInGuard: "safety.thresholds.revoke.count",
		},
		{
			name:        "MaxDeletes",
			before:      directoryOf(20),
			after:       directoryOf(15) + "  - {id: new1, email: new1@example.com}\n",
			wantInGuard: "safety.max_deletes_percent",
		},
		{
			name:        "DeleteGroup",
			config:      "safety: {thresholds: {delete_group: {count: 1, percent: 0}}}\n",
			before:      withGroups(4, map[string][]int{"A": {0}, "B": {1}, "C": {2}}),
			after:       withGroups(4, map[string][]int{"A": {0}}) + "  - {id: d, name: D, members: [u003]}\n",
			wantInGuard: "safety.thresholds.delete_group.count",
		},
		{
			name:        "MembershipRemovals",
			config:      "safety: {thresholds: {membership_removals: {count: 2, percent: 0}}}\n",
			before:      withGroups(5, map[string][]int{"A": {0, 1, 2, 3, 4}}),
			after:       withGroups(5, map[string][]int{"A": {0}}) + "  - {id: d, name: D, members: [u003]}\n",
			wantInGuard: "safety.thresholds.membership_removals.count",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, bwemu.Options{}, ownerOnly())
			e.writeConfig(tt.config)
			e.writeDirectory(tt.before)
			mustCode(t, e.run("sync"), exitOK)
			before := e.emu.Dump()
			after := tt.after
			e.writeDirectory(after)
			r := e.run("sync")
			mustCode(t, r, exitRefused)
			if !strings.Contains(r.stdout+r.stderr, tt.wantInGuard) {
				t.Errorf("refusal does not name %s:\n%s", tt.wantInGuard, r.stdout)
			}
			org := e.emu.Dump()
			for _, m := range org.Members {
				if m.Status == bwemu.StatusRevoked {
					t.Errorf("%s was revoked despite the guard", m.Email)
				}
			}
			if len(org.Groups) < len(before.Groups) {
				t.Errorf("groups went from %d to %d despite the guard", len(before.Groups), len(org.Groups))
			}
			for name, ms := range groupMembers(before) {
				now := groupMembers(org)[name]
				for _, m := range ms {
					if !strings.Contains(strings.Join(now, ","), m) {
						t.Errorf("%s was taken out of %s despite the guard", m, name)
					}
				}
			}
			// The non-destructive part went ahead.
			switch {
			case strings.Contains(after, "new1@"):
				if _, ok := memberByExt(org, "new1"); !ok {
					t.Error("the invitation was held too")
				}
			case strings.Contains(after, "name: D"):
				if _, ok := groupMembers(org)["D"]; !ok {
					t.Error("the new group was held too")
				}
			}
		})
	}
}

func TestE2E_ScopeChangeHeldThenAccepted(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeDirectory(directoryOf(10))
	mustCode(t, e.run("sync"), exitOK)
	// The source now reads another file, which lacks one person.
	other := filepath.Join(e.dir, "hr-export.yaml")
	os.WriteFile(other, []byte(directoryOf(9)), 0o600)
	cfg, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, []byte(strings.Replace(string(cfg), filepath.Join(e.dir, "directory.yaml"), other, 1)), 0o600)
	r := e.run("sync")
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "scope_change") && !strings.Contains(r.stdout, "accept-scope-change") {
		t.Errorf("the refusal does not explain the scope change:\n%s", r.stdout)
	}
	if m, _ := memberByExt(e.emu.Dump(), "u009"); m.Status == bwemu.StatusRevoked {
		t.Fatal("revoked despite the scope change")
	}
	mustCode(t, e.run("sync", "--accept-scope-change"), exitOK)
	if m, _ := memberByExt(e.emu.Dump(), "u009"); m.Status != bwemu.StatusRevoked {
		t.Fatalf("accepted scope change did not apply: %+v", m)
	}
	mustCode(t, e.run("sync"), exitOK) // the new scope is now the known one
}

func TestE2E_SuddenDropHeld(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeConfig("safety: {max_deletes: 0, max_deletes_percent: 0, thresholds: {revoke: {count: 0, percent: 0}}}\n")
	e.writeDirectory(directoryOf(10))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(directoryOf(7))
	r := e.run("sync")
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "source_drop") {
		t.Errorf("not held by the drop guard:\n%s", r.stdout)
	}
	mustCode(t, e.run("sync", "--force"), exitOK)
}

func TestE2E_AlertCommandAndWebhookReceiveTheRefusal(t *testing.T) {
	var mu stdsync.Mutex
	var posts []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var doc map[string]any
		json.Unmarshal(body, &doc)
		mu.Lock()
		posts = append(posts, doc)
		mu.Unlock()
	}))
	defer hook.Close()
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	out := filepath.Join(e.dir, "alert.json")
	e.writeConfig(fmt.Sprintf("alerts:\n  command: cat > %s\n  webhook: %s/hook\n", out, hook.URL))
	e.writeDirectory(directoryOf(30))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(directoryOf(10))
	mustCode(t, e.run("sync"), exitRefused)

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the alert command did not run: %v", err)
	}
	var doc struct {
		Kind     string `json:"kind"`
		Refusals []struct {
			Guard string `json:"guard"`
		} `json:"refusals"`
		Affected []struct {
			Action  string `json:"action"`
			Subject string `json:"subject"`
		} `json:"affected"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("alert JSON: %v\n%s", err, data)
	}
	if doc.Kind != "refusal" || len(doc.Refusals) == 0 || len(doc.Affected) != 20 {
		t.Errorf("alert = %+v; want a refusal naming the 20 people held back", doc)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 || posts[0]["kind"] != "refusal" {
		t.Errorf("webhook got %d posts: %v", len(posts), posts)
	}
}

func TestE2E_SavedPlan(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeDirectory(directoryOf(30))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(directoryOf(15)) // a large change: review it
	plan := filepath.Join(e.dir, "plan.json")
	r := e.run("sync", "--dry-run", "--save-plan", plan)
	mustCode(t, r, exitRefused) // a real run would be refused; the plan is saved for review
	if _, err := os.Stat(plan); err != nil {
		t.Fatalf("plan not saved: %v\n%s", err, r.stdout)
	}

	// Something changes before the plan is applied: refused as stale.
	e.writeDirectory(directoryOf(16))
	r = e.run("apply", plan)
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout+r.stderr, "changed since the plan was saved") {
		t.Errorf("stale plan not explained:\n%s\n%s", r.stdout, r.stderr)
	}
	if e.emu.Stats().ByRouteStatus["POST /api/public/members/{id}/revoke"][200] != 0 {
		t.Fatal("a stale plan was applied")
	}

	// Back as reviewed: applied exactly.
	e.writeDirectory(directoryOf(15))
	r = e.run("apply", plan)
	mustCode(t, r, exitOK)
	revoked := 0
	for _, m := range e.emu.Dump().Members {
		if m.Status == bwemu.StatusRevoked {
			revoked++
		}
	}
	if revoked != 15 {
		t.Errorf("%d revoked by the approved plan, want 15", revoked)
	}
	mustCode(t, e.run("apply", filepath.Join(e.dir, "nope.json")), exitUsage)
}

func TestE2E_SeatShortageStopsInvites(t *testing.T) {
	three := 3
	e := newEnv(t, bwemu.Options{Seats: &three, MaxAutoscaleSeats: &three}, ownerOnly())
	e.writeDirectory(withGroups(2, map[string][]int{"Eng": {0}}))
	mustCode(t, e.run("sync"), exitOK) // owner + 2: the seats are full
	e.writeDirectory(withGroups(4, map[string][]int{"Eng": {0}, "Ops": {1}}))
	r := e.run("sync")
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "seats") {
		t.Errorf("the shortage is not explained:\n%s", r.stdout)
	}
	org := e.emu.Dump()
	if _, ok := memberByExt(org, "u002"); ok {
		t.Error("invited despite the seat shortage")
	}
	if _, ok := groupMembers(org)["Ops"]; !ok {
		t.Error("the group creation was held too")
	}
	if n := e.emu.Stats().ByRouteStatus["POST /api/public/members"][400]; n != 0 {
		t.Errorf("%d invitations were sent and refused by the server", n)
	}
}

func TestE2E_Check(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, ownerOnly())
	e.writeDirectory(directoryOf(3))
	r := e.run("check")
	mustCode(t, r, exitPending)
	if !strings.Contains(r.stdout, "invite 3") {
		t.Errorf("check output:\n%s", r.stdout)
	}
	mustCode(t, e.run("sync"), exitOK)
	mustCode(t, e.run("check"), exitOK)
}
