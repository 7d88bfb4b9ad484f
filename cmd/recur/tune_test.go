package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tune"
)

// TestTuneResumesInterruptedTrial: a trial whose run was interrupted
// mid-way (a session killed while it trained) is resumed from its
// checkpoint by the next session, and ends exactly as the uninterrupted
// trial did.
func TestTuneResumesInterruptedTrial(t *testing.T) {
	t.Setenv("RECUR_TEST_MAIN", "1") // the trials, this test binary again, act as recur (TestMain)
	dir := t.TempDir()
	base, space := filepath.Join(dir, "base.yaml"), filepath.Join(dir, "space.yaml")
	if err := os.WriteFile(base, []byte("val-fraction: 0.2\nhidden: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(space, []byte("lr: {log-uniform: [1e-3, 1e-2]}\ndropout: {uniform: [0, 0.3]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	study := filepath.Join(dir, "study")
	opts := tuneOpts{Config: base, Space: space, Out: study, Trials: 2, Parallel: 1, Sampler: "halton", Seed: 1, Eta: 3,
		MinEpochs: 6, MaxEpochs: 6, Quiet: true}
	var out bytes.Buffer
	if err := runTune(context.Background(), &opts, &out, &out); err != nil {
		t.Fatalf("recur tune: %v\n%s", err, out.String())
	}
	trialDir := filepath.Join(study, "trial-002")
	want := readFile(t, filepath.Join(trialDir, "metrics.csv"))

	// The run of trial 2 again, from its log's command line, interrupted
	// in its fourth epoch; the study file says it is running.
	logLine, _, _ := strings.Cut(readFile(t, filepath.Join(trialDir, tune.LogFile)), "\n")
	args := strings.Fields(logLine)[3:] // "#", the time, the program
	for _, f := range []string{"model.safetensors", "last.safetensors", "best.safetensors", "metrics.csv", "metrics.jsonl"} {
		os.Remove(filepath.Join(trialDir, f))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelAfter{mark: "epoch 3/6", cancel: cancel}
	args = slices.DeleteFunc(args, func(a string) bool { return a == "--quiet" }) // its progress marks the epoch
	if err := runMain(ctx, args, w, w); exitCode(err, &out) != 130 {
		t.Fatalf("interrupted trial: %v, want an interruption\n%s", err, w.buf.String())
	}
	st, err := tune.LoadStudy(study)
	if err != nil {
		t.Fatal(err)
	}
	st.Trials[1].State, st.Trials[1].Rungs, st.Complete = tune.Running, nil, false
	if err := st.Save(study); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	opts.Quiet = false
	if err := runTune(context.Background(), &opts, &out, &out); err != nil {
		t.Fatalf("resumed recur tune: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "trial 2 rung 1/1: val_loss") || !strings.Contains(out.String(), "(resumed at epoch 4)") {
		t.Errorf("resumed session's output:\n%s", out.String())
	}
	if got := readFile(t, filepath.Join(trialDir, "metrics.csv")); got != want {
		t.Errorf("resumed trial's metrics:\n%s\nwant (uninterrupted)\n%s", got, want)
	}
	// best.yaml trains the best trial's run again.
	again := filepath.Join(dir, "again")
	if err := runMain(context.Background(), []string{"train", "--config", filepath.Join(study, "best.yaml"), "--out", again, "--quiet", "--no-report"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	best, err := tune.LoadStudy(study)
	if err != nil {
		t.Fatal(err)
	}
	top := best.Ranked()[0]
	if got, want := readFile(t, filepath.Join(again, "metrics.csv")), readFile(t, filepath.Join(study, top.Dir, "metrics.csv")); got != want {
		t.Errorf("recur train --config best.yaml:\n%s\nwant trial %d's\n%s", got, top.ID, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
