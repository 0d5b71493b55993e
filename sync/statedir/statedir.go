package statedir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ErrNotExist is matched (errors.Is) by Load's error when the file does not
// exist yet. It is fs.ErrNotExist.
var ErrNotExist = fs.ErrNotExist

// ErrCorrupt is matched (errors.Is) by Load's error when the file exists but
// cannot be read or is not valid JSON for the value: the caller rebuilds the
// state and says so.
var ErrCorrupt = errors.New("state file is unreadable or corrupt")

// Dir is an open state directory.
type Dir struct {
	path string
}

// Open opens the state directory at path, creating it (and its parents)
// with mode 0700 when it is missing. An existing directory keeps its mode.
func Open(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("statedir: no state directory given")
	}
	path = filepath.Clean(path)
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("statedir: create %s: %w", path, err)
	}
	return &Dir{path: path}, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// LockedError is Lock's error when another process holds the lock.
type LockedError struct {
	// PID is the holder's process id, 0 when unknown.
	PID int
	// Path is the state directory.
	Path string
}

func (e *LockedError) Error() string {
	holder := "pid unknown"
	if e.PID > 0 {
		holder = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("state directory %s is in use by another dirbridge (%s); two instances must not sync the same organization at once", e.Path, holder)
}

// Lock takes an exclusive lock on the directory, without waiting: flock(2)
// on <dir>/lock, which then records the holder's pid. It returns
// *LockedError when another process (or another Lock in this one) holds it.
// The kernel drops the lock when the process exits, however it exits, so a
// crash never leaves a stale lock; the pid is only there to name the holder.
// Having the lock, it removes the temporary files of a Save that a crash cut
// short: Save is for the lock holder. unlock releases the lock; calling it
// again is a no-op.
func (d *Dir) Lock() (unlock func() error, err error) {
	name := filepath.Join(d.path, "lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("statedir: lock %s: %w", name, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{PID: readPID(name), Path: d.path}
		}
		return nil, fmt.Errorf("statedir: lock %s: %w", name, err)
	}
	if err := writePID(f); err != nil {
		f.Close() // also releases the lock
		return nil, fmt.Errorf("statedir: lock %s: record pid: %w", name, err)
	}
	d.removeTemps()
	return sync.OnceValue(func() error {
		// Empty the file first, so that it never names a process that no
		// longer holds the lock. The file itself stays: removing it would
		// let a waiter lock an unlinked inode while a third process creates
		// a new file and locks that too.
		terr := f.Truncate(0)
		uerr := flock(f, syscall.LOCK_UN)
		cerr := f.Close()
		if err := errors.Join(terr, uerr, cerr); err != nil {
			return fmt.Errorf("statedir: unlock %s: %w", name, err)
		}
		return nil
	}), nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the pid recorded in the lock file, or 0: the holder may
// not have written it yet.
func readPID(name string) int {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// removeTemps removes what a Save cut short left behind. Failures are
// harmless: the files are only clutter.
func (d *Dir) removeTemps() {
	temps, _ := filepath.Glob(filepath.Join(d.path, "*.json.tmp-*"))
	for _, t := range temps {
		_ = os.Remove(t)
	}
}

// file returns the path of the state file name, which must be a plain file
// name without extension.
func (d *Dir) file(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("statedir: invalid state file name %q", name)
	}
	return filepath.Join(d.path, name+".json"), nil
}

// CorruptError is Load's error for a state file that exists but cannot be
// read or decoded. It matches ErrCorrupt.
type CorruptError struct {
	// Path is the file.
	Path string
	// Err is the read or decode error.
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is unreadable or corrupt: %v", e.Path, e.Err)
}

// Unwrap returns the read or decode error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Load decodes the JSON file <dir>/<name>.json into v. A missing file is an
// error matching ErrNotExist; a file that cannot be read or decoded into v
// is a *CorruptError matching ErrCorrupt. After an error, v may be partly
// filled: discard it.
func (d *Dir) Load(name string, v any) error {
	path, err := d.file(name)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("statedir: load %s: %w", path, err)
	}
	if err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	return nil
}

// Save writes v as JSON to <dir>/<name>.json, atomically: it writes a
// temporary file in the same directory, syncs it, renames it over the old
// file and syncs the directory. Readers, and a crash at any point, see the
// old file or the new one, never a mix. When Save fails, the file is the
// old one (or, if only the final sync of the directory failed, the new one)
// and no temporary file is left. The file's mode is 0600.
func (d *Dir) Save(name string, v any) error {
	path, err := d.file(name)
	if err != nil {
		return err
	}
	// Compact JSON, marshalled once: the ledger of a large directory is
	// tens of megabytes, and indenting it would hold it twice.
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("statedir: save %s: %w", path, err)
	}
	if err := writeAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("statedir: save %s: %w", path, err)
	}
	return nil
}

func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory is synced.
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
