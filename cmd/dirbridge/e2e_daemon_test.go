package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// notifySocket is a test's own sd_notify socket: it collects every message
// the daemon sends.
type notifySocket struct {
	path string
	conn *net.UnixConn
	mu   stdsync.Mutex
	msgs []string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	ns := &notifySocket{path: path, conn: conn}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ns.mu.Lock()
			ns.msgs = append(ns.msgs, string(buf[:n]))
			ns.mu.Unlock()
		}
	}()
	return ns
}

func (ns *notifySocket) has(prefix string) bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, m := range ns.msgs {
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, prefix) {
				return true
			}
		}
	}
	return false
}

// daemonProc is a running `dirbridge run`.
type daemonProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error
}

type syncBuffer struct {
	mu stdsync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (e *e2e) startDaemon(extraEnv ...string) *daemonProc {
	e.t.Helper()
	cmd := e.command("run")
	cmd.Env = append(cmd.Env, extraEnv...)
	d := &daemonProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	e.t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
	})
	return d
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemonProc) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the daemon did not exit\n%s", d.stderr)
	}
	return d.cmd.ProcessState.ExitCode()
}

var metricsAddr = regexp.MustCompile(`msg="serving metrics" url=(http://\S+/metrics)`)

// scrape GETs url and returns the body.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func directoryOf(n int) string {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: u%03d, email: user%03d@example.com}\n", i, i)
	}
	return b.String()
}

func countByExt(org bwemu.Org) map[string]int {
	out := map[string]int{}
	for _, m := range org.Members {
		if m.ExternalID != "" {
			out[m.ExternalID]++
		}
	}
	return out
}

