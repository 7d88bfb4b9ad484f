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
)

// TestServeQuantized serves an int8 forecaster written by recur quantize:
// the server loads it as any model file and answers with the quantized
// model's own forecast, which stays near the float32 model's.
func TestServeQuantized(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "2", "--hidden", "8", "--out", dir, "--quiet", "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	q := filepath.Join(dir, "q.safetensors")
	if err := runMain(context.Background(), []string{"quantize", dir, "-o", q}, &out, &out); err != nil {
		t.Fatalf("quantize: %v\n%s", err, out.String())
	}
	fc, f, body := forecastRequest(t, q)
	if fc.Spec().Quantize != "int8" {
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
		t.Errorf("served %v, want the int8 model's %v", g, want.Values)
	}
	if d := want.Values[0][0] - float.Values[0][0]; d == 0 || d > 0.02*float.Values[0][0] || -d > 0.02*float.Values[0][0] {
		t.Errorf("int8 forecast %v vs float32 %v: want within 2%% and not equal", want.Values[0][0], float.Values[0][0])
	}
	cancel()
	if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("serve: %v", err)
	}
}
