package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/train"
)

// trainInto runs a tiny forecast training into dir with extra flags.
func trainInto(dir string, extra ...string) (string, error) {
	var out bytes.Buffer
	args := append([]string{"train", "--epochs", "1", "--hidden", "4", "--no-report", "--out", dir}, extra...)
	err := runMain(context.Background(), args, &out, &out)
	return out.String(), err
}

// snapshot reads every file of dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

// TestRunsNeverMix: a run into a directory another process trains into
// fails at once naming it; a run into a directory holding a finished run
// is refused (or rejected for a bad flag) and leaves its files
// byte-identical; --overwrite replaces them.
func TestRunsNeverMix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := trainInto(dir); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	before := snapshot(t, dir)
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"second run", nil, "holds another run (model.safetensors)"},
		{"bad flag", []string{"--lr", "-1"}, "flag --lr"},
		{"bad data", []string{"--data", filepath.Join(dir, "nothing.csv")}, "nothing.csv"},
	} {
		if _, err := trainInto(dir, tc.extra...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
		if after := snapshot(t, dir); !equalFiles(before, after) {
			t.Errorf("%s: the existing run's files changed", tc.name)
		}
	}

	l, err := train.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = trainInto(dir, "--overwrite")
	l.Unlock()
	if err == nil || !strings.Contains(err.Error(), "in use by process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("while locked: got %v, want an error naming the holder", err)
	}

	stale := filepath.Join(dir, ".last.safetensors.tmp4242")
	if err := os.WriteFile(stale, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	// A planted link must be replaced, not followed.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	os.Remove(filepath.Join(dir, "metrics.csv"))
	if err := os.Symlink(victim, filepath.Join(dir, "metrics.csv")); err != nil {
		t.Fatal(err)
	}
	out, err := trainInto(dir, "--overwrite", "--seed", "2")
	if err != nil {
		t.Fatalf("--overwrite: %v\n%s", err, out)
	}
	if !strings.Contains(out, "removed 1 temporary files of killed runs") {
		t.Errorf("output %q does not report the stale temporary file", out)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there (%v)", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symbolic link's target was overwritten: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "metrics.csv")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("metrics.csv is still a link (%v)", err)
	}
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRunNameStaysInRuns(t *testing.T) {
	for _, name := range []string{"../../x", "..", "a/b", `a\b`, ".hidden"} {
		_, err := trainInto("", "--name", name)
		if err == nil || !strings.Contains(err.Error(), "flag --name") {
			t.Errorf("--name %q: got %v, want a flag error", name, err)
		}
	}
}

// TestInspectRefusesHostileSpec: a model file whose spec claims a network
// far larger than its tensors is refused by inspect, naming the field.
func TestInspectRefusesHostileSpec(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if out, err := trainInto(dir); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "model.safetensors")
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Metadata[model.MetaSpec] = strings.Replace(f.Metadata[model.MetaSpec], `"hidden":4`, `"hidden":1099511627776`, 1)
	if err := checkpoint.Write(path, f); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runMain(context.Background(), []string{"inspect", path}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("inspect of a hostile spec: got %v, want an error naming hidden\n%s", err, out.String())
	}
}