func TestE2E_Daemon(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, bwemu.Org{Members: []bwemu.Member{{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner}}})
	e.writeDirectory(directoryOf(3))
	e.writeConfig("run:\n  schedule: \"@every 1s\"\nmetrics:\n  listen: 127.0.0.1:0\n")
	ns := newNotifySocket(t)
	d := e.startDaemon("NOTIFY_SOCKET="+ns.path, "WATCHDOG_USEC=200000")

	// It syncs at start, tells systemd it is ready, and pings the watchdog.
	waitFor(t, "the first sync", func() bool {
		select {
		case <-d.done:
			t.Fatalf("the daemon exited: %v\n%s", d.err, d.stderr)
		default:
		}
		return len(countByExt(e.emu.Dump())) == 3
	})
	waitFor(t, "READY=1", func() bool { return ns.has("READY=1") })
	waitFor(t, "WATCHDOG=1", func() bool { return ns.has("WATCHDOG=1") })
	waitFor(t, "a STATUS line", func() bool { return ns.has("STATUS=last sync ok") })

	// It serves metrics that describe the run, and a health check.
	var metricsURL string
	waitFor(t, "the metrics address", func() bool {
		if m := metricsAddr.FindStringSubmatch(d.stderr.String()); m != nil {
			metricsURL = m[1]
		}
		return metricsURL != ""
	})
	body := scrape(t, metricsURL)
	for _, want := range []string{`dirbridge_runs_total{result="ok"} 1`, `dirbridge_operations_applied_total{action="invite"} 3`,
		"dirbridge_source_users 3", "dirbridge_org_members ", `dirbridge_guard_refusals_total{guard="max_deletes"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(body, "dirbridge_last_success_timestamp_seconds") {
		t.Error("metrics lack the last success")
	}
	if h := scrape(t, strings.TrimSuffix(metricsURL, "/metrics")+"/healthz"); !strings.HasPrefix(h, "ok") {
		t.Errorf("/healthz = %q", h)
	}

	// It syncs again on schedule.
	e.writeDirectory(directoryOf(4))
	waitFor(t, "a scheduled sync", func() bool { return len(countByExt(e.emu.Dump())) == 4 })

	// A second instance on the same state directory is refused.
	r := e.run("run")
	mustCode(t, r, exitFailed)
	if !strings.Contains(r.stderr, "in use by another dirbridge") {
		t.Errorf("second instance:\n%s", r.stderr)
	}

	// SIGHUP with a bad configuration keeps the running one.
	good, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, []byte("source: {type: ftp}\n"), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the failed reload to be logged", func() bool { return strings.Contains(d.stderr.String(), "reload failed") })
	e.writeDirectory(directoryOf(5))
	waitFor(t, "a sync with the old configuration", func() bool { return len(countByExt(e.emu.Dump())) == 5 })

	// SIGHUP with a good, changed configuration switches to it.
	other := filepath.Join(e.dir, "other.yaml")
	os.WriteFile(other, []byte(directoryOf(6)), 0o600)
	os.WriteFile(e.config, bytes.Replace(good, []byte(filepath.Join(e.dir, "directory.yaml")), []byte(other), 1), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "a sync with the new configuration", func() bool { return len(countByExt(e.emu.Dump())) == 6 })
	if !ns.has("RELOADING=1") {
		t.Error("no RELOADING=1 sent on SIGHUP")
	}

	// SIGTERM in the middle of a run: it stops between operations and
	// exits cleanly, with its state whole.
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/members", Latency: 200 * time.Millisecond})
	os.WriteFile(other, []byte(directoryOf(20)), 0o600)
	waitFor(t, "the run to be under way", func() bool { return len(countByExt(e.emu.Dump())) >= 8 })
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.exitCode(t); code != 0 {
		t.Fatalf("exit code after SIGTERM: %d\n%s", code, d.stderr)
	}
	if n := len(countByExt(e.emu.Dump())); n >= 20 {
		t.Fatalf("the run was not stopped part-way (%d members)", n)
	}
	var ledger struct{ Members map[string]any }
	data, err := os.ReadFile(filepath.Join(e.dir, "state", "ledger.json"))
	if err != nil || json.Unmarshal(data, &ledger) != nil {
		t.Fatalf("ledger after SIGTERM: %v\n%s", err, data)
	}
	entries, _ := os.ReadDir(filepath.Join(e.dir, "state"))
	for _, de := range entries {
		if strings.Contains(de.Name(), ".tmp") {
			t.Errorf("half-written file left: %s", de.Name())
		}
	}
	e.emu.ClearFaults()
	mustCode(t, e.run("sync"), exitOK)
	for ext, n := range countByExt(e.emu.Dump()) {
		if n != 1 {
			t.Errorf("%s has %d members", ext, n)
		}
	}
	if n := len(countByExt(e.emu.Dump())); n != 20 {
		t.Errorf("%d members after finishing, want 20", n)
	}
	if !ns.has("STOPPING=1") {
		t.Error("no STOPPING=1 sent")
	}
	// status reads the last run from the state directory.
	r = e.run("status")
	mustCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "result:        ok") {
		t.Errorf("status:\n%s", r.stdout)
	}
}

func TestE2E_DaemonExits3WhenSCIMIsOn(t *testing.T) {
	e := newEnv(t, bwemu.Options{SCIMEnabled: true, SCIMKey: "k"}, demoSeed())
	e.writeDirectory(demoDirectory)
	e.writeConfig(fmt.Sprintf("  scim: {url: %s/scim/v2/%s, api_key: k}\nrun:\n  schedule: \"@every 1s\"\n", e.url, e2eOrgID))
	d := e.startDaemon()
	if code := d.exitCode(t); code != exitRefused {
		t.Fatalf("exit code %d, want 3\n%s", code, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "SCIM provisioning is on") {
		t.Errorf("no clear message:\n%s", d.stderr)
	}
	if e.emu.Stats().Writes != 0 {
		t.Error("the daemon wrote to an organization that SCIM provisions")
	}
}

func TestE2E_DaemonKeepsRunningWhenAGuardTrips(t *testing.T) {
	seed := bwemu.Org{Members: []bwemu.Member{{Email: "owner@example.com", Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner}}}
	e := newEnv(t, bwemu.Options{}, seed)
	e.writeDirectory(directoryOf(30))
	mustCode(t, e.run("sync"), exitOK)
	e.writeDirectory(directoryOf(10)) // two thirds gone: held
	e.writeConfig("run:\n  schedule: \"@every 1s\"\n")
	d := e.startDaemon()
	waitFor(t, "two refused runs", func() bool { return strings.Count(d.stderr.String(), "msg=\"sync done\" ") >= 2 })
	select {
	case <-d.done:
		t.Fatalf("the daemon exited on a refusal: %v\n%s", d.err, d.stderr)
	default:
	}
	revoked := 0
	for _, m := range e.emu.Dump().Members {
		if m.Status == bwemu.StatusRevoked {
			revoked++
		}
	}
	if revoked != 0 {
		t.Errorf("%d revoked despite the guard", revoked)
	}
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	held := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "held back by guard") {
			held++
		}
	}
	if held < 20 {
		t.Errorf("%d held-back lines, want one per person (20) per run", held)
	}
}
