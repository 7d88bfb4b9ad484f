package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// LockFile is the name of a run directory's lock (see LockDir).
const LockFile = ".lock"

// DirLock is an exclusive hold on a run directory; Unlock releases it.
type DirLock struct {
	f    *os.File
	path string
}

// ErrLocked is wrapped by LockDir's error when another process holds the
// directory.
var ErrLocked = errors.New("the run directory is in use")

// LockDir creates dir if needed and takes an exclusive lock on it, so two
// runs never write into one directory: a second LockDir on it fails at
// once with ErrLocked, naming the holder's process ID. The lock is the
// operating system's advisory file lock on dir/.lock (flock on Unix), so
// it ends with its process: a killed run leaves no stale lock to remove.
func LockDir(dir string) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	// O_NOFOLLOW: a symbolic link planted as the lock file is refused
	// rather than followed (and its target truncated by the PID below).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: locking %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("train: %s: %w by process %s", dir, ErrLocked, holder)
		}
		return nil, fmt.Errorf("train: locking %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f, path: path}, nil
}

// Unlock releases the lock; the lock file stays (removing it would race
// with a process that opened it and waits to lock it).
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlockFile(l.f)
	err := l.f.Close() // on Unix, closing the descriptor releases the lock
	l.f = nil
	return err
}

// readHolder is the PID the lock's holder wrote, or "unknown".
func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	if pid := strings.TrimSpace(string(b[:n])); pid != "" {
		return pid
	}
	return "unknown"
}

// tempName matches the temporary files of atomic writes
// (checkpoint.WriteAtomic: ".NAME.tmpDIGITS").
var tempName = regexp.MustCompile(`^\..+\.tmp[0-9]+$`)

// CleanTemps removes the temporary files that writers killed before
// their rename left in dir, and returns their names. Call it while
// holding dir's lock: then no live writer owns one.
func CleanTemps(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var gone []string
	for _, e := range ents {
		if !e.Type().IsRegular() || !tempName.MatchString(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return gone, fmt.Errorf("train: %w", err)
		}
		gone = append(gone, e.Name())
	}
	return gone, nil
}

// RunFiles are the files whose presence says a directory holds a run.
var RunFiles = []string{"model.safetensors", "last.safetensors", "best.safetensors", "metrics.csv", "metrics.jsonl"}

// HoldsRun returns the first of RunFiles present in dir ("" when none).
func HoldsRun(dir string) string {
	for _, name := range RunFiles {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return name
		}
	}
	return ""
}
