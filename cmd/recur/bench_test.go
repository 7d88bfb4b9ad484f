package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/benchrun"
	"github.com/recur-ml/recur/internal/kernel"
)

func TestBenchJSON(t *testing.T) {
	var out, errb bytes.Buffer
	err := runMain(context.Background(), []string{"bench", "--config", "tiny", "--steps", "2", "--repeat", "3", "--json"}, &out, &errb)
	if err != nil {
		t.Fatalf("recur bench: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d JSON lines, want 1:\n%s", len(lines), out.String())
	}
	var r benchrun.Result
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, lines[0])
	}
	if r.Config.Name != "tiny" || r.Steps != 2 || r.Repeat != 3 || !(r.MsPerStep > 0) || !(r.GFlops > 0) || !(r.PeakRSSMB > 0) {
		t.Errorf("result = %+v, want tiny, 2 steps, 3 repeats, positive time, GFLOP/s and RSS", r)
	}
}

func TestBenchTable(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runMain(context.Background(), []string{"bench", "-config", "tiny,tiny-forecast", "-steps", "1", "-repeat", "1", "-rounds", "2"}, &out, &errb); err != nil {
		t.Fatalf("recur bench: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"ms/step", "tiny", "tiny-forecast", "infer", "core peak"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "-config", "nosuch"},
		{"bench", "-repeat", "0"},
		{"bench", "-steps", "-1"},
		{"bench", "-rounds", "0"},
		{"bench", "-isolate", "-sweep"},
		{"bench", "-threads", "-2"},
		{"bench", "-compare-pytorch", "-torch-threads", "x"},
		{"bench", "-compare", "tensorflow"},
		{"bench", "-compare", "ort", "-peer-threads", "0"},
		{"bench", "-isolate", "-after-train"},
		{"bench", "-precision", "fp16"},
		{"bench", "extra"},
	} {
		var out bytes.Buffer
		err := runMain(context.Background(), args, &out, &out)
		if got := exitCode(err, &out); got != 2 {
			t.Errorf("recur %q: exit %d (%v), want 2", args, got, err)
		}
	}
}

func TestBenchComparePyTorch(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("python3-torch is not importable")
	}
	var out, errb bytes.Buffer
	err := runMain(context.Background(), []string{"bench", "-config", "tiny", "-steps", "1", "-repeat", "1",
		"-compare-pytorch", "-torch-threads", "1", "-json"}, &out, &errb)
	if err != nil {
		t.Fatalf("recur bench -compare-pytorch: %v\n%s", err, errb.String())
	}
	var r benchrun.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out.String())
	}
	tr := r.Peer("pytorch")
	if tr == nil || tr.Config != "tiny" || tr.Threads != 1 || tr.Steps != 1 {
		t.Fatalf("PyTorch result = %+v, want tiny at 1 thread, 1 step", r.Peers)
	}
	if want := tr.MsPerStep / r.MsPerStep; tr.Speedup != want || r.SpeedupBest != want || r.BestPeer != "pytorch" {
		t.Errorf("speedup = %v, vs best %v (%s), want %v", tr.Speedup, r.SpeedupBest, r.BestPeer, want)
	}
}

// TestBenchCompareMissingPeer: a peer that is not built is named on
// standard error and in the table's notes, its columns show —, and the
// rest of the run goes on.
func TestBenchCompareMissingPeer(t *testing.T) {
	var out, errb bytes.Buffer
	err := runMain(context.Background(), []string{"bench", "-config", "tiny", "-steps", "1", "-repeat", "1",
		"-compare", "onednn", "-onednn", filepath.Join(t.TempDir(), "recur-onednn")}, &out, &errb)
	if err != nil {
		t.Fatalf("recur bench -compare onednn: %v\n%s", err, errb.String())
	}
	const why = "onednn: not built (see bench/onednn/README.md)"
	if !strings.Contains(errb.String(), why) || !strings.Contains(out.String(), why) {
		t.Errorf("stderr %q and table\n%s\nwant %q in both", errb.String(), out.String(), why)
	}
	if !strings.Contains(out.String(), "onednn ms (thr)") || !strings.Contains(out.String(), "—") {
		t.Errorf("table lacks the onednn column with —:\n%s", out.String())
	}
}

