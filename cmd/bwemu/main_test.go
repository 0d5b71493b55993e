package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// TestBinary builds cmd/bwemu, starts it with the demo seed, gets a token,
// changes the organization, stops it with SIGTERM and reads the dump.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bwemu")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dumpFile := filepath.Join(dir, "dump.json")
	cmd := exec.Command(bin, "-seed", "demo-org.json", "-dump", dumpFile, "-client-secret", "s3cret")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read the ready line: %v", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "bwemu listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("ready line = %q", line)
	}

	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"organization." + bwemu.DefaultOrgID},
		"client_secret": {"s3cret"},
		"scope":         {"api.organization"},
	}
	res, err := http.PostForm(base+"/identity/connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d, err %v", res.StatusCode, err)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/api/public/members/a0000000-0000-4000-8000-000000000099/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke: status %d", res.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bwemu did not exit after SIGTERM")
	}

	b, err := os.ReadFile(dumpFile)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	var org bwemu.Org
	if err := json.Unmarshal(b, &org); err != nil {
		t.Fatalf("dump: %v", err)
	}
	var status int = 99
	for _, m := range org.Members {
		if m.Email == "old.timer@example.com" {
			status = m.Status
		}
	}
	if status != bwemu.StatusRevoked || len(org.Members) != 8 {
		t.Errorf("dump: old.timer status %d, %d members; want revoked and 8", status, len(org.Members))
	}
}

func TestRun_RejectsUnknownSeedKeys(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"membres":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"-seed", seed}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "membres") {
		t.Errorf("err = %v, want the unknown key named", err)
	}
}
