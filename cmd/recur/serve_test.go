package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeShutdown trains a tiny forecaster, serves it on a loopback port
// chosen by the system, checks a prediction against the model's own, and
// cancels the context (as SIGINT does): the command must return nil.
func TestServeShutdown(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "4", "--out", dir}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	fc, err := model.LoadForecaster(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	pl := fc.Prep().Pipeline
	vals := make([]float64, pl.Lookback)
	for i := range vals {
		vals[i] = 300 + float64(i*7%50)
	}
	f, err := series.NewFrame(pl.Columns, [][]float64{vals})
	if err != nil {
		t.Fatal(err)
	}
	want, err := fc.Predict(f)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	var logs syncBuffer
	done := make(chan error, 1)
	o := &serveOpts{Model: dir, Addr: "127.0.0.1:0", MaxBody: 1 << 16, Timeout: 5 * time.Second, ready: func(a string) { addrc <- a }}
	go func() { done <- runServe(ctx, o, &logs) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve returned before listening: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start listening within 20s")
	}
	if !strings.Contains(logs.String(), "http://"+addr) {
		t.Errorf("log %q does not give the address %s", logs.String(), addr)
	}
	body, _ := json.Marshal(map[string]any{"values": map[string][]float64{pl.Columns[0]: vals}})
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post("http://"+addr+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct{ Forecast map[string][]float32 }
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %d %s (%v)", resp.StatusCode, b, err)
	}
	if g := got.Forecast[pl.Targets[0]]; len(g) != pl.Horizon || g[0] != float32(want.Values[0][0]) {
		t.Errorf("served forecast %v, want the model's %v", g, want.Values)
	}
	resp, err = c.Get("http://" + addr + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"metrics":{"baselines"`) {
		t.Errorf("model info %s lacks the training metrics", b)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after cancel: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down within 20s of the cancel")
	}
	if _, err := c.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--model is required"},
		{[]string{"serve", "--model", dir, "--max-body", "0"}, "--max-body 0"},
		{[]string{"serve", "--model", dir, "--timeout", "-1s"}, "--timeout -1s"},
		{[]string{"serve", "--model", filepath.Join(dir, "none")}, "--model"},
		{[]string{"serve", "--model", dir, "extra"}, "unexpected argument"},
	} {
		var out bytes.Buffer
		err := runMain(context.Background(), tc.args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
