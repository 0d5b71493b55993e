package statedir_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync/statedir"
)

// holdLockEnv makes the test binary a helper that holds a state directory's
// lock in another process (see TestMain), as the standard library's os/exec
// tests re-exec themselves.
const holdLockEnv = "STATEDIR_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdLockEnv); dir != "" {
		os.Exit(holdLock(dir))
	}
	os.Exit(m.Run())
}

// holdLock locks dir, says "locked", then obeys stdin: "unlock" releases the
// lock and says "unlocked"; end of input exits.
func holdLock(dir string) int {
	d, err := statedir.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	unlock, err := d.Lock()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "unlock" {
			if err := unlock(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Println("unlocked")
		}
	}
	return 0
}

// lockHolder is a helper process holding a directory's lock.
type lockHolder struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startLockHolder(t *testing.T, dir string) *lockHolder {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdLockEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &lockHolder{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		h.in.Close()
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	})
	h.expect(t, "locked")
	return h
}

func (h *lockHolder) expect(t *testing.T, want string) {
	t.Helper()
	if !h.out.Scan() {
		t.Fatalf("helper process: want %q, got end of output (%v)", want, h.out.Err())
	}
	if got := h.out.Text(); got != want {
		t.Fatalf("helper process said %q, want %q", got, want)
	}
}

func open(t *testing.T) *statedir.Dir {
	t.Helper()
	d, err := statedir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// names lists the directory's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

type status struct {
	LastRun   time.Time      `json:"last_run"`
	Result    string         `json:"result"`
	Applied   map[string]int `json:"applied"`
	ScopeHash string         `json:"scope_hash"`
}

func sampleStatus() status {
	return status{
		LastRun:   time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC),
		Result:    "ok",
		Applied:   map[string]int{"invite": 3, "revoke": 1},
		ScopeHash: "9f2c",
	}
}

func TestOpen_CreatesAPrivateDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "dirbridge")
	d, err := statedir.Open(path + "/")
	if err != nil {
		t.Fatal(err)
	}
	if d.Path() != path {
		t.Errorf("Path() = %q, want %q", d.Path(), path)
	}
	if got := mode(t, path); got != 0o700 {
		t.Errorf("mode = %v, want 0700", got)
	}
}

func TestOpen_Errors(t *testing.T) {
	if _, err := statedir.Open(""); err == nil || !strings.Contains(err.Error(), "no state directory given") {
		t.Errorf(`Open("") = %v, want "no state directory given"`, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := statedir.Open(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open(a file) = %v, want an error naming it", err)
	}
}

func TestSaveLoad_RoundTrip(t *testing.T) {
	d := open(t)
	want := sampleStatus()
	if err := d.Save("status", want); err != nil {
		t.Fatal(err)
	}
	var got status
	if err := d.Load("status", &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	// A second Save replaces the first.
	want.Result = "failed"
	if err := d.Save("status", want); err != nil {
		t.Fatal(err)
	}
	got = status{}
	if err := d.Load("status", &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loaded after a second save (-want +got):\n%s", diff)
	}
}

func TestSave_WritesAPrivateFileAndNothingElse(t *testing.T) {
	d := open(t)
	if err := d.Save("status", sampleStatus()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"status.json"}, names(t, d.Path())); diff != "" {
		t.Errorf("directory entries (-want +got):\n%s", diff)
	}
	if got := mode(t, filepath.Join(d.Path(), "status.json")); got != 0o600 {
		t.Errorf("mode = %v, want 0600", got)
	}
}

func TestLoad_Missing(t *testing.T) {
	d := open(t)
	var got status
	err := d.Load("status", &got)
	if !errors.Is(err, statedir.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want ErrNotExist", err)
	}
	if errors.Is(err, statedir.ErrCorrupt) {
		t.Errorf("Load = %v: a missing file is not corrupt", err)
	}
}

func TestLoad_Corrupt(t *testing.T) {
	valid, err := os.ReadFile(saved(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		write   func(path string) error
		wantErr string
	}{
		{"Truncated", func(p string) error { return os.WriteFile(p, valid[:len(valid)/2], 0o600) }, "unexpected end of JSON input"},
		{"Empty", func(p string) error { return os.WriteFile(p, nil, 0o600) }, "unexpected end of JSON input"},
		{"Garbage", func(p string) error { return os.WriteFile(p, []byte("\x00\x17PK\x03\x04"), 0o600) }, "invalid character"},
		{"TrailingData", func(p string) error { return os.WriteFile(p, append(valid, "}"...), 0o600) }, "invalid character '}' after top-level value"},
		{"WrongShape", func(p string) error { return os.WriteFile(p, []byte(`[1, 2]`), 0o600) }, "cannot unmarshal array"},
		{"Unreadable", func(p string) error { return os.Mkdir(p, 0o700) }, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t)
			path := filepath.Join(d.Path(), "status.json")
			if err := tt.write(path); err != nil {
				t.Fatal(err)
			}
			var got status
			err := d.Load("status", &got)
			if !errors.Is(err, statedir.ErrCorrupt) || errors.Is(err, statedir.ErrNotExist) {
				t.Fatalf("Load = %v, want ErrCorrupt", err)
			}
			var ce *statedir.CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Errorf("Load = %#v, want a *CorruptError for %s", err, path)
			}
			if msg := err.Error(); !strings.Contains(msg, "state file "+path+" is unreadable or corrupt: ") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("Load = %q, want it to name the file and say %q", msg, tt.wantErr)
			}
		})
	}
}

// saved returns the path of a file Save wrote.
func saved(t *testing.T) string {
	d := open(t)
	if err := d.Save("status", sampleStatus()); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d.Path(), "status.json")
}

