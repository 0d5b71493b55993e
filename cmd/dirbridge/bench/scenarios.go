package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// dirbridge runs the dirbridge binary with a configuration.
type dirbridge struct {
	bin, config string
}

var secretEnv = []string{"BENCH_BW_SECRET=" + orgSecret, "BENCH_LDAP_PW="}

func (d dirbridge) command(args ...string) string {
	return d.bin + " " + strings.Join(append(args, "--config", d.config), " ")
}

// sync runs `dirbridge sync` with args and fails unless it exits 0.
func (d dirbridge) sync(args ...string) (measured, error) {
	m, err := runProcess(secretEnv, d.bin, append(append([]string{"sync"}, args...), "--config", d.config)...)
	if err == nil && m.code != 0 {
		err = fmt.Errorf("%s exited %d:\n%s\n%s", d.command(append([]string{"sync"}, args...)...), m.code,
			tail(m.stdout, 20), tail(m.stderr, 20))
	}
	return m, err
}

// plan is what `dirbridge sync --dry-run --output json` prints, in part.
type plan struct {
	Summary    map[string]int `json:"summary"`
	Operations []struct {
		Action string `json:"action"`
		Path   string `json:"path"`
	} `json:"operations"`
}

func (p plan) total() int { return len(p.Operations) }

// dryRun returns the plan a run would carry out.
func (d dirbridge) dryRun(extra ...string) (plan, error) {
	m, err := d.sync(append([]string{"--dry-run", "--output", "json"}, extra...)...)
	if err != nil {
		return plan{}, err
	}
	var p plan
	if err := json.Unmarshal([]byte(m.stdout), &p); err != nil {
		return plan{}, fmt.Errorf("decode the dry run's plan: %w", err)
	}
	return p, nil
}

// bitwardenBlock is the configuration shared by every scenario.
func bitwardenBlock(url, stateDir, extra string) string {
	return fmt.Sprintf(`bitwarden:
  server: %s
  organization_id: %s
  client_id: organization.%s
  client_secret: ${BENCH_BW_SECRET}
  timeout: 120s
  bulk: auto
%sstate_dir: %s
`, url, orgID, orgID, extra, stateDir)
}

func writeConfig(path, text string) error { return os.WriteFile(path, []byte(text), 0o600) }

// firstSync is the first-sync scenario.
func firstSync(o options, work string, r *report) error {
	const users, groups = 10000, 500
	dir := filepath.Join(work, "first-sync")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fd := newFileDirectory(users, groups, 3)
	if err := fd.write(filepath.Join(dir, "directory.yaml")); err != nil {
		return err
	}
	emu, err := startEmulator(o.bwemu, dir, "-rate-limit")
	if err != nil {
		return err
	}
	defer emu.stop()
	// The client paces itself as it does on api.bitwarden.com.
	cfg := fmt.Sprintf("source:\n  type: file\n  file: {path: %s}\n", filepath.Join(dir, "directory.yaml")) +
		bitwardenBlock(emu.url, filepath.Join(dir, "state"), "  rate_limit: {per_second: 5, per_minute: 60}\n")
	db := dirbridge{bin: o.dirbridge, config: filepath.Join(dir, "config.yaml")}
	if err := writeConfig(db.config, cfg); err != nil {
		return err
	}
	p, err := db.dryRun()
	if err != nil {
		return err
	}
	if bulk := countPath(p, "invite", "import"); bulk == 0 {
		r.skip("first-sync", fmt.Sprintf("this dirbridge plans %d invites one by one: the Syncer does not take "+
			"the bulk path (wire bitwarden.Config.BulkOptions into sync.Syncer.Bulk); at 60 writes a minute that takes hours",
			p.Summary["invite"]))
		return nil
	}
	if err := emu.clear(); err != nil {
		return err
	}
	m, err := db.sync()
	if err != nil {
		return err
	}
	st, err := emu.stats()
	if err != nil {
		return err
	}
	org, err := emu.dump()
	if err != nil {
		return err
	}
	problems := fd.check(org)
	after, err := db.dryRun()
	if err != nil {
		return err
	}
	verified := len(problems) == 0 && after.total() == 0
	name := fmt.Sprintf("first sync %dk users, %d groups", users/1000, groups)
	r.add(name, fmt.Sprintf("%s, %d requests (%d imports, %d answered 429), peak RSS %.0f MB",
		secs(m.wall), st.Requests, st.ByRoute["POST /api/public/organization/import"], st.ByStatus[429], m.rssMB()),
		"< 60 s, exit 0 (no failed operation)", m.wall < time.Minute, db.command("sync"))
	detail := "organization checked: every user and group as the directory says; next plan empty"
	if !verified {
		detail = fmt.Sprintf("%d differences (%s); next plan: %v", len(problems), strings.Join(problems, "; "), after.Summary)
	}
	r.add("  verified", detail, "in step", verified, db.command("sync", "--dry-run"))
	return nil
}

