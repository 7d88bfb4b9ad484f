package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
	"github.com/recur-ml/recur/train"
)

// Tiny models built from a seed: the server must reproduce the model's own
// predictions, whatever the weights are.

const lookback, horizon = 6, 3

// fit is a one-epoch training run: the weights only need to be some.
func fit(seed uint64) model.FitConfig {
	return model.FitConfig{Seed: seed, BatchSize: 2, Train: train.Config{Epochs: 1}}
}

// forecastModel returns a residual forecaster of column y with x as an
// extra input, a log transform of y and a z-score scaler, trained for an
// epoch on a synthetic series, and the frame it was fitted on.
func forecastModel(t testing.TB) (*model.Forecaster, *series.Frame) {
	t.Helper()
	n := 40
	y, x := make([]float64, n), make([]float64, n)
	for i := range n {
		y[i] = 100 + 10*math.Sin(float64(i)/3) + float64(i)
		x[i] = math.Cos(float64(i) / 5)
	}
	f, err := series.NewFrame([]string{"y", "x"}, [][]float64{y, x})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Hidden: 8, Residual: true}, Targets: []string{"y"}, Inputs: []string{"x"},
		Lookback: lookback, Horizon: horizon, Log: true, Scale: series.ZScore, Fit: fit(3)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return m, f
}

var corpus = []string{"a fine film with a good plot", "a dull film", "good acting and a fine story", "bad plot and dull acting"}

func classifyModel(t testing.TB) *model.Classifier {
	return classifierOf(t, model.Spec{Hidden: 8, Pool: "mean"}, 5, 5)
}

// classifierOf trains a classifier of spec on corpus from seed, with
// texts cut to maxLen tokens (0: not cut).
func classifierOf(t testing.TB, spec model.Spec, maxLen int, seed uint64) *model.Classifier {
	t.Helper()
	m, err := model.NewClassifier(model.ClassifyConfig{Spec: spec, Text: model.TextConfig{MaxLen: maxLen}, Fit: fit(seed)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), &text.Labelled{Texts: corpus, Labels: []int{1, 0, 1, 0}, Classes: []string{"neg", "pos"}}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func lmModel(t testing.TB) *model.LanguageModel {
	t.Helper()
	m, err := model.NewLanguageModel(model.LMConfig{Spec: model.Spec{Hidden: 8}, SeqLen: 5, Fit: fit(7)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), strings.Join(corpus, " "), ""); err != nil {
		t.Fatal(err)
	}
	return m
}

func seq2seqModel(t testing.TB) *model.Translator {
	t.Helper()
	m, err := model.NewTranslator(model.TranslateConfig{Spec: model.Spec{Hidden: 8}, Fit: fit(9)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), []text.Pair{{Src: "je suis là", Tgt: "i am here"}, {Src: "il est ici", Tgt: "he is here"}}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func newServer(t testing.TB, m model.Model, o serve.Options) *httptest.Server {
	t.Helper()
	s, err := serve.New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// post sends body to /v1/predict and returns the status and the body.
func post(t testing.TB, ts *httptest.Server, body string) (int, []byte) {
	t.Helper()
	resp, err := ts.Client().Post(ts.URL+"/v1/predict", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// request is a body to post to a server's /v1/predict.
type request struct{ url, body string }

// sameAnswers posts each request alone, then all of them rounds times at
// once, and reports every concurrent answer that is not byte for byte
// the one the request got alone. hold, when not nil, is called before
// the first concurrent round is sent, and the function it returns once
// that round's requests are on their way (to free what hold held).
func sameAnswers(t *testing.T, rounds int, reqs []request, hold func() (release func())) {
	t.Helper()
	want := make([]string, len(reqs))
	for i, r := range reqs {
		code, b := postURL(t, r.url, r.body)
		if code != 200 {
			t.Fatalf("request %d alone: status %d %s", i, code, b)
		}
		want[i] = string(b)
	}
	errs := make(chan string, rounds*len(reqs))
	for round := range rounds {
		var release func()
		if round == 0 && hold != nil {
			release = hold()
		}
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() {
				code, b := postURL(t, r.url, r.body)
				if code != 200 || string(b) != want[i] {
					errs <- fmt.Sprintf("round %d request %d: got %d %s want %s", round, i, code, b, want[i])
				}
			})
		}
		if release != nil {
			release()
		}
		wg.Wait()
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// postURL posts body to url's /v1/predict.
func postURL(t testing.TB, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/v1/predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
