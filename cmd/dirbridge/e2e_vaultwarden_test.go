package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// The Vaultwarden tests run dirbridge with bitwarden.mode: import against the
// emulator's Vaultwarden mode, which has only the import endpoint: dirbridge
// cannot read the organization and works from its ledger.

const vwImportRoute = "POST /api/public/organization/import"

// vaultwardenSeed is a Vaultwarden organization before dirbridge: its owner
// and a member added by hand.
func vaultwardenSeed() bwemu.Org {
	return bwemu.Org{Members: []bwemu.Member{
		{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner},
		{Email: "hand@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser},
	}}
}

// imports counts the import requests the emulator has served.
func imports(emu *bwemu.Server) int { return emu.Stats().ByRoute[vwImportRoute] }

// mustContain fails the test unless out holds every one of wants.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestE2EVaultwarden_Lifecycle(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, vaultwardenSeed())
	// One leaver of three is a third of the directory: let it through.
	e.writeConfig("  mode: import\nsync: {on_missing: remove, remove_after: 0s}\nsafety: {max_source_drop_percent: 50}\n")
	dir := `users:
  - {id: u1, email: alice@example.com}
  - {id: u2, email: bob@example.com%s}
  - {id: u3, email: carol@example.com}
groups:
  - {id: g1, name: Engineering, members: [u1, u2]}
`
	e.writeDirectory(fmt.Sprintf(dir, ""))

	r := e.run("validate")
	mustCode(t, r, exitOK)
	mustContain(t, r.stdout, "bitwarden: ok: logged in to "+e.url+"/api as organization "+e2eOrgID,
		"import endpoint answers (Vaultwarden: the organization cannot be read; dirbridge works from its ledger)",
		"scim guard: ok")

	writes := e.emu.Stats().Writes
	r = e.run("sync", "--dry-run")
	mustCode(t, r, exitOK)
	mustContain(t, r.stdout, "+ invite", "alice@example.com", "carol@example.com", "[via import]")
	if w := e.emu.Stats().Writes; w != writes {
		t.Fatalf("a dry run made %d writes", w-writes)
	}

	before := imports(e.emu)
	r = e.run("sync")
	mustCode(t, r, exitOK)
	if n := imports(e.emu) - before; n != 1 {
		t.Errorf("the first sync sent %d imports, want 1", n)
	}
	ms := members(e.emu.Dump())
	for ext, email := range map[string]string{"u1": "alice@example.com", "u2": "bob@example.com", "u3": "carol@example.com"} {
		if m := ms[email]; m.ExternalID != ext || m.Status != bwemu.StatusInvited {
			t.Errorf("%s = %+v, want invited with external id %s", email, m, ext)
		}
	}
	if m := ms["owner@example.com"]; m.Status != bwemu.StatusConfirmed || m.ExternalID != "" {
		t.Errorf("the owner was changed: %+v", m)
	}
	if len(e.emu.Dump().Groups) != 0 {
		t.Errorf("groups were created without vaultwarden_groups: %+v", e.emu.Dump().Groups)
	}
	// The sink says so, or the wiring when it leaves the groups out before the plan.
	mustContain(t, r.stderr, "groups are not synced", "vaultwarden_groups", "ORG_GROUPS_ENABLED")

	step := func(name string, wantStdout ...string) {
		t.Helper()
		r := e.run("sync")
		if r.code != exitOK {
			t.Fatalf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
		}
		for _, want := range wantStdout {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: output lacks %q:\n%s", name, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "remove") {
			t.Errorf("%s: the import cannot remove, yet the plan says so:\n%s", name, r.stdout)
		}
	}
	status := func(email string) int {
		t.Helper()
		m, ok := members(e.emu.Dump())[email]
		if !ok {
			t.Fatalf("%s is no longer a member", email)
		}
		return m.Status
	}

	writes = e.emu.Stats().Writes
	step("nothing to do", "No changes")
	if w := e.emu.Stats().Writes; w != writes {
		t.Errorf("a sync with nothing to do made %d writes", w-writes)
	}

	e.writeDirectory(fmt.Sprintf(dir, ", disabled: true"))
	step("bob disabled", "- revoke", "bob@example.com", "disabled in directory")
	if s := status("bob@example.com"); s != bwemu.StatusRevoked {
		t.Errorf("bob = status %d, want revoked", s)
	}
	step("bob still disabled", "No changes")

	e.writeDirectory(fmt.Sprintf(dir, ""))
	step("bob back", "+ restore", "bob@example.com")
	if s := status("bob@example.com"); s != bwemu.StatusInvited {
		t.Errorf("bob = status %d, want restored to invited", s)
	}

	e.writeDirectory(strings.Replace(fmt.Sprintf(dir, ""), "  - {id: u3, email: carol@example.com}\n", "", 1))
	step("carol left", "- revoke", "carol@example.com", "not in directory")
	if s := status("carol@example.com"); s != bwemu.StatusRevoked {
		t.Errorf("carol = status %d, want revoked (the import never removes)", s)
	}
	step("carol still gone", "No changes")
	if m := members(e.emu.Dump())["hand@example.com"]; m.Status != bwemu.StatusConfirmed {
		t.Errorf("the member added by hand was changed: %+v", m)
	}
}