// countPath counts the plan's operations of an action that take a path
// ("import" or "api").
func countPath(p plan, action, path string) int {
	n := 0
	for _, op := range p.Operations {
		if op.Action == action && op.Path == path {
			n++
		}
	}
	return n
}

// ldapScenarios runs noop and churn on one directory and organization.
func ldapScenarios(o options, work string, r *report) error {
	const users, groups, pageSize = 100000, 2000, 1000
	dir := filepath.Join(work, "ldap")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	t := time.Now()
	d, err := startDirectory(o.ldapbench, users, groups)
	if err != nil {
		return err
	}
	defer d.stop()
	fmt.Printf("slapd with %d users and %d groups ready in %s\n", users, groups, secs(time.Since(t)))
	emu, err := startEmulator(o.bwemu, dir, "-self-hosted")
	if err != nil {
		return err
	}
	defer emu.stop()
	secretEnv[1] = "BENCH_LDAP_PW=" + d.ReaderPW
	ldapBlock := func(extra string) string {
		return fmt.Sprintf(`source:
  type: ldap
  ldap:
    url: %s
    bind_dn: %s
    bind_password: ${BENCH_LDAP_PW}
    preset: openldap
    base_dn: %s
    page_size: %d
    users: {base_dn: "ou=people,%s"%s}
    groups: {base_dn: "ou=groups,%s"}
`, d.URL, d.ReaderDN, d.Suffix, pageSize, d.Suffix, extra, d.Suffix)
	}
	stateDir := filepath.Join(dir, "state")
	db := dirbridge{bin: o.dirbridge, config: filepath.Join(dir, "config.yaml")}
	if err := writeConfig(db.config, ldapBlock("")+bitwardenBlock(emu.url, stateDir, "")); err != nil {
		return err
	}
	m, err := db.sync()
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("first sync %dk users (self-hosted)", users/1000), fmt.Sprintf("%s, peak RSS %.0f MB", secs(m.wall), m.rssMB()),
		"", true, db.command("sync"))
	if o.wants("noop") {
		if err := noop(o, d, emu, db, pageSize, r); err != nil {
			return fmt.Errorf("noop: %w", err)
		}
	}
	if !o.wants("churn") {
		return nil
	}
	churnDB := dirbridge{bin: o.dirbridge, config: filepath.Join(dir, "churn.yaml")}
	cfg := ldapBlock(", disabled_filter: \"(employeeType=disabled)\"") + bitwardenBlock(emu.url, stateDir, "")
	if err := writeConfig(churnDB.config, cfg); err != nil {
		return err
	}
	if err := churnScenario(d, emu, churnDB, users, groups, r); err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	return nil
}

// noop measures syncs of an organization already in step.
func noop(o options, d *directory, emu *emulator, db dirbridge, pageSize int, r *report) error {
	if p, err := db.dryRun(); err != nil {
		return err
	} else if p.total() != 0 {
		return fmt.Errorf("after the first sync the plan is not empty: %v", p.Summary)
	}
	var floors, walls []time.Duration
	var rss int64
	writes := 0
	for range o.runs {
		floor, err := ldapsearchFloor(d, pageSize)
		if err != nil {
			return err
		}
		if err := emu.clear(); err != nil {
			return err
		}
		m, err := db.sync()
		if err != nil {
			return err
		}
		st, err := emu.stats()
		if err != nil {
			return err
		}
		floors, walls = append(floors, floor), append(walls, m.wall)
		rss, writes = max(rss, m.rssKB), writes+st.Writes
		fmt.Printf("no-op sync: %s (ldapsearch %s), %d writes, peak RSS %.0f MB\n", secs(m.wall), secs(floor), st.Writes, m.rssMB())
	}
	floor, wall := median(floors), median(walls)
	ratio := wall.Seconds() / floor.Seconds()
	search := fmt.Sprintf("ldapsearch -x -LLL -H %s -D %s -w ... -E pr=%d/noprompt -b ou=people,%s (users, then groups)",
		d.URL, d.ReaderDN, pageSize, d.Suffix)
	r.add("no-op sync: writes", fmt.Sprintf("%d in %d runs", writes, o.runs), "0", writes == 0, db.command("sync"))
	r.add("no-op sync: wall time", fmt.Sprintf("%s = %.2fx ldapsearch's %s (medians of %d)", secs(wall), ratio, secs(floor), o.runs),
		"<= 3x", ratio <= 3, search)
	r.add("no-op sync: peak RSS", fmt.Sprintf("%.0f MB", float64(rss)/1024), "< 150 MB", rss < 150*1024, "wait4 rusage of "+db.command("sync"))
	return nil
}

