package reliability

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recur-ml/recur/checkpoint"
)

// bigLM are the flags of a language-model run whose checkpoints take a
// few MB (so a kill often lands inside a write) and whose epochs are short
// (so it writes often).
func bigLM(corpus string) []string {
	return []string{"--task", "lm", "--level", "word", "--data", corpus, "--hidden", "256", "--layers", "2", "--seq-len", "10",
		"--val-fraction", "0.1", "--no-report", "--quiet"}
}

// writeCorpus writes a small word corpus and returns its path.
func writeCorpus(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for range 300 {
		for range 10 {
			b.WriteString([]string{"a", "b", "c", "d", "e", "f", "g", "h"}[rng.IntN(8)] + " ")
		}
		b.WriteString("\n")
	}
	p := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKillDuringTraining kills training with SIGKILL at random moments,
// mid-checkpoint included: every checkpoint left must load, and the run
// must resume from last.safetensors (the next start removing the killed
// writer's temporary files).
func TestKillDuringTraining(t *testing.T) {
	need(t)
	trials := 4
	if long {
		trials = 24
	}
	corpus := writeCorpus(t, t.TempDir())
	rng := rand.New(rand.NewPCG(5, 6))
	temps := 0
	for trial := range trials {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bin, append([]string{"train", "--out", dir, "--epochs", "1000"}, bigLM(corpus)...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+rng.IntN(2500)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			name := e.Name()
			if strings.Contains(name, ".tmp") {
				temps++
				continue
			}
			if strings.HasSuffix(name, ".safetensors") {
				if _, err := checkpoint.Read(filepath.Join(dir, name)); err != nil {
					t.Errorf("trial %d: %s does not load after the kill: %v", trial, name, err)
				}
			}
		}
		last := filepath.Join(dir, "last.safetensors")
		if _, err := os.Stat(last); err != nil {
			continue // killed before the first epoch ended
		}
		f, err := checkpoint.Read(last)
		if err != nil {
			continue // reported above
		}
		var st struct{ Epoch int }
		if err := json.Unmarshal([]byte(f.Metadata["train_state"]), &st); err != nil {
			t.Errorf("trial %d: last.safetensors has no training state: %v", trial, err)
			continue
		}
		out, err := recur(t, 2*time.Minute, append([]string{"train", "--out", dir, "--resume", last, "--epochs", strconv.Itoa(st.Epoch + 2)}, bigLM(corpus)...)...)
		if err != nil {
			t.Errorf("trial %d: resuming from epoch %d: %v\n%s", trial, st.Epoch, err, tail(out, 1000))
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(left) > 0 {
			t.Errorf("trial %d: temporary files left after the resumed run: %v", trial, left)
		}
	}
	t.Logf("%d kills, %d of them inside a checkpoint write (a temporary file left)", trials, temps)
}

// TestConcurrentRunsOneDirectory: a second run into a directory a live run
// holds fails at once, naming the holder's PID.
func TestConcurrentRunsOneDirectory(t *testing.T) {
	need(t)
	corpus := writeCorpus(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "run")
	first := exec.Command(bin, append([]string{"train", "--out", dir, "--epochs", "1000"}, bigLM(corpus)...)...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, ".lock")); strings.TrimSpace(string(b)) == strconv.Itoa(first.Process.Pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never locked its directory")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	out, err := recur(t, time.Minute, append([]string{"train", "--out", dir, "--epochs", "2", "--overwrite"}, bigLM(corpus)...)...)
	if err == nil || !strings.Contains(out, "in use by process "+strconv.Itoa(first.Process.Pid)) {
		t.Errorf("second run: %v\n%s\nwant a failure naming PID %d", err, out, first.Process.Pid)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second run took %v to give up", d)
	}
}

// TestDiskFull trains into a 1 MB tmpfs that already holds a run: the
// error says the disk is full, the old model is byte-identical and no
// temporary file is left. Mounting needs root and CAP_SYS_ADMIN.
func TestDiskFull(t *testing.T) {
	need(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v: %s): the disk-full check needs root and CAP_SYS_ADMIN", err, strings.TrimSpace(string(out)))
	}
	defer exec.Command("umount", mnt).Run()
	dir := filepath.Join(mnt, "run")
	mustRecur(t, "train", "--out", dir, "--epochs", "1", "--hidden", "4", "--no-report", "--quiet")
	old, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	corpus := writeCorpus(t, t.TempDir())
	out, err := recur(t, 2*time.Minute, append([]string{"train", "--out", dir, "--epochs", "2", "--overwrite"}, bigLM(corpus)...)...)
	if err == nil || !strings.Contains(out, "no space left on device") {
		t.Errorf("training into a full disk: %v\n%s\nwant an error saying the disk is full", err, tail(out, 1000))
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "model.safetensors")); !bytes.Equal(now, old) {
		t.Error("the existing model changed")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(left) > 0 {
		t.Errorf("temporary files left on the full disk: %v", left)
	}
}

// TestBoundedInput: files without end or with a line without end are
// refused quickly, with a short message, under a 2 GB address-space cap.
func TestBoundedInput(t *testing.T) {
	need(t)
	dir := t.TempDir()
	oneLine := filepath.Join(dir, "oneline.csv")
	if err := os.WriteFile(oneLine, bytes.Repeat([]byte("1234567,"), 20<<20/8), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"--data", oneLine},
		{"--task", "lm", "--data", oneLine, "--max-line-bytes", "1048576"}, // a corpus may be one long line: no default limit
		{"--task", "classify", "--data", oneLine},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases, []string{"--data", "/dev/zero"}, []string{"--task", "lm", "--data", "/dev/zero"}, []string{"--task", "seq2seq", "--data", "/dev/zero"})
	}
	for _, c := range cases {
		start := time.Now()
		cmd := capped(2<<30, bin, append([]string{"train", "--out", filepath.Join(dir, "run"), "--epochs", "1"}, c...)...)
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		switch {
		case err == nil:
			t.Errorf("%v: accepted", c)
		case strings.Contains(string(out), "fatal error") || strings.Contains(string(out), "goroutine "):
			t.Errorf("%v: crashed: %s", c, tail(string(out), 500))
		case len(out) > 2000:
			t.Errorf("%v: a %d-byte message: %s", c, len(out), tail(string(out), 300))
		case d > 20*time.Second:
			t.Errorf("%v: refused after %v", c, d)
		}
		t.Logf("%v: refused in %v: %s", c, d.Round(time.Millisecond), strings.TrimSpace(string(out)))
	}
}

// TestAsmAndNoasmAgree trains the same short run with the assembly
// kernels and the pure-Go ones: the weights must be the same bits.
func TestAsmAndNoasmAgree(t *testing.T) {
	need(t)
	corpus := writeCorpus(t, t.TempDir())
	var files []*checkpoint.File
	for _, b := range []string{bin, binNoasm} {
		dir := filepath.Join(t.TempDir(), "run")
		args := []string{"train", "--out", dir, "--task", "lm", "--level", "word", "--data", corpus, "--hidden", "32", "--epochs", "2", "--seed", "3", "--no-report", "--quiet"}
		if out, err := exec.Command(b, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", filepath.Base(b), err, out)
		}
		f, err := checkpoint.Read(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for name, a := range files[0].Tensors {
		b := files[1].Tensors[name]
		if b == nil {
			t.Errorf("%s: missing from the noasm model", name)
			continue
		}
		diff := 0
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d values differ between the asm and noasm builds", name, diff, len(a.Data))
		}
	}
}
