package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stderrLimit caps how much of the command's stderr an error quotes.
const stderrLimit = 4 << 10

// defaultPath is the command's PATH when dirbridge has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// passedEnv are the variables of dirbridge's environment the command
// inherits. Every other one stays behind: dirbridge's environment holds the
// ${VAR} secrets of its configuration.
var passedEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
	// systemd's directories: a command reads its own credentials from
	// $CREDENTIALS_DIRECTORY (LoadCredential=).
	"CREDENTIALS_DIRECTORY", "STATE_DIRECTORY", "RUNTIME_DIRECTORY", "INVOCATION_ID",
}

// runCommand runs the alert command with body on its stdin, in its own
// process group, which is killed when the timeout or ctx ends.
func (n *Notifier) runCommand(ctx context.Context, a Alert, body []byte) error {
	timedOut := fmt.Errorf("killed after the %s timeout: %w", n.cfg.Timeout, context.DeadlineExceeded)
	ctx, cancel := context.WithTimeoutCause(ctx, n.cfg.Timeout, timedOut)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", n.cfg.Command)
	cmd.Stdin = io.MultiReader(bytes.NewReader(body), strings.NewReader("\n"))
	stderr := &headWriter{limit: stderrLimit}
	cmd.Stderr = stderr
	cmd.Env = commandEnv(os.Environ(), a)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid names the process group: the shell and
		// everything it started.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A descendant that left the group may hold stderr open; stop waiting
	// for it soon after the kill.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		cause := context.Cause(ctx)
		if !errors.Is(cause, timedOut) {
			cause = fmt.Errorf("stopped: %w", cause) // the caller's context ended
		}
		return fmt.Errorf("%w%s", cause, stderr.quote())
	}
	return fmt.Errorf("%w%s", err, stderr.quote())
}

// commandEnv returns the command's environment: the passed variables of
// environ, and the alert's summary as DIRBRIDGE_ALERT_* variables.
func commandEnv(environ []string, a Alert) []string {
	var env []string
	havePath := false
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(passedEnv, name) || strings.HasPrefix(name, "LC_") {
			env = append(env, kv)
			havePath = havePath || name == "PATH"
		}
	}
	if !havePath {
		env = append(env, "PATH="+defaultPath)
	}
	var holds []string
	for _, r := range a.Refusals {
		if !slices.Contains(holds, r.Hold) {
			holds = append(holds, r.Hold)
		}
	}
	return append(env,
		"DIRBRIDGE_ALERT_KIND="+a.Kind,
		"DIRBRIDGE_ALERT_RUN_ID="+a.RunID,
		"DIRBRIDGE_ALERT_DRY_RUN="+strconv.FormatBool(a.DryRun),
		"DIRBRIDGE_ALERT_ORGANIZATION="+a.Organization,
		"DIRBRIDGE_ALERT_SOURCE="+a.Source,
		"DIRBRIDGE_ALERT_GUARDS="+strings.Join(a.Guards(), ","),
		"DIRBRIDGE_ALERT_HOLDS="+strings.Join(holds, ","),
		"DIRBRIDGE_ALERT_AFFECTED="+strconv.Itoa(len(a.Affected)),
		"DIRBRIDGE_ALERT_TEXT="+a.Text,
	)
}

// headWriter keeps the first limit bytes written to it and counts the rest.
type headWriter struct {
	limit   int
	buf     []byte
	dropped int
}

func (w *headWriter) Write(p []byte) (int, error) {
	keep := min(len(p), w.limit-len(w.buf))
	w.buf = append(w.buf, p[:keep]...)
	w.dropped += len(p) - keep
	return len(p), nil
}

// quote returns "; stderr: ..." with what the command wrote to stderr on
// one line, or "" when it wrote nothing.
func (w *headWriter) quote() string {
	text := oneLine(w.buf)
	if text == "" {
		return ""
	}
	if w.dropped > 0 {
		text += fmt.Sprintf(" ... (%d more bytes)", w.dropped)
	}
	return "; stderr: " + text
}
