// Command bench measures dirbridge end to end, through the built binary,
// against the Bitwarden emulator (cmd/bwemu) and a private slapd (the LDAP
// benchmark's -serve mode), and prints each figure against its target with
// the command that produced it. Four scenarios:
//
//   - plan: Normalize and Diff of 1,000,000 users and 50,000 groups against
//     an organization of the same size with 1% changes, as the Go benchmark
//     BenchmarkPlan in ./sync (run with go test from the repository's root).
//     Targets: under 2 s a plan, peak RSS of the process under 1.5 GB.
//   - first-sync: 10,000 users and 500 groups (file source) into an empty
//     organization (an owner only) that enforces Bitwarden's cloud rate
//     limits, with bulk: auto. Target: finished and verified under 60 s,
//     no failed operation.
//   - noop: 100,000 users and 2,000 groups (300,000 memberships) in slapd,
//     the organization already in step (after a first sync against a
//     self-hosted emulator without rate limits), then a second sync.
//     Targets: zero writes, wall time at most 3x that of ldapsearch -E
//     pr=1000/noprompt reading the same entries, peak RSS under 150 MB.
//   - churn: then 1% of the 100,000 users change in slapd (new mail,
//     disabled, moved to another group) and dirbridge syncs again. Target:
//     the writes equal the operations the plan needed, by route.
//
// run.sh builds the binaries and runs this command from the repository's
// root:
//
//	cmd/dirbridge/bench/run.sh                    # everything (make bench)
//	cmd/dirbridge/bench/run.sh -only first-sync   # flags go to this command
//
// It exits 1 when a target is missed, 2 when a scenario cannot run. Without
// slapd and ldapsearch the LDAP scenarios are skipped with a message.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.dirbridge, "dirbridge", "bin/dirbridge", "the dirbridge binary")
	flag.StringVar(&o.bwemu, "bwemu", "bin/bwemu", "the bwemu binary")
	flag.StringVar(&o.ldapbench, "ldapbench", "bin/ldapbench", "the LDAP benchmark binary (sources/ldap/bench)")
	only := flag.String("only", "plan,first-sync,noop,churn", "scenarios to run, comma-separated")
	flag.IntVar(&o.runs, "runs", 3, "measured runs of the no-op sync and of ldapsearch (median)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.Parse()
	for _, s := range strings.Split(*only, ",") {
		o.only = append(o.only, strings.TrimSpace(s))
	}
	r := &report{}
	if err := run(o, r); err != nil {
		r.print()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	r.print()
	if r.failed {
		os.Exit(1)
	}
}

type options struct {
	dirbridge, bwemu, ldapbench string
	only                        []string
	runs                        int
	keep                        bool
}

func (o options) wants(name string) bool {
	for _, s := range o.only {
		if s == name {
			return true
		}
	}
	return false
}

func run(o options, r *report) error {
	work, err := os.MkdirTemp("", "dirbridge-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if o.wants("plan") {
		if err := planBenchmark(r); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
	}
	if o.wants("first-sync") {
		if err := firstSync(o, work, r); err != nil {
			return fmt.Errorf("first-sync: %w", err)
		}
	}
	if !o.wants("noop") && !o.wants("churn") {
		return nil
	}
	for _, tool := range []string{"slapd", "ldapsearch"} {
		if !installed(tool) {
			r.skip("noop, churn", tool+" is not installed (Debian: apt-get install slapd ldap-utils)")
			return nil
		}
	}
	return ldapScenarios(o, work, r)
}

// installed reports whether a program is in PATH or in /usr/sbin.
func installed(name string) bool {
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	_, err := os.Stat("/usr/sbin/" + name)
	return err == nil
}

// report collects the figures and prints them at the end.
type report struct {
	lines  []string
	failed bool
}

// add records a figure; target is "" for information only.
func (r *report) add(name, measured, target string, ok bool, command string) {
	verdict := "info"
	if target != "" {
		verdict = map[bool]string{true: "PASS", false: "FAIL"}[ok]
		r.failed = r.failed || !ok
	}
	line := fmt.Sprintf("%-4s  %-34s %s", verdict, name, measured)
	if target != "" {
		line += "   (target " + target + ")"
	}
	if command != "" {
		line += "\n        $ " + command
	}
	r.lines = append(r.lines, line)
	fmt.Println(line)
}

func (r *report) skip(name, why string) {
	line := fmt.Sprintf("SKIP  %-34s %s", name, why)
	r.lines = append(r.lines, line)
	fmt.Println(line)
}

func (r *report) print() {
	fmt.Println("\n== dirbridge end-to-end benchmark ==")
	for _, l := range r.lines {
		fmt.Println(l)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
