package serve_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
)

// otherClassifier is classifyModel trained from another seed: the same
// task and classes, other weights.
func otherClassifier(t testing.TB) *model.Classifier {
	return classifierOf(t, model.Spec{Hidden: 8, Pool: "mean"}, 5, 11)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// TestSwapInFlight: a request that arrived before a Swap is answered by
// the old model even when it computes after it; one that arrives after
// is answered by the new model. Batched and unbatched alike.
func TestSwapInFlight(t *testing.T) {
	a, b := classifyModel(t), otherClassifier(t)
	body := `{"texts":["a fine film with a good plot"]}`
	for _, o := range []serve.Options{{Concurrency: 1, Logger: quiet}, {Concurrency: 1, MaxBatch: 8, Logger: quiet}} {
		want := map[*model.Classifier]string{}
		for _, m := range []*model.Classifier{a, b} {
			_, got := post(t, newServer(t, m, o), body)
			want[m] = string(got)
		}
		if want[a] == want[b] {
			t.Fatalf("the two models answer alike: %s", want[a])
		}
		s, err := serve.New(a, o)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		release := serve.HoldSlots(s)
		before, after := make(chan string, 1), make(chan string, 1)
		go func() { _, b := post(t, ts, body); before <- string(b) }()
		waitFor(t, "the first request to wait for a slot", func() bool { return metricValue(scrape(t, ts.URL, ""), "recur_queue_length") == 1 })
		if err := s.Swap(b, "/runs/b/model.safetensors"); err != nil {
			t.Fatal(err)
		}
		go func() { _, b := post(t, ts, body); after <- string(b) }()
		waitFor(t, "the second request to wait", func() bool { return metricValue(scrape(t, ts.URL, ""), "recur_queue_length") == 2 })
		release()
		if got := <-before; got != want[a] {
			t.Errorf("batch %d: the request from before the swap got %s, want the old model's %s", o.MaxBatch, got, want[a])
		}
		if got := <-after; got != want[b] {
			t.Errorf("batch %d: the request from after the swap got %s, want the new model's %s", o.MaxBatch, got, want[b])
		}
		ts.Close()
	}
}

// TestSwapAndReload: a model of another task, without preprocessing or
// nil is refused and the old one keeps serving; a failed load likewise,
// logged; a good model is swapped in, and /v1/model and the metrics
// follow it.
func TestSwapAndReload(t *testing.T) {
	a, b := classifyModel(t), otherClassifier(t)
	var logs bytes.Buffer
	s, err := serve.New(a, serve.Options{Name: "a.safetensors", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	_, wantA := post(t, ts, `{"texts":["a fine film"]}`)
	bare, err := model.Build(model.Spec{Task: model.Classify, Hidden: 4, Vocab: 10, Classes: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m    model.Model
		want string
	}{{nil, "nil model"}, {lmModel(t), "task is lm"}, {bare, "no text encoder"}} {
		if err := s.Swap(tc.m, "bad.safetensors"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Swap: got %v, want an error containing %q", err, tc.want)
		}
	}
	err = s.Reload(func() (model.Model, string, error) { return nil, "", errors.New("model.safetensors: truncated file") })
	if err == nil || !strings.Contains(logs.String(), "reload failed") || !strings.Contains(logs.String(), "truncated file") {
		t.Errorf("a failed load: error %v, log %q: want both to say why", err, logs.String())
	}
	if _, got := post(t, ts, `{"texts":["a fine film"]}`); string(got) != string(wantA) {
		t.Errorf("after failed swaps the answer changed: %s, want %s", got, wantA)
	}
	if _, _, info := send(t, ts, "GET", "/v1/model", "", nil); !strings.Contains(info, `"name":"a.safetensors"`) {
		t.Errorf("after failed swaps /v1/model shows %s", info)
	}
	if err := s.Reload(func() (model.Model, string, error) { return b, "/runs/b/model.safetensors", nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, info := send(t, ts, "GET", "/v1/model", "", nil); !strings.Contains(info, `"name":"model.safetensors"`) || s.Model().Name != "model.safetensors" {
		t.Errorf("after the swap /v1/model shows %s, Model() %+v", info, s.Model())
	}
	if _, got := post(t, ts, `{"texts":["a fine film"]}`); string(got) == string(wantA) {
		t.Errorf("after the swap the old model still answers: %s", got)
	}
	m := scrape(t, ts.URL, "")
	for series, want := range map[string]float64{
		`recur_model_reloads_total{result="error"}`:                  4,
		`recur_model_reloads_total{result="ok"}`:                     1,
		`recur_model_info{name="model.safetensors",task="classify"}`: 1,
	} {
		if v := metricValue(m, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if strings.Contains(m, `name="a.safetensors"`) {
		t.Errorf("the old model's info is still exported")
	}
}

// TestReadiness: /readyz is ready until Drain, then 503 while every
// other route goes on answering; the probes need no token.
func TestReadiness(t *testing.T) {
	s, err := serve.New(classifyModel(t), serve.Options{AuthToken: "tok", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	if code, _, b := send(t, ts, "GET", "/readyz", "", nil); code != 200 || !strings.Contains(b, `"status":"ready"`) {
		t.Errorf("readyz before draining: %d %s", code, b)
	}
	s.Drain()
	if code, _, b := send(t, ts, "GET", "/readyz", "", nil); code != 503 || !strings.Contains(b, `"status":"draining"`) {
		t.Errorf("readyz while draining: %d %s, want 503 draining", code, b)
	}
	if code, _, _ := send(t, ts, "GET", "/healthz", "", nil); code != 200 {
		t.Errorf("healthz while draining: %d, want 200 (alive)", code)
	}
	if code, _, b := send(t, ts, "POST", "/v1/predict", `{"texts":["a"]}`, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer tok"}); code != 200 {
		t.Errorf("predict while draining: %d %s, want 200", code, b)
	}
}
