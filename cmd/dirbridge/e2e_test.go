package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// The end-to-end tests run the real dirbridge binary, built once here,
// against the Bitwarden emulator over real HTTP.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dirbridge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, pkg := range []string{".", "../bwemu"} {
		cmd := exec.Command("go", "build", "-o", dir+"/", pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	e2eOrgID  = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	e2eSecret = "e2e-client-secret"
)

// e2e is one end-to-end setup: an emulated organization, a directory file
// and a config pointing at both.
type e2e struct {
	t      *testing.T
	emu    *bwemu.Server
	url    string
	dir    string
	config string
	extra  string // appended to the config
}

func newEnv(t *testing.T, opt bwemu.Options, seed bwemu.Org) *e2e {
	t.Helper()
	opt.OrgID, opt.ClientSecret = e2eOrgID, e2eSecret
	if !opt.RateLimit && opt.Seats == nil {
		opt.SelfHosted = true // unless a test asks for the cloud's seats or limits
	}
	emu, url := bwemu.StartTestServer(t, opt)
	if err := emu.Seed(seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &e2e{t: t, emu: emu, url: url, dir: t.TempDir()}
	e.writeConfig("")
	return e
}

func (e *e2e) writeConfig(extra string) {
	e.t.Helper()
	e.config = filepath.Join(e.dir, "config.yaml")
	cfg := fmt.Sprintf(`source:
  type: file
  file: {path: %s}
bitwarden:
  server: %s
  organization_id: %s
  client_id: organization.%s
  client_secret: ${E2E_SECRET}
  timeout: 10s
%s`, filepath.Join(e.dir, "directory.yaml"), e.url, e2eOrgID, e2eOrgID, extra)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *e2e) writeDirectory(content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, "directory.yaml"), []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the dirbridge binary with args and the config, and waits.
func (e *e2e) run(args ...string) result {
	e.t.Helper()
	cmd := e.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run dirbridge: %v", err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (e *e2e) command(args ...string) *exec.Cmd {
	args = append(args, "--config", e.config)
	if len(args) > 0 && args[0] != "validate" && args[0] != "frobnicate" {
		args = append(args, "--state-dir", filepath.Join(e.dir, "state"))
	}
	cmd := exec.Command(filepath.Join(binDir, "dirbridge"), args...)
	cmd.Env = append(os.Environ(), "E2E_SECRET="+e2eSecret)
	return cmd
}

func mustCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}

func i(n int) *int { return &n }