func TestSave_FailureLeavesTheOldFileIntact(t *testing.T) {
	big := sampleStatus()
	big.ScopeHash = strings.Repeat("x", 1<<20)
	tests := []struct {
		name    string
		v       any
		setup   func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name:    "CannotMarshal",
			v:       map[string]any{"result": "ok", "bad": make(chan int)},
			wantErr: "unsupported type: chan int",
		},
		{
			// The write fails half-way, after 4 KiB of a 1 MiB file.
			name:    "WriteFailsHalfWay",
			v:       big,
			setup:   limitFileSize(4096),
			wantErr: "file too large",
		},
	}
	if os.Geteuid() != 0 { // root ignores directory permissions
		tests = append(tests, struct {
			name    string
			v       any
			setup   func(t *testing.T, dir string)
			wantErr string
		}{
			name: "ReadOnlyDirectory",
			v:    sampleStatus(),
			setup: func(t *testing.T, dir string) {
				if err := os.Chmod(dir, 0o500); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(dir, 0o700) })
			},
			wantErr: "permission denied",
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := open(t)
			path := filepath.Join(d.Path(), "status.json")
			old := sampleStatus()
			if err := d.Save("status", old); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, d.Path())
			}
			err = d.Save("status", tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Save = %v, want an error naming %s and saying %q", err, path, tt.wantErr)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("status.json changed by a failed Save:\n%s", after)
			}
			if diff := cmp.Diff([]string{"status.json"}, names(t, d.Path())); diff != "" {
				t.Errorf("directory entries after a failed Save (-want +got):\n%s", diff)
			}
		})
	}
}

// limitFileSize makes writes to regular files beyond n bytes fail with
// EFBIG (RLIMIT_FSIZE applies to root too) until the test ends. The limit
// is process-wide, so tests using it must not run in parallel.
func limitFileSize(n uint64) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		var old syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		signal.Ignore(syscall.SIGXFSZ) // or the kernel kills the process
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: old.Max}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Errorf("restore RLIMIT_FSIZE: %v", err)
			}
			signal.Reset(syscall.SIGXFSZ)
		})
	}
}

func TestSaveLoad_RejectInvalidNames(t *testing.T) {
	d := open(t)
	for _, name := range []string{"", ".", "..", "../status", "a/b", ".hidden"} {
		if err := d.Save(name, 1); err == nil || !strings.Contains(err.Error(), "invalid state file name") {
			t.Errorf("Save(%q) = %v, want an invalid name error", name, err)
		}
		if err := d.Load(name, new(int)); err == nil || !strings.Contains(err.Error(), "invalid state file name") {
			t.Errorf("Load(%q) = %v, want an invalid name error", name, err)
		}
	}
}

func TestLock_ExclusiveAcrossProcesses(t *testing.T) {
	d := open(t)
	h := startLockHolder(t, d.Path())

	_, err := d.Lock()
	var le *statedir.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it = %v, want *LockedError", err)
	}
	if le.PID != h.cmd.Process.Pid || le.Path != d.Path() {
		t.Errorf("LockedError = %+v, want pid %d and path %s", le, h.cmd.Process.Pid, d.Path())
	}
	want := fmt.Sprintf("state directory %s is in use by another dirbridge (pid %d); two instances must not sync the same organization at once", d.Path(), h.cmd.Process.Pid)
	if got := err.Error(); got != want {
		t.Errorf("error = %q\nwant    %q", got, want)
	}
	if got := mode(t, filepath.Join(d.Path(), "lock")); got != 0o600 {
		t.Errorf("lock file mode = %v, want 0600", got)
	}
}

func TestLock_ReleasedOnUnlock(t *testing.T) {
	d := open(t)
	h := startLockHolder(t, d.Path())
	fmt.Fprintln(h.in, "unlock")
	h.expect(t, "unlocked")

	unlock, err := d.Lock()
	if err != nil {
		t.Fatalf("Lock after the other process unlocked: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLock_ReleasedWhenTheHolderDies(t *testing.T) {
	d := open(t)
	h := startLockHolder(t, d.Path())
	// A crash: no unlock, no cleanup.
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()

	unlock, err := d.Lock()
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer unlock()
	// The lock file now names this process, not the dead one.
	b, err := os.ReadFile(filepath.Join(d.Path(), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), fmt.Sprintf("%d\n", os.Getpid()); got != want {
		t.Errorf("lock file = %q, want %q", got, want)
	}
}

func TestLock_WithinOneProcess(t *testing.T) {
	d := open(t)
	unlock, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	var le *statedir.LockedError
	if _, err := d.Lock(); !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Errorf("second Lock = %v, want *LockedError naming this process", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock = %v, want nil", err)
	}
	b, err := os.ReadFile(filepath.Join(d.Path(), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0 {
		t.Errorf("lock file after unlock = %q, want empty", b)
	}
	unlock, err = d.Lock()
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

func TestLock_RemovesTheTemporaryFilesOfACrashedSave(t *testing.T) {
	d := open(t)
	if err := d.Save("status", sampleStatus()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "status.json.tmp-123456"), []byte(`{"res`), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if diff := cmp.Diff([]string{"lock", "status.json"}, names(t, d.Path())); diff != "" {
		t.Errorf("directory entries (-want +got):\n%s", diff)
	}
}

func TestLockedError_UnknownPID(t *testing.T) {
	err := &statedir.LockedError{Path: "/var/lib/dirbridge"}
	want := "state directory /var/lib/dirbridge is in use by another dirbridge (pid unknown); two instances must not sync the same organization at once"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
