package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maxExposure is the worst `systemd-analyze security` rating a service may
// have (0 is fully locked down, 10 is a bare unit).
const maxExposure = 1.5

var services = []string{"dirbridge.service", "dirbridge-dry-run.service"}

// systemdAnalyze returns the path of systemd-analyze. Without it the test
// skips, except in CI (CI=true), where .ci/run installs the systemd package.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is required in CI (apt-get install systemd): %v", err)
		}
		t.Skipf("systemd-analyze not found (apt-get install systemd): %v", err)
	}
	return path
}

var exposureLine = regexp.MustCompile(`Overall exposure level for (\S+): (\d+\.\d+)`)

func TestUnits_SecurityExposure(t *testing.T) {
	analyze := systemdAnalyze(t)
	for _, unit := range services {
		t.Run(unit, func(t *testing.T) {
			out, err := exec.Command(analyze, "security", "--offline=true", "--no-pager", "./"+unit).CombinedOutput()
			if err != nil {
				t.Fatalf("systemd-analyze security %s: %v\n%s", unit, err, out)
			}
			m := exposureLine.FindSubmatch(out)
			if m == nil {
				t.Fatalf("no exposure level in the output of systemd-analyze security %s:\n%s", unit, out)
			}
			score, err := strconv.ParseFloat(string(m[2]), 64)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: exposure %.1f", unit, score)
			if score > maxExposure {
				t.Errorf("%s: exposure %.1f, want at most %.1f; what systemd-analyze holds against it:\n%s",
					unit, score, maxExposure, failedChecks(out))
			}
		})
	}
}

// failedChecks returns the lines of systemd-analyze security's table that
// cost exposure.
func failedChecks(out []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "✗") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestUnits_Verify runs systemd-analyze verify on copies of the units in
// which the dirbridge binary's path names an executable that exists (this
// test's own binary): verify checks that ExecStart= can run, and dirbridge
// is not installed where the tests run.
func TestUnits_Verify(t *testing.T) {
	analyze := systemdAnalyze(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, unit := range append(slices.Clone(services), "dirbridge-dry-run.timer") {
		data, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "/usr/local/bin/dirbridge", self))
		path := filepath.Join(dir, unit)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	// verify exits 0 on mere warnings (an unknown key, say): fail on those too.
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// unit is a unit file's settings: key -> the values of its assignments, in
// order.
type unit map[string][]string

func readUnit(t *testing.T, name string) unit {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	sc := bufio.NewScanner(f)
	var cont string // a line continued with a backslash
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			line, cont = cont+" "+line, ""
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cont = s
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a setting: %q", name, line)
		}
		u[k] = append(u[k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUnit_DaemonSettings pins the settings the daemon's behaviour depends
// on, with the reason each matters.
func TestUnit_DaemonSettings(t *testing.T) {
	u := readUnit(t, "dirbridge.service")
	want := []struct{ key, value, why string }{
		{"Type", "notify", "dirbridge run sends READY=1 and STATUS="},
		{"ExecStart", "/usr/local/bin/dirbridge run --config /etc/dirbridge/config.yaml", "the daemon command"},
		{"ExecReload", "/bin/kill -HUP $MAINPID", "SIGHUP reloads the configuration"},
		{"Restart", "on-failure", "a crash or a hang is restarted"},
		{"RestartPreventExitStatus", "2 3", "bad configuration (2) and the SCIM guard (3) cannot be fixed by a restart"},
		{"Environment", "GOTRACEBACK=crash", "a Go panic or the watchdog's SIGABRT would otherwise exit 2, which prevents the restart"},
		{"LimitCORE", "0", "no core dump of a process holding the API key"},
		{"WatchdogSec", "5min", "the daemon pings from its own goroutine"},
		{"TimeoutStopSec", "150s", "longer than one operation (2 minutes)"},
		{"StateDirectory", "dirbridge", "$STATE_DIRECTORY=/var/lib/dirbridge"},
		{"StateDirectoryMode", "0700", "the state is private"},
		{"LoadCredential", "bw-client-secret:/etc/dirbridge/bw-client-secret", "the README's secret setup"},
		{"EnvironmentFile", "-/etc/dirbridge/env", "${VAR} values for config.yaml"},
	}
	for _, w := range want {
		if !slices.Contains(u[w.key], w.value) {
			t.Errorf("dirbridge.service: %s=%q, want %s=%s: %s", w.key, u[w.key], w.key, w.value, w.why)
		}
	}
}

// TestUnit_DryRunIsAsHardenedAsTheDaemon checks that the dry run keeps the
// daemon's sandbox and credentials, so that a change to one is made to both.
func TestUnit_DryRunIsAsHardenedAsTheDaemon(t *testing.T) {
	daemon, dry := readUnit(t, "dirbridge.service"), readUnit(t, "dirbridge-dry-run.service")
	own := map[string]bool{ // settings that belong to one unit only
		"Type": true, "ExecStart": true, "ExecReload": true, "Restart": true, "RestartSec": true,
		"RestartPreventExitStatus": true, "WatchdogSec": true, "TimeoutStopSec": true, "TimeoutStartSec": true,
		"StateDirectory": true, "Description": true, "WantedBy": true,
	}
	keys := map[string]bool{}
	for k := range daemon {
		keys[k] = true
	}
	for k := range dry {
		keys[k] = true
	}
	for key := range keys {
		if own[key] {
			continue
		}
		if diff := cmp.Diff(daemon[key], dry[key]); diff != "" {
			t.Errorf("%s differs between dirbridge.service and dirbridge-dry-run.service (-daemon +dry run):\n%s", key, diff)
		}
	}
	if got := dry["ExecStart"]; len(got) != 1 || !strings.Contains(got[0], "dirbridge sync --dry-run --output json --config /etc/dirbridge/config.yaml") {
		t.Errorf("dirbridge-dry-run.service: ExecStart=%q, want a dirbridge sync --dry-run --output json", got)
	}
	if got := dry["Type"]; !slices.Equal(got, []string{"oneshot"}) {
		t.Errorf("dirbridge-dry-run.service: Type=%q, want oneshot", got)
	}
}
