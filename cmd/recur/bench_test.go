package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/recur-ml/recur/internal/benchrun"
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
	if r.Torch == nil || r.Torch.Config != "tiny" || r.Torch.Threads != 1 || r.Torch.Steps != 1 {
		t.Fatalf("PyTorch result = %+v, want tiny at 1 thread, 1 step", r.Torch)
	}
	if want := r.Torch.MsPerStep / r.MsPerStep; r.Speedup != want {
		t.Errorf("speedup = %v, want %v", r.Speedup, want)
	}
}

func TestBenchIsolate(t *testing.T) {
	t.Setenv("RECUR_TEST_MAIN", "1") // the re-executed test binary acts as recur (TestMain)
	var out, errb bytes.Buffer
	err := runMain(context.Background(), []string{"bench", "-config", "tiny,tiny-classify", "-steps", "2", "-repeat", "2", "-isolate", "-json"}, &out, &errb)
	if err != nil {
		t.Fatalf("recur bench -isolate: %v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d JSON lines, want 2:\n%s", len(lines), out.String())
	}
	for i, name := range []string{"tiny", "tiny-classify"} {
		var r benchrun.Result
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if r.Config.Name != name || r.Steps != 2 || r.Repeat != 2 || !(r.MsPerStep > 0) || !(r.PeakRSSMB > 0) {
			t.Errorf("isolated result %d = %+v, want %s with 2 steps, 2 repeats", i, r, name)
		}
	}
}