// churnScenario changes 1% of the users and compares the writes of the
// next sync with its plan.
func churnScenario(d *directory, emu *emulator, db dirbridge, users, groups int, r *report) error {
	// The disabled_filter changes what the source reads: one run accepts
	// the new scope (nobody is disabled yet: no change).
	if p, err := db.dryRun("--accept-scope-change"); err != nil {
		return err
	} else if p.total() != 0 {
		return fmt.Errorf("before the changes the plan is not empty: %v", p.Summary)
	}
	if _, err := db.sync("--accept-scope-change"); err != nil {
		return err
	}
	c, err := applyChurn(d, users, groups, users/100)
	if err != nil {
		return err
	}
	// The deletion guards would hold 300 revocations back; --force lets
	// them through (the dry run shows the same plan).
	p, err := db.dryRun("--force")
	if err != nil {
		return err
	}
	if err := emu.clear(); err != nil {
		return err
	}
	m, err := db.sync("--force")
	if err != nil {
		return err
	}
	st, err := emu.stats()
	if err != nil {
		return err
	}
	var planned []string
	for action, n := range p.Summary {
		if n > 0 {
			planned = append(planned, fmt.Sprintf("%s %d", action, n))
		}
	}
	slices.Sort(planned)
	var routes []string
	for route, n := range st.ByRoute {
		if strings.HasPrefix(route, "POST ") || strings.HasPrefix(route, "PUT ") || strings.HasPrefix(route, "DELETE ") {
			if !strings.Contains(route, "/identity/") {
				routes = append(routes, fmt.Sprintf("%s %d", route, n))
			}
		}
	}
	slices.Sort(routes)
	r.add("churn: directory changes", fmt.Sprintf("%d users: %d new mails, %d disabled, %d moved between groups (%d groups touched)",
		c.mails+c.disabled+c.moves, c.mails, c.disabled, c.moves, c.movedGroups), "", true, "")
	r.add("churn: planned operations", strings.Join(planned, ", ")+
		fmt.Sprintf("; the %d mail changes plan nothing (the Public API cannot change a member's email)", c.mails), "", true,
		db.command("sync", "--dry-run", "--output", "json", "--force"))
	r.add("churn: writes", fmt.Sprintf("%d (%s) for %d planned operations, in %s", st.Writes, strings.Join(routes, ", "), p.total(), secs(m.wall)),
		"writes = planned", st.Writes == p.total(), db.command("sync", "--force"))
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// planBenchmark runs BenchmarkPlan at a million users and reports its
// time, allocation and the process's peak RSS (inputs included).
func planBenchmark(r *report) error {
	args := []string{"test", "-run", "^$", "-bench", "BenchmarkPlan/users=1000000/", "-benchmem", "-benchtime", "3x", "./sync"}
	command := "go " + strings.Join(args, " ")
	fmt.Println("$ " + command)
	m, err := runProcess(nil, "go", args...)
	if err != nil {
		return err
	}
	if m.code != 0 {
		return fmt.Errorf("%s exited %d:\n%s%s", command, m.code, tail(m.stdout, 20), tail(m.stderr, 20))
	}
	var nsPerOp, rssMB, rss1MB, bytesPerOp float64
	for _, line := range strings.Split(m.stdout, "\n") {
		if !strings.HasPrefix(line, "BenchmarkPlan/") {
			continue
		}
		fmt.Println(line)
		f := strings.Fields(line)
		for i := 1; i+1 < len(f); i++ {
			var v float64
			if _, err := fmt.Sscan(f[i], &v); err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				nsPerOp = v
			case "peak-RSS-MB":
				rssMB = v
			case "plan1-peak-RSS-MB":
				rss1MB = v
			case "B/op":
				bytesPerOp = v
			}
		}
	}
	if nsPerOp == 0 {
		return fmt.Errorf("no BenchmarkPlan result in:\n%s", m.stdout)
	}
	r.add("plan 1M users, 50k groups: time", fmt.Sprintf("%.2f s per plan (Normalize + Diff, 1%% changes)", nsPerOp/1e9),
		"< 2 s", nsPerOp < 2e9, command)
	r.add("plan 1M users, 50k groups: memory", fmt.Sprintf("peak RSS %.0f MB after one plan, inputs included "+
		"(%.0f MB after all runs); %.0f MB allocated per plan", rss1MB, rssMB, bytesPerOp/1e6),
		"< 1.5 GB", rss1MB < 1536, "")
	return nil
}
