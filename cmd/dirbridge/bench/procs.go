package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// The emulated organization every scenario uses.
const (
	orgID     = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	orgSecret = "bench-client-secret"
)

// emulator is a running cmd/bwemu process.
type emulator struct {
	cmd *exec.Cmd
	url string
}

// startEmulator starts bwemu with an organization of one confirmed owner
// and the given flags (such as -rate-limit or -self-hosted).
func startEmulator(bin, dir string, flags ...string) (*emulator, error) {
	seed := bwemu.Org{Members: []bwemu.Member{{Email: "owner@example.com", Name: "Owner",
		Status: bwemu.StatusConfirmed, Type: bwemu.TypeOwner}}}
	b, err := json.Marshal(seed)
	if err != nil {
		return nil, err
	}
	seedFile := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seedFile, b, 0o600); err != nil {
		return nil, err
	}
	args := append([]string{"-seed", seedFile, "-org-id", orgID, "-client-secret", orgSecret}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	line, err := startAndReadLine(cmd)
	if err != nil {
		return nil, fmt.Errorf("start bwemu: %w", err)
	}
	url, ok := strings.CutPrefix(line, "bwemu listening on ")
	if !ok {
		cmd.Process.Kill()
		return nil, fmt.Errorf("start bwemu: unexpected first line %q", line)
	}
	return &emulator{cmd: cmd, url: url}, nil
}

// startAndReadLine starts cmd and returns the first line of its stdout;
// the rest is discarded.
func startAndReadLine(cmd *exec.Cmd) (string, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", fmt.Errorf("no ready line: %w", err)
	}
	go io.Copy(io.Discard, r)
	return strings.TrimSpace(line), nil
}

// stats returns the emulator's request counters.
func (e *emulator) stats() (bwemu.Stats, error) {
	var st bwemu.Stats
	return st, e.admin(http.MethodGet, "/_emu/stats", &st)
}

// dump returns the emulated organization.
func (e *emulator) dump() (bwemu.Org, error) {
	var org bwemu.Org
	return org, e.admin(http.MethodGet, "/_emu/state", &org)
}

// clear empties the request log and resets the counters.
func (e *emulator) clear() error { return e.admin(http.MethodDelete, "/_emu/requests", nil) }

func (e *emulator) admin(method, path string, out any) error {
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bwemu %s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (e *emulator) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	e.cmd.Wait()
}

// directory is a private slapd served by the LDAP benchmark's -serve mode
// (sources/ldap/bench), with its generated users and groups.
type directory struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// The fields of its ready line.
	URL, Suffix, ReaderDN, ReaderPW, AdminDN, AdminPW string
}

// startDirectory generates users and groups (each user in 3 groups), loads
// them into a new slapd and starts it.
func startDirectory(bin string, users, groups int) (*directory, error) {
	cmd := exec.Command(bin, "-serve", "-users", fmt.Sprint(users), "-groups", fmt.Sprint(groups))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	line, err := startAndReadLine(cmd)
	if err != nil {
		return nil, fmt.Errorf("start slapd (%s -serve): %w", bin, err)
	}
	d := &directory{cmd: cmd, stdin: stdin}
	fields := map[string]*string{"url": &d.URL, "suffix": &d.Suffix, "reader_dn": &d.ReaderDN,
		"reader_pw": &d.ReaderPW, "admin_dn": &d.AdminDN, "admin_pw": &d.AdminPW}
	for _, kv := range strings.Fields(line) {
		k, v, _ := strings.Cut(kv, "=")
		if p := fields[k]; p != nil {
			*p = v
		}
	}
	if d.URL == "" || d.AdminDN == "" {
		d.stop()
		return nil, fmt.Errorf("start slapd: unexpected ready line %q", line)
	}
	return d, nil
}

// stop closes the server's stdin, which stops slapd and removes its files.
func (d *directory) stop() {
	d.stdin.Close()
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

// measured is one finished process: its wall time, peak RSS (from wait4's
// rusage), output and exit code.
type measured struct {
	wall           time.Duration
	rssKB          int64
	stdout, stderr string
	code           int
}

func (m measured) rssMB() float64 { return float64(m.rssKB) / 1024 }

// runProcess runs a program to its end and measures it. A non-zero exit is
// reported in code, not as an error.
func runProcess(env []string, bin string, args ...string) (measured, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		m.code = ee.ExitCode()
	case err != nil:
		return m, fmt.Errorf("run %s: %w", filepath.Base(bin), err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssKB = ru.Maxrss
	}
	return m, nil
}

// ldapsearchFloor returns the wall time of ldapsearch reading the users and
// the groups with the attributes the LDAP source asks for (the openldap
// preset), with the same page size: the floor any LDAP client pays.
func ldapsearchFloor(d *directory, pageSize int) (time.Duration, error) {
	var total time.Duration
	for _, s := range [][]string{
		{"ou=people," + d.Suffix, "(objectClass=inetOrgPerson)", "entryUUID", "mail", "displayName", "cn"},
		{"ou=groups," + d.Suffix, "(objectClass=groupOfNames)", "cn", "entryUUID", "member"},
	} {
		args := append([]string{"-x", "-LLL", "-H", d.URL, "-D", d.ReaderDN, "-w", d.ReaderPW,
			"-E", fmt.Sprintf("pr=%d/noprompt", pageSize), "-b"}, s...)
		m, err := runProcess(nil, "ldapsearch", args...)
		if err != nil {
			return 0, err
		}
		if m.code != 0 {
			return 0, fmt.Errorf("ldapsearch exited %d: %s", m.code, m.stderr)
		}
		total += m.wall
	}
	return total, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