// TestBenchAfterTrain: an inference configuration gets its fresh-process
// time beside the in-process one, which follows a training configuration.
func TestBenchAfterTrain(t *testing.T) {
	rs := benchChildren(t, 2, "-config", "tiny,tiny-forecast", "-steps", "2", "-repeat", "2", "-after-train")
	train, infer := rs[0], rs[1]
	if train.FreshMs != 0 || !(infer.FreshMs > 0) || strings.Join(infer.TrainedBefore, ",") != "tiny" {
		t.Errorf("fresh ms %v (training), %v after %q (inference); want none, > 0 after tiny", train.FreshMs, infer.FreshMs, infer.TrainedBefore)
	}
}

// TestBenchPrecision: --precision bf16 trains the steps in bfloat16 where
// the CPU can (fp32 with a warning where it cannot, flag forced off), says
// so in each training result, leaves inference float32, and reaches an
// isolated child process.
func TestBenchPrecision(t *testing.T) {
	want := "fp32"
	if kernel.HasBF16() {
		want = "bf16"
	}
	rs := benchChildren(t, 2, "-config", "tiny,tiny-forecast", "-steps", "1", "-repeat", "1", "-precision", "bf16", "-isolate")
	if rs[0].Precision != want || rs[1].Precision != "" {
		t.Errorf("precision %q (training) and %q (inference), want %q and none", rs[0].Precision, rs[1].Precision, want)
	}
	if want == "bf16" && !strings.HasSuffix(rs[0].Describe, " bf16") {
		t.Errorf("a bf16 training row describes itself as %q", rs[0].Describe)
	}
	defer kernel.SetBF16(kernel.SetBF16(false))
	var out, errb bytes.Buffer
	if err := runMain(context.Background(), []string{"bench", "-config", "tiny", "-steps", "1", "-repeat", "1", "-precision", "bf16", "-json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if r := resultLines(t, out.String(), 1)[0]; r.Precision != "fp32" || !strings.Contains(errb.String(), "no AVX512_BF16") {
		t.Errorf("without AVX512_BF16: precision %q, stderr %q", r.Precision, errb.String())
	}
}

func TestBenchIsolate(t *testing.T) {
	rs := benchChildren(t, 2, "-config", "tiny,tiny-classify", "-steps", "2", "-repeat", "2", "-isolate")
	for i, name := range []string{"tiny", "tiny-classify"} {
		r := rs[i]
		if r.Config.Name != name || r.Steps != 2 || r.Repeat != 2 || !(r.MsPerStep > 0) || !(r.PeakRSSMB > 0) {
			t.Errorf("isolated result %d = %+v, want %s with 2 steps, 2 repeats", i, r, name)
		}
	}
}

// benchChildren runs recur bench -json with args, letting it start child
// processes of itself, and returns its n results.
func benchChildren(t *testing.T, n int, args ...string) []benchrun.Result {
	t.Helper()
	t.Setenv("RECUR_TEST_MAIN", "1") // the re-executed test binary acts as recur (TestMain)
	var out, errb bytes.Buffer
	if err := runMain(context.Background(), append([]string{"bench", "-json"}, args...), &out, &errb); err != nil {
		t.Fatalf("recur bench %q: %v\n%s", args, err, errb.String())
	}
	return resultLines(t, out.String(), n)
}

// resultLines parses recur bench --json's output, one result a line, and
// fails t unless there are n.
func resultLines(t *testing.T, out string, n int) []benchrun.Result {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("got %d JSON lines, want %d:\n%s", len(lines), n, out)
	}
	rs := make([]benchrun.Result, n)
	for i, line := range lines {
		if err := json.Unmarshal([]byte(line), &rs[i]); err != nil {
			t.Fatalf("line %d does not parse: %v\n%s", i+1, err, line)
		}
	}
	return rs
}
