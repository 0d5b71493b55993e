package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// script writes an executable shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// newNotifier returns a Notifier for cfg whose log lines go to the
// returned buffer, as JSON.
func newNotifier(t *testing.T, cfg Config) (*Notifier, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	n, err := New(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return n, &logs
}

func TestSend_CommandReadsAlertOnStdin(t *testing.T) {
	t.Setenv("DIRBRIDGE_TEST_SECRET", "hunter2") // as an EnvironmentFile= secret would be
	t.Setenv("LC_TIME", "C.UTF-8")
	dir := t.TempDir()
	cmd := script(t, dir, "alert.sh", `cat > "$1/stdin.json"; env > "$1/env"`)
	cfg := DefaultConfig()
	cfg.Command = cmd + " '" + dir + "'"
	n, logs := newNotifier(t, cfg)
	a := sampleAlert()
	if err := n.Send(t.Context(), a); err != nil {
		t.Fatalf("Send: %v", err)
	}

	stdin, err := os.ReadFile(filepath.Join(dir, "stdin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got Alert
	if err := json.Unmarshal(stdin, &got); err != nil {
		t.Fatalf("stdin is not an alert: %v\n%s", err, stdin)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("alert on stdin (-sent +received):\n%s", d)
	}

	envText, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(envText), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	for k, want := range map[string]string{
		"DIRBRIDGE_ALERT_KIND":         "refusal",
		"DIRBRIDGE_ALERT_RUN_ID":       "4c1a9e0b2f3d",
		"DIRBRIDGE_ALERT_DRY_RUN":      "false",
		"DIRBRIDGE_ALERT_ORGANIZATION": "6f0c2d4e-0000-4000-8000-000000000001",
		"DIRBRIDGE_ALERT_SOURCE":       "ldap",
		"DIRBRIDGE_ALERT_GUARDS":       "max_deletes,seats",
		"DIRBRIDGE_ALERT_HOLDS":        "destructive,invites",
		"DIRBRIDGE_ALERT_AFFECTED":     "4",
		"DIRBRIDGE_ALERT_TEXT":         a.Text,
		"PATH":                         os.Getenv("PATH"),
		"LC_TIME":                      "C.UTF-8",
	} {
		if got := env[k]; got != want {
			t.Errorf("$%s = %q, want %q", k, got, want)
		}
	}
	if _, ok := env["DIRBRIDGE_TEST_SECRET"]; ok || strings.Contains(string(envText), "hunter2") {
		t.Errorf("the command inherited dirbridge's environment:\n%s", envText)
	}
	if !strings.Contains(logs.String(), `"msg":"alert sent","component":"alert","channel":"command"`) {
		t.Errorf("no Info line for the delivery:\n%s", logs)
	}
}

func TestSend_CommandFailureQuotesStderr(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Command = script(t, t.TempDir(), "fail.sh", "cat >/dev/null\necho 'pager: no route' >&2\necho 'to host' >&2\nexit 3\n")
	n, logs := newNotifier(t, cfg)
	err := n.Send(t.Context(), sampleAlert())
	if err == nil {
		t.Fatal("Send succeeded with a failing command")
	}
	if want := "alert command: exit status 3; stderr: pager: no route to host"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	var ce *ChannelError
	if !errors.As(err, &ce) || ce.Channel != ChannelCommand {
		t.Errorf("err is not a command *ChannelError: %#v", err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("err does not carry the exit status: %#v", err)
	}
	if strings.Contains(logs.String(), "alert sent") {
		t.Errorf("a failed command was logged as sent:\n%s", logs)
	}
}

func TestSend_CommandStderrIsCapped(t *testing.T) {
	cfg := DefaultConfig()
	// 8,200 bytes of stderr, without reading stdin (the write of the alert
	// then fails with EPIPE, which must not matter).
	cfg.Command = `i=0; while [ $i -lt 100 ]; do printf '%081d\n' 0 >&2; i=$((i+1)); done; exit 1`
	n, _ := newNotifier(t, cfg)
	err := n.Send(t.Context(), sampleAlert())
	if err == nil {
		t.Fatal("Send succeeded with a failing command")
	}
	if !strings.HasSuffix(err.Error(), "... (4104 more bytes)") || len(err.Error()) > stderrLimit+100 {
		t.Errorf("err is not capped at %d bytes of stderr: %d bytes, ending %q", stderrLimit, len(err.Error()), err.Error()[len(err.Error())-40:])
	}
}

func TestSend_CommandTimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	cfg := DefaultConfig()
	cfg.Command = script(t, dir, "hang.sh", "sleep 300 &\necho $! > '"+pidFile+"'\necho 'waiting' >&2\nwait\n")
	cfg.Timeout = 500 * time.Millisecond
	n, _ := newNotifier(t, cfg)
	err := n.Send(t.Context(), sampleAlert())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want one matching context.DeadlineExceeded", err)
	}
	if want := "alert command: killed after the 500ms timeout: context deadline exceeded; stderr: waiting"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the script did not start its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL is delivered at once, but the process disappears when the
	// kernel gets to it; wait for that, within reason.
	for deadline := time.Now().Add(10 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("the script's child (pid %d) survived the timeout", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "123 (sleep) S ...".
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func TestSend_CommandStopsWhenContextEnds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Command = "sleep 300"
	n, _ := newNotifier(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := n.Send(ctx, sampleAlert())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one matching context.Canceled", err)
	}
	if strings.Contains(err.Error(), "timeout") {
		t.Errorf("err = %q blames the timeout", err)
	}
}

func TestCommandEnv_DefaultsPath(t *testing.T) {
	env := commandEnv([]string{"SECRET=x", "HOME=/var/lib/dirbridge", "LC_ALL=C"}, Alert{Kind: KindRefusal})
	want := []string{"HOME=/var/lib/dirbridge", "LC_ALL=C", "PATH=" + defaultPath}
	if d := cmp.Diff(want, env[:3]); d != "" {
		t.Errorf("inherited environment (-want +got):\n%s", d)
	}
}