// demoSeed is an organization with an owner, a hand-added admin, two
// provisioned members, one who has left the directory, an unlinked invite,
// a managed group and a hand-made one.
func demoSeed() bwemu.Org {
	return bwemu.Org{
		Organization: bwemu.OrgInfo{Seats: i(50)},
		Members: []bwemu.Member{
			{ID: "00000000-0000-0000-0000-0000000000a0", Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner},
			{ID: "00000000-0000-0000-0000-0000000000a1", Email: "alice@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser, ExternalID: "u1"},
			{ID: "00000000-0000-0000-0000-0000000000a2", Email: "bob@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser, ExternalID: "u2"},
			{ID: "00000000-0000-0000-0000-0000000000a9", Email: "old.timer@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeUser, ExternalID: "u99"},
			{ID: "00000000-0000-0000-0000-0000000000a5", Email: "erin@example.com", Status: bwemu.StatusInvited, Type: bwemu.TypeUser},
		},
		Groups: []bwemu.Group{
			{ID: "00000000-0000-0000-0000-0000000000b1", Name: "Engineering", ExternalID: "g1", MemberIDs: []string{"00000000-0000-0000-0000-0000000000a1"}},
			{ID: "00000000-0000-0000-0000-0000000000b8", Name: "Hand Made", MemberIDs: []string{"00000000-0000-0000-0000-0000000000a0"}},
		},
	}
}

const demoDirectory = `users:
  - {id: u1, email: alice@example.com, name: Alice}
  - {id: u2, email: Bob@Example.com, name: Bob}
  - {id: u3, email: carol@example.com, name: Carol}
  - {id: u5, email: erin@example.com, name: Erin}
  - {id: u6, email: frank@example.com, name: Frank, disabled: true}
groups:
  - {id: g1, name: Engineering, members: [u1, u2, u5]}
  - {id: g2, name: Design, members: [u3]}
`

// members returns the emulated organization's members by email.
func members(org bwemu.Org) map[string]bwemu.Member {
	out := map[string]bwemu.Member{}
	for _, m := range org.Members {
		out[m.Email] = m
	}
	return out
}

// groupMembers returns each group's member emails, by group name.
func groupMembers(org bwemu.Org) map[string][]string {
	email := map[string]string{}
	for _, m := range org.Members {
		email[m.ID] = m.Email
	}
	out := map[string][]string{}
	for _, g := range org.Groups {
		var es []string
		for _, id := range g.MemberIDs {
			es = append(es, email[id])
		}
		out[g.Name] = sortStrings(es)
	}
	return out
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestE2E_DryRunThenSyncThenNothingToDo(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, demoSeed())
	e.writeDirectory(demoDirectory)

	before := e.emu.Stats().Writes
	r := e.run("sync", "--dry-run")
	mustCode(t, r, exitOK)
	for _, want := range []string{"DRY RUN", "+ invite", "carol@example.com", "~ link", "erin@example.com",
		"+ create_group", `"Design"`, "~ set_group_members", "DRY RUN: nothing was changed."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "frank@example.com") {
		t.Errorf("dry-run plans something for a disabled new user:\n%s", r.stdout)
	}
	if w := e.emu.Stats().Writes; w != before {
		t.Fatalf("dry-run made %d writes", w-before)
	}

	r = e.run("sync")
	mustCode(t, r, exitOK)
	org := e.emu.Dump()
	ms := members(org)
	if ms["carol@example.com"].ExternalID != "u3" || ms["carol@example.com"].Status != bwemu.StatusInvited {
		t.Errorf("carol = %+v, want invited with external id u3", ms["carol@example.com"])
	}
	if ms["erin@example.com"].ExternalID != "u5" {
		t.Errorf("erin = %+v, want linked to u5", ms["erin@example.com"])
	}
	if _, ok := ms["frank@example.com"]; ok {
		t.Error("disabled frank was invited")
	}
	if ms["owner@example.com"].Status != bwemu.StatusConfirmed {
		t.Errorf("owner was changed: %+v", ms["owner@example.com"])
	}
	gm := groupMembers(org)
	if got := strings.Join(gm["Engineering"], ","); got != "alice@example.com,bob@example.com,erin@example.com" {
		t.Errorf("Engineering = %s", got)
	}
	if got := strings.Join(gm["Design"], ","); got != "carol@example.com" {
		t.Errorf("Design = %s", got)
	}
	if got := strings.Join(gm["Hand Made"], ","); got != "owner@example.com" {
		t.Errorf("the hand-made group was changed: %s", got)
	}

	before = e.emu.Stats().Writes
	r = e.run("sync", "--dry-run", "--output", "json")
	mustCode(t, r, exitOK)
	var plan struct {
		Summary    map[string]int `json:"summary"`
		Operations []any          `json:"operations"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, r.stdout)
	}
	if len(plan.Operations) != 0 {
		t.Errorf("second dry-run plans %v", plan.Summary)
	}
	r = e.run("sync")
	mustCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("second sync output:\n%s", r.stdout)
	}
	if w := e.emu.Stats().Writes; w != before {
		t.Errorf("a sync with nothing to do made %d writes", w-before)
	}
}

func TestE2E_KilledHalfWayConvergesWithNothingDoneTwice(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, bwemu.Org{Members: []bwemu.Member{
		{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner},
	}})
	var dir strings.Builder
	dir.WriteString("users:\n")
	for n := range 30 {
		fmt.Fprintf(&dir, "  - {id: u%02d, email: user%02d@example.com}\n", n, n)
	}
	dir.WriteString("groups:\n")
	for g := range 3 {
		fmt.Fprintf(&dir, "  - {id: g%d, name: Team %d, members: [u%02d, u%02d, u%02d]}\n", g, g, g, g+10, g+20)
	}
	e.writeDirectory(dir.String())
	// Slow invites down so that the kill lands in the middle of the run.
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/members", Latency: 150 * time.Millisecond})

	cmd := e.command("sync")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for invites(e.emu) < 8 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the sync never got going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL: no chance to finish anything
	cmd.Wait()
	if n := invites(e.emu); n >= 30 {
		t.Fatalf("the sync finished (%d invites) before it was killed", n)
	}
	e.emu.ClearFaults()

	r := e.run("sync")
	mustCode(t, r, exitOK)
	org := e.emu.Dump()
	seen := map[string]int{}
	for _, m := range org.Members {
		seen[m.ExternalID]++
	}
	for n := range 30 {
		if c := seen[fmt.Sprintf("u%02d", n)]; c != 1 {
			t.Errorf("u%02d has %d members, want 1", n, c)
		}
	}
	if got := invites(e.emu); got != 30 {
		t.Errorf("%d successful invites in all, want 30: something was done twice or lost", got)
	}
	for g, ms := range groupMembers(org) {
		if len(ms) != 3 {
			t.Errorf("%s has %d members, want 3", g, len(ms))
		}
	}
	r = e.run("sync", "--dry-run")
	mustCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("after converging, the plan is not empty:\n%s", r.stdout)
	}
}

// invites counts the successful invitations the emulator has served.
func invites(emu *bwemu.Server) int {
	return emu.Stats().ByRouteStatus["POST /api/public/members"][200]
}

func TestE2E_SCIMGuardRefuses(t *testing.T) {
	t.Run("Asserted", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{}, demoSeed())
		e.writeDirectory(demoDirectory)
		e.writeConfig("  scim: {enabled: true}\n")
		r := e.run("sync")
		mustCode(t, r, exitRefused)
		if !strings.Contains(r.stdout+r.stderr, "SCIM provisioning is on") {
			t.Errorf("refusal does not say why:\n%s\n%s", r.stdout, r.stderr)
		}
		if e.emu.Stats().Writes != 0 {
			t.Error("a refused sync wrote to the organization")
		}
		r = e.run("sync", "--dry-run")
		mustCode(t, r, exitRefused)
		if !strings.Contains(r.stdout, "A REAL RUN WOULD BE REFUSED") || !strings.Contains(r.stdout, "+ invite") {
			t.Errorf("dry-run under the SCIM guard should print the plan under a banner:\n%s", r.stdout)
		}
	})
	t.Run("AskedAndOn", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{SCIMEnabled: true, SCIMKey: "scim-key"}, demoSeed())
		e.writeDirectory(demoDirectory)
		e.writeConfig(fmt.Sprintf("  scim: {url: %s/scim/v2/%s, api_key: scim-key}\n", e.url, e2eOrgID))
		mustCode(t, e.run("sync"), exitRefused)
		if e.emu.Stats().Writes != 0 {
			t.Error("a refused sync wrote to the organization")
		}
	})
	t.Run("AskedAndOff", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{SCIMKey: "scim-key"}, demoSeed())
		e.writeDirectory(demoDirectory)
		e.writeConfig(fmt.Sprintf("  scim: {url: %s/scim/v2/%s, api_key: scim-key}\n", e.url, e2eOrgID))
		r := e.run("sync")
		mustCode(t, r, exitOK)
		if !strings.Contains(r.stderr, "401") {
			t.Errorf("a 401 from the SCIM endpoint should be logged:\n%s", r.stderr)
		}
	})
	t.Run("NoAnswerFailsClosed", func(t *testing.T) {
		e := newEnv(t, bwemu.Options{}, demoSeed())
		e.writeDirectory(demoDirectory)
		e.writeConfig("  scim: {url: http://127.0.0.1:1/scim/v2/x, api_key: k}\n")
		mustCode(t, e.run("sync"), exitFailed)
		if e.emu.Stats().Writes != 0 {
			t.Error("a sync whose SCIM check failed wrote to the organization")
		}
	})
}

func TestE2E_DeletionGuard(t *testing.T) {
	seed := bwemu.Org{Members: []bwemu.Member{{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner}}}
	var dir strings.Builder
	dir.WriteString("users:\n")
	for n := range 30 {
		seed.Members = append(seed.Members, bwemu.Member{Email: fmt.Sprintf("u%02d@example.com", n), Status: bwemu.StatusConfirmed,
			Type: bwemu.TypeUser, ExternalID: fmt.Sprintf("u%02d", n)})
		if n < 15 {
			fmt.Fprintf(&dir, "  - {id: u%02d, email: u%02d@example.com}\n", n, n)
		}
	}
	e := newEnv(t, bwemu.Options{}, seed)
	var all strings.Builder
	all.WriteString("users:\n")
	for n := range 30 {
		fmt.Fprintf(&all, "  - {id: u%02d, email: u%02d@example.com}\n", n, n)
	}
	e.writeDirectory(all.String())
	mustCode(t, e.run("sync"), exitOK) // dirbridge now manages all 30
	e.writeDirectory(dir.String())
	writes := e.emu.Stats().Writes
	r := e.run("sync")
	mustCode(t, r, exitRefused)
	if !strings.Contains(r.stdout, "max_deletes") || e.emu.Stats().Writes != writes {
		t.Fatalf("want a max_deletes refusal and no writes:\n%s", r.stdout)
	}
	r = e.run("sync", "--force")
	mustCode(t, r, exitOK)
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

func TestE2E_BadConfigListsEveryProblem(t *testing.T) {
	e := &e2e{t: t, dir: t.TempDir()}
	e.config = filepath.Join(e.dir, "config.yaml")
	os.WriteFile(e.config, []byte(`source:
  type: file
  file: {path: dir.yaml, formt: yaml}
bitwarden:
  server: not a url
  organization_id: nope
  client_id: organization.nope
  client_secret: ${UNSET_VARIABLE_FOR_TEST}
sync: {on_missing: delete}
`), 0o600)
	r := e.run("sync", "--dry-run")
	mustCode(t, r, exitUsage)
	for _, want := range []string{"source.file.formt: unknown key", "UNSET_VARIABLE_FOR_TEST is not set",
		"bitwarden.server", "bitwarden.organization_id", "sync.on_missing"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	mustCode(t, e.run("frobnicate"), exitUsage)
	mustCode(t, e.run("sync", "--output", "xml"), exitUsage)
}

func TestE2E_Validate(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, demoSeed())
	e.writeDirectory(demoDirectory)
	r := e.run("validate")
	mustCode(t, r, exitOK)
	for _, want := range []string{"configuration", "5 users", "bitwarden: ok", "scim guard: ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, r.stdout)
		}
	}
	e.writeConfig("")
	cmd := e.command("validate")
	cmd.Env = append(os.Environ(), "E2E_SECRET=wrong")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitFailed || !strings.Contains(string(out), "bitwarden: FAILED") {
		t.Errorf("validate with a wrong secret: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo is slow-ish")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./demo/demo.sh", binDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	s := string(out)
	first := strings.Index(s, "$ dirbridge sync --dry-run")
	last := strings.LastIndex(s, "$ dirbridge sync --dry-run")
	if first < 0 || last <= first || !strings.Contains(s[first:last], "+ invite") || !strings.Contains(s[last:], "No changes") {
		t.Errorf("the demo should show a plan, apply it, then find nothing to do:\n%s", s)
	}
}