func TestE2EVaultwarden_Groups(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true, VaultwardenGroups: true}, vaultwardenSeed())
	e.writeConfig("  mode: import\n  vaultwarden_groups: true\n")
	e.writeDirectory(`users:
  - {id: u1, email: alice@example.com}
  - {id: u2, email: bob@example.com}
  - {id: u3, email: carol@example.com}
groups:
  - {id: g1, name: Engineering, members: [u1, u2]}
  - {id: g2, name: Design, members: [u3]}
`)
	r := e.run("sync")
	mustCode(t, r, exitOK)
	if n := imports(e.emu); n != 1 {
		t.Errorf("%d imports, want 1", n)
	}
	gm := groupMembers(e.emu.Dump())
	if got := strings.Join(gm["Engineering"], ","); got != "alice@example.com,bob@example.com" {
		t.Errorf("Engineering = %s", got)
	}
	if got := strings.Join(gm["Design"], ","); got != "carol@example.com" {
		t.Errorf("Design = %s", got)
	}

	e.writeDirectory(`users:
  - {id: u1, email: alice@example.com}
  - {id: u2, email: bob@example.com}
  - {id: u3, email: carol@example.com}
groups:
  - {id: g1, name: Engineering, members: [u1, u3]}
  - {id: g2, name: Product Design, members: [u3]}
`)
	r = e.run("sync")
	mustCode(t, r, exitOK)
	mustContain(t, r.stdout, "~ set_group_members", "cannot rename groups; rename it by hand")
	gm = groupMembers(e.emu.Dump())
	if got := strings.Join(gm["Engineering"], ","); got != "alice@example.com,carol@example.com" {
		t.Errorf("Engineering = %s", got)
	}
	if _, ok := gm["Design"]; !ok {
		t.Errorf("Vaultwarden renamed the group: %v", gm)
	}
	mustContain(t, e.run("sync").stdout, "No changes")

	e.writeDirectory(`users:
  - {id: u1, email: alice@example.com}
  - {id: u2, email: bob@example.com}
  - {id: u3, email: carol@example.com}
groups:
  - {id: g1, name: Engineering, members: [u1, u3]}
`)
	r = e.run("sync")
	mustCode(t, r, exitOK)
	mustContain(t, r.stdout, "the import endpoint cannot delete groups")
	if _, ok := groupMembers(e.emu.Dump())["Design"]; !ok {
		t.Error("the group gone from the directory was deleted")
	}
}

func TestE2EVaultwarden_DeletionGuard(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, vaultwardenSeed())
	e.writeConfig("  mode: import\n")
	var all, half strings.Builder
	all.WriteString("users:\n")
	half.WriteString("users:\n")
	for n := range 30 {
		line := fmt.Sprintf("  - {id: u%02d, email: u%02d@example.com}\n", n, n)
		all.WriteString(line)
		if n < 15 {
			half.WriteString(line)
		}
	}
	e.writeDirectory(all.String())
	mustCode(t, e.run("sync"), exitOK)

	e.writeDirectory(half.String())
	writes := e.emu.Stats().Writes
	r := e.run("sync")
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "max_deletes") || e.emu.Stats().Writes != writes {
		t.Fatalf("want a max_deletes refusal and no writes:\n%s", r.stdout)
	}
	mustCode(t, e.run("sync", "--force"), exitOK)
	revoked := 0
	for _, m := range e.emu.Dump().Members {
		if m.Status == bwemu.StatusRevoked {
			revoked++
		}
	}
	if revoked != 15 {
		t.Errorf("%d revoked after --force, want 15", revoked)
	}
}

func TestE2EVaultwarden_WrongSecretAndWrongMode(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, vaultwardenSeed())
	e.writeConfig("  mode: import\n")
	e.writeDirectory("users:\n  - {id: u1, email: alice@example.com}\n")
	cmd := e.command("validate")
	cmd.Env = append(os.Environ(), "E2E_SECRET=wrong")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitFailed {
		t.Errorf("validate with a wrong secret: exit %d, want %d", cmd.ProcessState.ExitCode(), exitFailed)
	}
	mustContain(t, string(out), "bitwarden: FAILED", "Incorrect client_secret")

	// mode: api on Vaultwarden says what to set.
	e.writeConfig("")
	r := e.run("sync")
	mustCode(t, r, exitFailed)
	mustContain(t, r.stderr, "set bitwarden.mode: import")
}

// The organization cannot be read, so dirbridge does not know roles:
// protect.emails is what keeps an owner the directory yields from being
// revoked.
func TestE2EVaultwarden_ProtectedEmails(t *testing.T) {
	e := newEnv(t, bwemu.Options{Vaultwarden: true}, vaultwardenSeed())
	e.writeConfig("  mode: import\nprotect: {emails: [owner@example.com]}\n")
	dir := "users:\n  - {id: u0, email: owner@example.com%s}\n  - {id: u1, email: alice@example.com}\n"
	e.writeDirectory(fmt.Sprintf(dir, ""))
	mustCode(t, e.run("sync"), exitOK)
	owner := members(e.emu.Dump())["owner@example.com"]
	if owner.ExternalID != "u0" || owner.Status != bwemu.StatusConfirmed || owner.Type != bwemu.TypeOwner {
		t.Fatalf("owner = %+v, want Vaultwarden to have matched it by email and given it external id u0", owner)
	}

	e.writeDirectory(fmt.Sprintf(dir, ", disabled: true"))
	r := e.run("sync")
	mustCode(t, r, exitOK)
	mustContain(t, r.stdout, "No changes", "owner@example.com: disabled in directory; left alone (listed in protect.emails)")
	if s := members(e.emu.Dump())["owner@example.com"].Status; s != bwemu.StatusConfirmed {
		t.Errorf("the protected owner = status %d, want confirmed", s)
	}
}
