package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recur-ml/recur/internal/kernel"
)

// TestServeQuantized serves an int8 and a bf16 forecaster written by
// recur quantize: the server loads each as any model file and answers
// with the quantized model's own forecast, which stays near the float32
// model's.
func TestServeQuantized(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "2", "--hidden", "8", "--base", "none", "--out", dir, "--quiet", "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	for _, dtype := range []string{"int8", "bf16"} {
		t.Run(dtype, func(t *testing.T) { serveQuantized(t, dir, dtype) })
	}
}

// serveQuantized quantizes the run in dir to dtype and serves it (see
// TestServeQuantized).
func serveQuantized(t *testing.T, dir, dtype string) {
	var out bytes.Buffer
	q := filepath.Join(dir, dtype+".safetensors")
	if err := runMain(context.Background(), []string{"quantize", dir, "--dtype", dtype, "-o", q}, &out, &out); err != nil {
		t.Fatalf("quantize: %v\n%s", err, out.String())
	}
	fc, f, body := forecastRequest(t, q)
	if fc.Spec().Quantize != dtype {
		t.Fatalf("loaded spec quantize %q", fc.Spec().Quantize)
	}
	want, err := fc.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	ff, _, _ := forecastRequest(t, filepath.Join(dir, "model.safetensors"))
	float, err := ff.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addr, done := startServe(t, ctx, &serveOpts{Model: q}, &logs)
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post("http://"+addr+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Forecast map[string][]float32 }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: status %d (%v)", resp.StatusCode, err)
	}
	target := fc.Prep().Pipeline.Targets[0]
	if g := got.Forecast[target]; len(g) == 0 || g[0] != float32(want.Values[0][0]) {
		t.Errorf("served %v, want the %s model's %v", g, dtype, want.Values)
	}
	if d := want.Values[0][0] - float.Values[0][0]; d == 0 || d > 0.02*float.Values[0][0] || -d > 0.02*float.Values[0][0] {
		t.Errorf("%s forecast %v vs float32 %v: want within 2%% and not equal", dtype, want.Values[0][0], float.Values[0][0])
	}
	cancel()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("serve: %v", err)
	}
}

// TestQuantizeBF16Note checks that recur quantize --dtype bf16 says, on a
// CPU without AVX512_BF16 (forced here), that the bf16 model runs slower
// there, and says nothing where the CPU has it; the file is written
// either way.
func TestQuantizeBF16Note(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "4", "--out", dir, "--quiet", "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	for _, hw := range []bool{false, true} {
		was := kernel.SetBF16(hw)
		if hw && !kernel.HasBF16() {
			kernel.SetBF16(was)
			continue
		}
		var stdout, stderr bytes.Buffer
		err := runMain(context.Background(), []string{"quantize", "--dtype", "bf16", "-o", filepath.Join(dir, "b.safetensors"), dir}, &stdout, &stderr)
		kernel.SetBF16(was)
		if err != nil || !strings.Contains(stdout.String(), "(bf16: 15 weight matrices") {
			t.Fatalf("AVX512_BF16 %v: %v\n%s%s", hw, err, stdout.String(), stderr.String())
		}
		if note := strings.Contains(stderr.String(), "lacks AVX512_BF16"); note == hw {
			t.Errorf("AVX512_BF16 %v: stderr %q", hw, stderr.String())
		}
	}
}
