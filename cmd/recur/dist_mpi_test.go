//go:build mpi

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/train"
)

// TestMPIRankFaults starts `mpirun -np 2 recur train` (this test binary
// acting as recur), then kills rank 1 (mpirun notices and names it) or
// stops it (the watchdog of rank 0 notices): the job must end within
// seconds, saying why, with no rank left behind, and the last checkpoint
// must load and resume.
func TestMPIRankFaults(t *testing.T) {
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("no mpirun (Debian: apt-get install openmpi-bin)")
	}
	for _, c := range []struct {
		name    string
		sig     syscall.Signal
		timeout string // RECUR_RANK_TIMEOUT
		want    string
	}{
		{"killed", syscall.SIGKILL, "", "rank 1"},
		{"hung", syscall.SIGSTOP, "3", "rank 0 of 2: allreduce waited"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "2", "-x", "RECUR_TEST_MAIN", "-x", "RECUR_RANK_TIMEOUT",
				os.Args[0], "train", "--epochs", "100000", "--base", "none", "--out", dir, "--no-report", "--quiet")
			cmd.Env = append(os.Environ(), "RECUR_TEST_MAIN=1", "RECUR_RANK_TIMEOUT="+c.timeout)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			ranks := waitForRanks(t, cmd.Process.Pid, filepath.Join(dir, "last.safetensors"), done)
			defer func() { // never leave a process of ours behind
				cmd.Process.Kill()
				for _, p := range ranks {
					syscall.Kill(p, syscall.SIGKILL)
				}
			}()
			start := time.Now()
			if err := syscall.Kill(ranks[1], c.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("the job still runs 60s after rank 1 got %v:\n%s", c.sig, out.String())
			}
			took := time.Since(start)
			gone := waitGone(ranks, 10*time.Second)
			t.Logf("rank 1 %s: mpirun exited after %.1fs (%v), every rank gone after %.1fs", c.name, took.Seconds(), err, time.Since(start).Seconds())
			if err == nil || took > 20*time.Second || !gone {
				t.Errorf("job with a %s rank: exit %v after %v, ranks gone: %v", c.name, err, took, gone)
			}
			if !strings.Contains(out.String(), c.want) {
				t.Errorf("the job's output does not say %q:\n%s", c.want, tail(out.String(), 1500))
			}
			resumeLast(t, dir)
		})
	}
}

// waitForRanks waits for the first checkpoint and returns the pids of
// mpirun's children (the ranks), in rank order.
func waitForRanks(t *testing.T, mpirun int, last string, done chan error) []int {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("the job ended before its first checkpoint: %v", err)
		default:
		}
		if _, err := os.Stat(last); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after 120s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", mpirun, mpirun))
	if err != nil {
		t.Skipf("cannot list mpirun's children: %v", err)
	}
	ranks := make([]int, 2)
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		for _, kv := range strings.Split(string(env), "\x00") {
			if r, ok := strings.CutPrefix(kv, "OMPI_COMM_WORLD_RANK="); ok {
				if i, err := strconv.Atoi(r); err == nil && i < 2 {
					ranks[i] = pid
				}
			}
		}
	}
	if ranks[0] == 0 || ranks[1] == 0 {
		t.Fatalf("mpirun's children %q are not ranks 0 and 1", b)
	}
	return ranks
}

// waitGone reports whether every pid has exited (or is a zombie) within d.
func waitGone(pids []int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		alive := false
		for _, p := range pids {
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
			if err == nil && !strings.Contains(string(st), ") Z ") {
				alive = true
			}
		}
		if !alive {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// resumeLast checks that the run's last checkpoint loads and that one
// process resumes it for one more epoch.
func resumeLast(t *testing.T, dir string) {
	t.Helper()
	last := filepath.Join(dir, "last.safetensors")
	f, err := checkpoint.Read(last)
	if err != nil {
		t.Fatalf("the last checkpoint does not load: %v", err)
	}
	var st train.State
	if ok, err := f.GetJSON(train.MetaTrainState, &st); !ok || err != nil {
		t.Fatalf("the last checkpoint has no training state: %v", err)
	}
	cmd := exec.Command(os.Args[0], "train", "--resume", last, "--out", dir, "--epochs", strconv.Itoa(st.Epoch+1), "--base", "none", "--no-report", "--quiet")
	cmd.Env = append(os.Environ(), "RECUR_TEST_MAIN=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("resuming the last checkpoint (epoch %d): %v\n%s", st.Epoch, err, tail(string(b), 1500))
	}
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// TestMPITune starts `mpirun -np 2 recur tune` (this test binary acting
// as recur): the two ranks share the trials, rank 0 alone reports, and
// the trials, children of the ranks, train as lone runs.
func TestMPITune(t *testing.T) {
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("no mpirun (Debian: apt-get install openmpi-bin)")
	}
	dir := t.TempDir()
	space := filepath.Join(dir, "space.yaml")
	base := filepath.Join(dir, "base.yaml")
	if err := os.WriteFile(space, []byte("lr: {log-uniform: [1e-3, 3e-2]}\nhidden: {log-int: [4, 16]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base, []byte("val-fraction: 0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	study := filepath.Join(dir, "study")
	cmd := exec.Command(mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "2", "-x", "RECUR_TEST_MAIN",
		os.Args[0], "tune", "--config", base, "--space", space, "--trials", "5", "--min-epochs", "1", "--max-epochs", "3", "--out", study)
	cmd.Env = append(os.Environ(), "RECUR_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun recur tune: %v\n%s", err, tail(string(out), 2000))
	}
	for _, want := range []string{"2 ranks: one trial at a time on each", "best: trial"} {
		if n := strings.Count(string(out), want); n != 1 {
			t.Errorf("the job printed %q %d times, want once (rank 0 alone):\n%s", want, n, tail(string(out), 2000))
		}
	}
	b, err := os.ReadFile(filepath.Join(study, "study.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Complete bool
		Trials   []struct{ State string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Complete || len(st.Trials) != 5 {
		t.Errorf("study complete %v with %d trials, want complete with 5", st.Complete, len(st.Trials))
	}
	for i, tr := range st.Trials {
		if tr.State == "failed" || tr.State == "running" {
			t.Errorf("trial %d %s", i+1, tr.State)
		}
	}
}
