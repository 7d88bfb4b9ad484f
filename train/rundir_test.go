package train_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/recur-ml/recur/train"
)

func TestLockDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, err := train.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.LockDir(dir)
	if !errors.Is(err, train.ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: got %v, want ErrLocked naming PID %d", err, os.Getpid())
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := train.LockDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
}

// A lock file planted as a symbolic link is refused, and its target is
// left as it was.
func TestLockDirSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.Mkdir(run, 0o755)
	if err := os.Symlink(target, filepath.Join(run, train.LockFile)); err != nil {
		t.Fatal(err)
	}
	if l, err := train.LockDir(run); err == nil {
		l.Unlock()
		t.Fatal("locked through a symbolic link")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the link's target became %q", b)
	}
}

// The lock dies with its process: a killed holder leaves none behind.
func TestLockDirReleasedByDeath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows lock is a file a killed process leaves behind")
	}
	if os.Getenv("RECUR_LOCK_CHILD") != "" {
		if _, err := train.LockDir(os.Getenv("RECUR_LOCK_CHILD")); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		select {} // hold until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDirReleasedByDeath$")
	cmd.Env = append(os.Environ(), "RECUR_LOCK_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("child: %q %v", buf, err)
	}
	if _, err := train.LockDir(dir); !errors.Is(err, train.ErrLocked) || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("while the child holds it: got %v, want ErrLocked naming PID %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := train.LockDir(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Unlock()
}

func TestCleanTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".last.safetensors.tmp123", ".metrics.csv.tmp9", "last.safetensors", ".tmp5", "notes.tmp1"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := train.CleanTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(gone, ","); got != ".last.safetensors.tmp123,.metrics.csv.tmp9" {
		t.Errorf("removed %s, want the two temporary files", got)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 3 {
		t.Errorf("%d files left, want 3", len(left))
	}
	if got := train.HoldsRun(dir); got != "last.safetensors" {
		t.Errorf("HoldsRun = %q, want last.safetensors", got)
	}
}
